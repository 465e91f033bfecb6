import streamlit as st

from engine import preflight
from engine.settings import ADAPTER_METHODS, PRESET_NOTES
from pages.common import config, data_stats, explain, reset_widgets, setting_widget, settings_rows

st.title("3. Settings")
cfg = config()
st.session_state["settings_seen"] = True

GOALS = {
    "quick": "**Quick demo**: 40 steps, finishes in about 2 minutes on a 2-core laptop CPU with short examples. "
             "Shows clearly that the model learned your format.",
    "balanced": "**Balanced**: one pass over all your examples. Better results; time grows with your data.",
    "thorough": "**Thorough**: three passes, a gentler learning rate and a larger adapter. For the best "
                "model when you have time (or a GPU).",
    "custom": "**Custom**: keep your own values below.",
}
preset = st.radio("What do you want?", list(GOALS), format_func=lambda p: GOALS[p].split(":")[0].strip("*"),
                  index=list(GOALS).index(cfg.training.preset), horizontal=True)
st.markdown(GOALS[preset])
if cfg.method.method in PRESET_NOTES:
    st.caption(PRESET_NOTES[cfg.method.method])
if preset != cfg.training.preset:
    cfg.training.preset = preset
    cfg.apply_preset()
    reset_widgets()
    st.rerun()
if preset != "custom":
    st.caption("Changing a value below keeps this preset's other values; the preset is measured, see docs/presets.md.")


def form(section: str, skip=()):
    rows = settings_rows(section, skip)
    basic = [r for r in rows if not r["advanced"]]
    advanced = [r for r in rows if r["advanced"]]
    cols = st.columns(3)
    for i, row in enumerate(basic):
        with cols[i % 3]:
            setting_widget(cfg, row)
    if advanced:
        with st.expander(f"Advanced {section} settings"):
            cols = st.columns(3)
            for i, row in enumerate(advanced):
                with cols[i % 3]:
                    setting_widget(cfg, row)


st.subheader("Training")
form("training", skip=("preset",))
if cfg.method.method in ADAPTER_METHODS:
    st.subheader("LoRA adapter")
    form("method", skip=("method",))
if cfg.method.method == "dpo":
    st.subheader("Preference tuning (DPO)")
    form("dpo", skip=("start_from",))  # the starting run is chosen on the Model page
st.subheader("Answers in evaluation and chat")
form("generation")

st.subheader("Pre-flight check")
errors = st.session_state.get("setting_errors", set())
if errors:
    st.error(f"Fix {len(errors)} setting(s) above before training: {', '.join(sorted(errors))}.")
    st.stop()
if not cfg.data.train_file:
    st.info("Choose a dataset first (step 1) to see how long training will take.")
    st.page_link("pages/dataset.py", label="Choose a dataset", icon=":material/description:")
    st.stop()
try:
    _, train_rows, _, s = data_stats(cfg)
    check = preflight.preflight(cfg, len(train_rows), s)
except Exception as err:
    explain(err)
    st.stop()
cols = st.columns(4)
cols[0].metric("Steps", check["steps"], help=f"{len(train_rows)} training rows, batch size "
               f"{cfg.training.batch_size} × {cfg.training.grad_accum}")
cols[1].metric("Estimated time", f"{check['seconds'] / 60:.0f} min" if check["seconds"] >= 60
               else f"{check['seconds']:.0f} s", help=f"On {check['device']}, from the measured speed of this "
               "machine; evaluation adds a little.")
cols[2].metric("Memory", f"{check['memory']['total']:.1f} GB")
cols[3].metric("Disk for checkpoints", f"{check['disk_needed_gb'] * 1024:.0f} MB",
               help=f"{check['disk_free_gb']:.0f} GB free")
{"ok": st.success, "tight": st.warning}.get(check["memory_verdict"], st.error)(check["memory_sentence"])
st.caption("Chosen for speed on this machine: " + " ".join(check["levers"]))
if not check["disk_ok"]:
    st.error(f"Not enough free disk: checkpoints need about {check['disk_needed_gb']:.1f} GB, "
             f"{check['disk_free_gb']:.1f} GB are free. Keep fewer checkpoints or free some space.")
st.download_button("Download these settings (YAML)", cfg.to_yaml(), file_name=f"{cfg.name or 'run'}.yaml",
                   mime="text/yaml", help="Repeat the run anywhere with: python -m engine train FILE.yaml")
st.page_link("pages/train.py", label="Next: train", icon=":material/arrow_forward:")
