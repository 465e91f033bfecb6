import pandas as pd
import streamlit as st

from engine import dpo, models, preflight, speed
from engine.settings import set_value
from pages.common import config, data_stats, explain, reset_widgets, settings_help

st.title("2. Model")
cfg = config()
device = models.device_info()
st.info(f"This machine: **{device.describe()}**." + ("" if device.kind == "cuda" else
        " Training runs on the CPU: small models (up to a few hundred million parameters) train in minutes."))
st.caption("Chosen for speed on this machine: "
           + " ".join(speed.choose(device, cfg.training.precision, cfg.training.max_length).notes))

kinds = ["Embedded default", "Recommended Hub model", "My own folder"]
is_local = cfg.model.name not in {r["id"] for r in models.RECOMMENDED}
kind = st.radio("Start from", kinds, horizontal=True,
                index=0 if cfg.model.name == models.DEFAULT_NAME else 2 if is_local else 1)

if kind == "Embedded default":
    cfg.model.name = models.DEFAULT_NAME
    st.markdown(f"**{models.DEFAULT_LABEL}**: 135 million parameters, trained by Hugging Face to follow "
                "instructions. Shipped with the studio, works offline, trains on a laptop CPU in minutes.")
elif kind == "Recommended Hub model":
    hub = [r for r in models.RECOMMENDED if r["id"] != models.DEFAULT_NAME]
    st.dataframe(pd.DataFrame(hub).rename(columns={"id": "model", "params": "size", "good_for": "good for"}),
                 hide_index=True, width="stretch")
    ids = [r["id"] for r in hub]
    cfg.model.name = st.selectbox("Model", ids, index=ids.index(cfg.model.name) if cfg.model.name in ids else 0)
    st.caption("Downloaded from the Hugging Face Hub the first time (needs internet), then kept in the cache.")
else:
    folder = st.text_input("Path of a model folder on this machine (with config.json and *.safetensors)",
                           "" if cfg.model.name == models.DEFAULT_NAME else cfg.model.name)
    if folder:
        cfg.model.name = folder
    cfg.model.allow_pickle = st.checkbox("Allow pickle weight files (.bin)", cfg.model.allow_pickle,
                                         help="Pickle files can run code when loaded. Only for models you trust.")

methods = {"lora": "LoRA: trains a small adapter (recommended)", "full": "Full: trains every weight",
           "qlora": "QLoRA: LoRA on a 4-bit model (NVIDIA GPU only)",
           "dpo": "DPO: teaches which of two answers is better (preference pairs, LoRA adapter)"}
method = st.radio("How to train", list(methods), format_func=methods.get, index=list(methods).index(cfg.method.method))
if method != cfg.method.method:
    set_value(cfg, "method.method", method)
    cfg.apply_preset()  # each method has its own measured presets (DPO's learning rate is not SFT's)
    reset_widgets()
if method == "dpo":
    start_runs = [r.id for r in dpo.finished_lora_runs(cfg.model.name)]
    options = ["", *start_runs]
    cfg.dpo.start_from = st.selectbox(
        "Start DPO from", options, index=options.index(cfg.dpo.start_from) if cfg.dpo.start_from in options else 0,
        format_func=lambda r: "the model itself (no earlier run)" if not r else f"finished LoRA run {r}",
        help=settings_help("dpo.start_from"))

st.subheader("Will it fit?")
try:
    with st.spinner("Reading the model's size…"):
        shape = preflight.model_shape(cfg.model.name)
except Exception as err:
    explain(err)
    st.stop()
longest = None
if cfg.data.train_file:
    try:
        longest = data_stats(cfg)[3].get("longest")
    except Exception:
        longest = None  # the Dataset page explains data problems; estimate at the max length meanwhile
rows = [{"method": r["method"].upper(), "trained weights": f"{r['trained'] / 1e6:,.1f} M",
         "memory needed": f"{r['memory_gb']:.1f} GB", "verdict": r["verdict"], "": r["sentence"]}
        for r in preflight.method_estimates(cfg, longest)]
length = f"your longest example ({min(longest, cfg.training.max_length)} tokens)" if longest else \
    f"max length {cfg.training.max_length}"
st.markdown(f"**{shape['parameters'] / 1e6:,.0f} million parameters**, {shape['layers']} layers. Estimated peak "
            f"memory at batch size {cfg.training.batch_size} and {length}:")
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
chosen = next(r for r in rows if r["method"] == method.upper())
{"ok": st.success, "tight": st.warning}.get(chosen["verdict"], st.error)(f"{method.upper()}: {chosen['']}")
st.session_state["model_chosen"] = True
st.page_link("pages/settings.py", label="Next: settings", icon=":material/arrow_forward:")
