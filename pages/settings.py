import pandas as pd
import streamlit as st

from engine import evaluate, generation, i18n, jobs, preflight
from engine.i18n import render, t
from engine.sections import ADAPTER_WEIGHTS
from engine.settings import PRESET_TEXT
from pages.common import config, data_stats, explain, reset_widgets, setting_widget, settings_rows

st.title(t("3. Settings"))
jobs.warm_up()  # the training libraries load in the background while the person gets to Start
cfg = config()
st.session_state["settings_seen"] = True

preset = st.radio(t("What do you want?"), list(PRESET_TEXT), format_func=lambda p: t(PRESET_TEXT[p][0]),
                  index=list(PRESET_TEXT).index(cfg.training.preset), horizontal=True)
st.markdown(f"**{t(PRESET_TEXT[preset][0])}**: {t(PRESET_TEXT[preset][1])}")
if cfg.method_info.preset_note:
    st.caption(t(cfg.method_info.preset_note))
if preset != cfg.training.preset:
    cfg.training.preset = preset
    cfg.apply_preset()
    reset_widgets()
    st.rerun()
if preset != "custom":
    st.caption(t("Changing a value below keeps this preset's other values; the preset is measured, see "
                 "docs/presets.md."))

ADVANCED = {"training": i18n.N_("Advanced training settings"), "method": i18n.N_("Advanced LoRA settings"),
            "generation": i18n.N_("Advanced answer settings")}


def form(section: str, skip=()):
    rows = settings_rows(section, skip)
    wide = [r for r in rows if r["type"] == "list"]  # a list setting is built on the page's whole width
    basic = [r for r in rows if not r["advanced"] and r not in wide]
    advanced = [r for r in rows if r["advanced"] and r not in wide]
    for row in wide:
        setting_widget(cfg, row)
    cols = st.columns(3)
    for i, row in enumerate(basic):
        with cols[i % 3]:
            setting_widget(cfg, row)
    if advanced:
        with st.expander(t(ADVANCED.get(section, i18n.N_("Advanced settings")))):
            cols = st.columns(3)
            for i, row in enumerate(advanced):
                with cols[i % 3]:
                    setting_widget(cfg, row)


def method_preview(cfg, preview) -> None:
    st.markdown(f"**{t(preview.TITLE)}**")
    st.caption(t(preview.CAPTION))
    if st.button(t(preview.BUTTON), icon=":material/science:"):
        try:
            with st.spinner(t("Writing answers and scoring them…")):
                st.session_state["method_preview"] = (cfg.to_yaml(), evaluate.preview_method(cfg))
        except Exception as err:
            explain(err)
    made_with, result = st.session_state.get("method_preview", (None, None))
    if result is None or result.get("method") not in (None, cfg.method.method):
        return
    if made_with != cfg.to_yaml():
        st.caption(t("The settings changed since this preview: run it again to see them at work."))
    for level, text in preview.findings(result):
        getattr(st, level)(render(text))
    table = preview.rows(result)
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    st.caption(t("{rows} rows in {seconds:.0f} s.", rows=len(table), seconds=result.get("seconds", 0)))


st.subheader(t("Training"))
form("training", skip=("preset",))
if cfg.method.weights in ADAPTER_WEIGHTS:
    st.subheader(t("LoRA adapter"))
    form("method", skip=("method", "weights", "start_from"))  # chosen on the Model page
if cfg.method_info.section:  # the method's own settings
    st.subheader(t(cfg.method_info.label))
    form(cfg.method_info.section)
if cfg.method_info.preview:  # the method's own settings at work, before training (engine/methods/<name>/preview.py)
    method_preview(cfg, cfg.method_info.preview)
st.subheader(t("Answers in evaluation and chat"))
form("generation")
measured = None
if cfg.data.train_file and not st.session_state.get("setting_errors"):
    try:
        measured = generation.answer_tokens(data_stats(cfg)[3])
    except Exception:  # the pre-flight check below says what is wrong with the data
        pass
st.caption(render(generation.length_note(cfg.generation.max_new_tokens, measured)))

st.subheader(t("Pre-flight check"))
errors = st.session_state.get("setting_errors", set())
if errors:
    st.error(t("Fix {count} setting(s) above before training: {names}.", count=len(errors),
               names=", ".join(sorted(errors))))
    st.stop()
if not cfg.data.train_file:
    st.info(t("Choose a dataset first (step 1) to see how long training will take."))
    st.page_link("pages/dataset.py", label=t("Choose a dataset"), icon=":material/description:")
    st.stop()
try:
    _, train_rows, _, s = data_stats(cfg)
    check = preflight.preflight(cfg, len(train_rows), s)
except Exception as err:
    explain(err)
    st.stop()
cols = st.columns(4)
cols[0].metric(t("Steps"), i18n.number(check["steps"], 0),
               help=t("{rows} training rows, batch size {batch} × {accum}", rows=len(train_rows),
                      batch=cfg.training.batch_size, accum=cfg.training.grad_accum))
cols[1].metric(t("Estimated time"), t("{minutes:.0f} min", minutes=check["seconds"] / 60) if check["seconds"] >= 60
               else t("{seconds:.0f} s", seconds=check["seconds"]),
               help=t("On {device}, from the measured speed of this machine; evaluation adds a little.",
                      device=render(check["device"])))
cols[2].metric(t("Memory"), t("{gb:.1f} GB", gb=check["memory"]["total"]))
cols[3].metric(t("Disk for checkpoints"), t("{mb:.0f} MB", mb=check["disk_needed_gb"] * 1024),
               help=t("{gb:.0f} GB free", gb=check["disk_free_gb"]))
if check["plan"]:  # the time budget in words: passes, steps, time; the rate rule; a warning when one pass won't fit
    words = preflight.plan_words(check["plan"])
    st.info(t("The plan for {minutes:g} minutes:", minutes=cfg.training.minutes) + " " + render(words[0][1]) + " "
            + t("It is corrected once the first steps are timed; the best validation's model is kept."))
    for level, note in words[1:]:
        (st.warning if level == "warning" else st.caption)(render(note))
{"ok": st.success, "tight": st.warning}.get(check["memory_verdict"], st.error)(render(check["memory_sentence"]))
st.caption(t("Chosen for speed on this machine:") + " " + " ".join(render(n) for n in check["levers"]))
for advice in check["advice"]:  # what the method says about this data (e.g. the balance of its two sides)
    st.info(render(advice))
if check["everyday_rows"]:
    st.caption(t("Keeping everyday skills: {rows} of the starting model's own answers to everyday questions are mixed "
                 "into your {train} rows.", rows=check["everyday_rows"], train=len(train_rows))
               + ("" if check["everyday_cached"] else " " + t("They are written once for this model before the "
                                                             "first step (included in the estimated time).")))
if not check["disk_ok"]:
    st.error(t("Not enough free disk: checkpoints need about {needed:.1f} GB, {free:.1f} GB are free. Keep fewer "
               "checkpoints or free some space.", needed=check["disk_needed_gb"], free=check["disk_free_gb"]))
st.download_button(t("Download these settings (YAML)"), cfg.to_yaml(), file_name=f"{cfg.name or 'run'}.yaml",
                   mime="text/yaml", help=t("Repeat the run anywhere with: python -m engine train FILE.yaml"))
st.page_link("pages/train.py", label=t("Next: train"), icon=":material/arrow_forward:")
