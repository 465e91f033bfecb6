import shutil

import streamlit as st

from engine import export, jobs, report
from engine.export.gguf import K_QUANT_NOTE, TYPES
from engine.i18n import render, t
from pages.common import explain, pick_run
from pages.serving import serve_section

st.title(t("Export"))
st.markdown(t("Take the model home, repeat the run elsewhere, or show the result to others."))
run = pick_run()
if run is None:
    st.stop()

st.subheader(t("The model"))
left, right = st.columns(2)
with left:
    if run.adapter_dir.exists():
        try:
            zipped = export.adapter_zip(run)
            st.download_button(t("Download the LoRA adapter (zip)"), zipped.read_bytes(), file_name=zipped.name,
                               mime="application/zip", icon=":material/download:",
                               help=t("PEFT's standard format: load it on top of the base model with PeftModel."))
        except Exception as err:
            explain(err)
with right:
    if st.button(t("Build the merged model"), icon=":material/merge:",
                 help=t("The base model with the adapter folded in: a normal transformers model (safetensors, "
                        "tokenizer and a model card).")):
        try:
            with st.spinner(t("Merging…")):
                folder = export.merged_model(run)
                archive = shutil.make_archive(str(folder), "zip", folder)
            st.session_state["merged"] = archive
        except Exception as err:
            explain(err)
    archive = st.session_state.get("merged")
    if archive and run.id in archive:
        st.success(t("Merged model written to `{folder}`.", folder=archive[:-4]))
        with open(archive, "rb") as fh:
            st.download_button(t("Download the merged model (zip)"), fh, file_name=f"{run.id}-merged.zip",
                               mime="application/zip", icon=":material/download:")

st.subheader(t("GGUF for Ollama / llama.cpp / LM Studio"))
st.markdown(t("One file that runs on any laptop without Python: in Ollama, llama.cpp or LM Studio. The merged model "
              "is built first if needed; writing takes tens of seconds."))
exports = jobs.EXPORTS  # one per server process, shared by every tab
gguf_job = exports.current()
out_type = st.radio(t("GGUF type"), list(TYPES), format_func=str.upper, captions=[t(c) for c in TYPES.values()],
                    horizontal=True, disabled=gguf_job is not None)
st.caption(t(K_QUANT_NOTE))
if gguf_job is None and st.button(t("Write the GGUF file"), icon=":material/deployed_code:"):
    try:
        exports.start(run, out_type)
        st.rerun()
    except Exception as err:
        explain(err)


@st.fragment(run_every=1.0 if gguf_job else None)
def gguf_progress():
    if gguf_job is None:
        return
    if exports.current() is None:
        st.rerun()  # once: the file is written, show it
    fraction, text = gguf_job.progress
    st.progress(min(fraction, 1.0), text=t("Writing the GGUF file for {run}: {step}", run=gguf_job.run.id,
                                           step=render(text)))


gguf_progress()
if run.id in exports.error:
    st.error(render(exports.error[run.id]), icon=":material/warning:")
made = exports.done.get(run.id)
if made:
    file_name = made["gguf"].rsplit("/", 1)[-1]
    st.success(t("`{file}` written: {mb:.0f} MB ({type}) in {seconds:.0f} s.", file=file_name,
                 mb=made["size_bytes"] / 1e6, type=made["type"].upper(), seconds=made["seconds"]))
    with open(made["zip"], "rb") as fh:
        st.download_button(t("Download GGUF + Modelfile (zip)"), fh, file_name=made["zip"].rsplit("/", 1)[-1],
                           mime="application/zip", icon=":material/download:")
    st.markdown(t("**Ollama**: unzip, then in that folder:"))
    st.code(f"{made['commands']['create']}\n{made['commands']['run']}", language="bash")
    st.markdown(t("**llama.cpp**: chat in the terminal, or serve an OpenAI-compatible API:"))
    st.code(f"{made['commands']['llama_cli']}\n{made['commands']['llama_server']}", language="bash")
    st.markdown(t("**LM Studio**: drag the `.gguf` file into the app. The Modelfile, for Ollama:"))
    st.code(made["modelfile_text"], language="dockerfile")

serve_section(run)

st.subheader(t("Repeat this run"))
st.download_button(t("Download the settings (YAML)"), run.config_path.read_bytes(), file_name=f"{run.id}.yaml",
                   mime="text/yaml", icon=":material/download:")
commands = export.commands(run)
st.markdown(t("On any machine with this project, one GPU or none:"))
st.code(commands["train"], language="bash")
st.markdown(t("On several GPUs (DDP; DeepSpeed or FSDP through `accelerate config`):"))
st.code(commands["multi_gpu"], language="bash")

st.subheader(t("Stakeholder report"))
st.markdown(t("One HTML file with the data, the settings in plain words, the loss curves, the scores before and "
              "after, and examples. It opens in any browser, offline."))
if st.button(t("Build the report"), icon=":material/summarize:"):
    try:
        with st.spinner(t("Writing the report…")):
            st.session_state["report"] = str(report.save(run))
    except Exception as err:
        explain(err)
made = st.session_state.get("report")
if made and run.id in made:
    with open(made, "rb") as fh:
        st.download_button(t("Download the report (HTML)"), fh, file_name=f"{run.id}-report.html", mime="text/html",
                           icon=":material/download:")

st.subheader(t("Share on the Hugging Face Hub"))
with st.form("hub"):
    repo = st.text_input(t("Repository"), placeholder=t("your-name/my-model"))
    token = st.text_input(t("Access token (write)"), type="password", help=t("From huggingface.co/settings/tokens. "
                          "It is used for this upload only and not stored."))
    private = st.checkbox(t("Private repository"), value=True)
    merged = st.checkbox(t("Upload the merged model instead of the adapter"))
    if st.form_submit_button(t("Upload"), icon=":material/cloud_upload:"):
        try:
            with st.spinner(t("Uploading…")):
                url = export.push_to_hub(run, repo, token, private, merged)
            st.success(t("Uploaded: {url}", url=url))
        except Exception as err:
            explain(err)
