import shutil

import streamlit as st

from engine import export, jobs, report
from engine.gguf_export import K_QUANT_NOTE, TYPES
from pages.common import explain, pick_run

st.title("Export")
st.markdown("Take the model home, repeat the run elsewhere, or show the result to others.")
run = pick_run()
if run is None:
    st.stop()

st.subheader("The model")
left, right = st.columns(2)
with left:
    if run.adapter_dir.exists():
        try:
            zipped = export.adapter_zip(run)
            st.download_button("Download the LoRA adapter (zip)", zipped.read_bytes(), file_name=zipped.name,
                               mime="application/zip", icon=":material/download:",
                               help="PEFT's standard format: load it on top of the base model with PeftModel.")
        except Exception as err:
            explain(err)
with right:
    if st.button("Build the merged model", icon=":material/merge:",
                 help="The base model with the adapter folded in: a normal transformers model (safetensors, "
                      "tokenizer and a model card)."):
        try:
            with st.spinner("Merging…"):
                folder = export.merged_model(run)
                archive = shutil.make_archive(str(folder), "zip", folder)
            st.session_state["merged"] = archive
        except Exception as err:
            explain(err)
    archive = st.session_state.get("merged")
    if archive and run.id in archive:
        st.success(f"Merged model written to `{archive[:-4]}`.")
        with open(archive, "rb") as fh:
            st.download_button("Download the merged model (zip)", fh, file_name=f"{run.id}-merged.zip",
                               mime="application/zip", icon=":material/download:")

st.subheader("GGUF for Ollama / llama.cpp / LM Studio")
st.markdown("One file that runs on any laptop without Python: in Ollama, llama.cpp or LM Studio. The merged model "
            "is built first if needed; writing takes tens of seconds.")
exports = jobs.EXPORTS  # one per server process, shared by every tab
gguf_job = exports.current()
out_type = st.radio("GGUF type", list(TYPES), format_func=str.upper, captions=list(TYPES.values()),
                    horizontal=True, disabled=gguf_job is not None)
st.caption(K_QUANT_NOTE)
if gguf_job is None and st.button("Write the GGUF file", icon=":material/deployed_code:"):
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
    st.progress(min(fraction, 1.0), text=f"Writing the GGUF file for {gguf_job.run.id}: {text}")


gguf_progress()
if run.id in exports.error:
    st.error(exports.error[run.id], icon=":material/warning:")
made = exports.done.get(run.id)
if made:
    file_name = made["gguf"].rsplit("/", 1)[-1]
    st.success(f"`{file_name}` written: {made['size_bytes'] / 1e6:.0f} MB ({made['type'].upper()}) in "
               f"{made['seconds']:.0f} s.")
    with open(made["zip"], "rb") as fh:
        st.download_button("Download GGUF + Modelfile (zip)", fh, file_name=made["zip"].rsplit("/", 1)[-1],
                           mime="application/zip", icon=":material/download:")
    st.markdown("**Ollama**: unzip, then in that folder:")
    st.code(f"{made['commands']['create']}\n{made['commands']['run']}", language="bash")
    st.markdown("**llama.cpp**: chat in the terminal, or serve an OpenAI-compatible API:")
    st.code(f"{made['commands']['llama_cli']}\n{made['commands']['llama_server']}", language="bash")
    st.markdown("**LM Studio**: drag the `.gguf` file into the app. The Modelfile, for Ollama:")
    st.code(made["modelfile_text"], language="dockerfile")

st.subheader("Repeat this run")
st.download_button("Download the settings (YAML)", run.config_path.read_bytes(), file_name=f"{run.id}.yaml",
                   mime="text/yaml", icon=":material/download:")
commands = export.commands(run)
st.markdown("On any machine with this project, one GPU or none:")
st.code(commands["train"], language="bash")
st.markdown("On several GPUs (DDP; DeepSpeed or FSDP through `accelerate config`):")
st.code(commands["multi_gpu"], language="bash")

st.subheader("Stakeholder report")
st.markdown("One HTML file with the data, the settings in plain words, the loss curves, the scores before and "
            "after, and examples. It opens in any browser, offline.")
if st.button("Build the report", icon=":material/summarize:"):
    try:
        with st.spinner("Writing the report…"):
            st.session_state["report"] = str(report.save(run))
    except Exception as err:
        explain(err)
made = st.session_state.get("report")
if made and run.id in made:
    with open(made, "rb") as fh:
        st.download_button("Download the report (HTML)", fh, file_name=f"{run.id}-report.html", mime="text/html",
                           icon=":material/download:")

st.subheader("Share on the Hugging Face Hub")
with st.form("hub"):
    repo = st.text_input("Repository", placeholder="your-name/my-model")
    token = st.text_input("Access token (write)", type="password", help="From huggingface.co/settings/tokens. "
                          "It is used for this upload only and not stored.")
    private = st.checkbox("Private repository", value=True)
    merged = st.checkbox("Upload the merged model instead of the adapter")
    if st.form_submit_button("Upload", icon=":material/cloud_upload:"):
        try:
            with st.spinner("Uploading…"):
                url = export.push_to_hub(run, repo, token, private, merged)
            st.success(f"Uploaded: {url}")
        except Exception as err:
            explain(err)
