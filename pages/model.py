import pandas as pd
import streamlit as st

from engine import i18n, jobs, methods, models, preflight, runs, speed
from engine.i18n import render, t
from engine.settings import set_value
from pages.common import config, data_stats, explain, reset_widgets, settings_help

st.title(t("2. Model"))
jobs.warm_up()  # the training libraries load in the background while the person gets to Start
cfg = config()
device = models.device_info()
st.info(t("This machine: **{device}**.", device=render(device.describe())) + ("" if device.kind == "cuda" else
        " " + t("Training runs on the CPU: small models (up to a few hundred million parameters) train in minutes.")))
st.caption(t("Chosen for speed on this machine:") + " "
           + " ".join(render(n) for n in speed.choose(device, cfg.training.precision, cfg.training.max_length).notes))

kinds = {"default": t("Embedded default"), "hub": t("Recommended Hub model"), "folder": t("My own folder")}
is_local = cfg.model.name not in {r["id"] for r in models.RECOMMENDED}
kind = st.radio(t("Start from"), list(kinds), format_func=kinds.get, horizontal=True,
                index=0 if cfg.model.name == models.DEFAULT_NAME else 2 if is_local else 1)

if kind == "default":
    cfg.model.name = models.DEFAULT_NAME
    st.markdown(t("**{model}**: 135 million parameters, trained by Hugging Face to follow instructions. Shipped with "
                  "the studio, works offline, trains on a laptop CPU in minutes.", model=t(models.DEFAULT_LABEL)))
elif kind == "hub":
    hub = [r for r in models.RECOMMENDED if r["id"] != models.DEFAULT_NAME]
    good_for = [r["good_for"] for r in hub]  # msgids from engine/models.py
    st.dataframe(pd.DataFrame([{t("model"): r["id"], t("size"): r["params"], t("good for"): t(text)}
                               for r, text in zip(hub, good_for)]), hide_index=True, width="stretch")
    ids = [r["id"] for r in hub]
    cfg.model.name = st.selectbox(t("Model"), ids, index=ids.index(cfg.model.name) if cfg.model.name in ids else 0)
    st.caption(t("Downloaded from the Hugging Face Hub the first time (needs internet), then kept in the cache."))
else:
    folder = st.text_input(t("Path of a model folder on this machine (with config.json and *.safetensors)"),
                           "" if cfg.model.name == models.DEFAULT_NAME else cfg.model.name)
    if folder:
        cfg.model.name = folder
    cfg.model.allow_pickle = st.checkbox(t("Allow pickle weight files (.bin)"), cfg.model.allow_pickle,
                                         help=t("Pickle files can run code when loaded. Only for models you trust."))

names = list(methods.METHODS)
method = st.radio(t("What it learns from"), names, index=names.index(cfg.method.method),
                  format_func=lambda name: t(methods.get(name).label), captions=[t(m.description) for m in
                                                                                methods.METHODS.values()])
if method != cfg.method.method:
    set_value(cfg, "method.method", method)
    if cfg.method.weights not in methods.get(method).weights:
        set_value(cfg, "method.weights", methods.get(method).weights[0])
    cfg.apply_preset()  # each method has its own measured presets (its own learning rate)
    reset_widgets()
WEIGHTS = {"lora": i18n.N_("LoRA: trains a small adapter (recommended)"),
           "qlora": i18n.N_("QLoRA: LoRA on a 4-bit model (NVIDIA GPU only)"), "full": i18n.N_("Full: trains every weight")}
allowed = [w for w in WEIGHTS if w in cfg.method_info.weights]
weights = st.radio(t("Which weights change"), allowed, format_func=lambda w: t(WEIGHTS[w]), horizontal=True,
                   index=allowed.index(cfg.method.weights) if cfg.method.weights in allowed else 0)
if weights != cfg.method.weights:
    set_value(cfg, "method.weights", weights)
if cfg.method_info.starts_from_runs:
    start_runs = [r.id for r in runs.finished_adapter_runs(cfg.model.name)]
    options = ["", *start_runs]
    cfg.method.start_from = st.selectbox(
        t("Start from a finished run"), options,
        index=options.index(cfg.method.start_from) if cfg.method.start_from in options else 0,
        format_func=lambda r: t("the model itself (no earlier run)") if not r else t("finished LoRA run {run}", run=r),
        help=settings_help("method.start_from"))
else:
    cfg.method.start_from = ""

st.subheader(t("Will it fit?"))
try:
    with st.spinner(t("Reading the model's size…")):
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
estimates = preflight.weights_estimates(cfg, longest)
rows = [{t("weights"): r["weights"].upper(), t("trained weights"): t("{millions:.1f} M", millions=r["trained"] / 1e6),
         t("memory needed"): t("{gb:.1f} GB", gb=r["memory_gb"]), t("verdict"): t(r["verdict"]),
         "": render(r["sentence"])} for r in estimates]
length = (t("your longest example ({tokens} tokens)", tokens=min(longest, cfg.training.max_length)) if longest else
          t("max length {tokens}", tokens=cfg.training.max_length))
st.markdown(t("**{millions:.0f} million parameters**, {layers} layers. Estimated peak memory at batch size {batch} "
              "and {length}:", millions=shape["parameters"] / 1e6, layers=shape["layers"],
              batch=cfg.training.batch_size, length=length))
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
chosen = next(r for r in estimates if r["weights"] == cfg.method.weights)
{"ok": st.success, "tight": st.warning}.get(chosen["verdict"], st.error)(
    t("{method}: {sentence}", method=cfg.method.weights.upper(), sentence=render(chosen["sentence"])))
st.session_state["model_chosen"] = True
st.page_link("pages/settings.py", label=t("Next: settings"), icon=":material/arrow_forward:")
