import shutil

import streamlit as st

from engine import export, report
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
