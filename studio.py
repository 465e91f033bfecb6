"""The fine-tuning studio: `streamlit run studio.py` (or `make studio`)."""
import streamlit as st

st.set_page_config(page_title="Fine-tuning studio", page_icon=":material/model_training:", layout="wide")

PAGES = {
    "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Teach the model": [
        st.Page("pages/dataset.py", title="1. Dataset", icon=":material/description:"),
        st.Page("pages/model.py", title="2. Model", icon=":material/memory:"),
        st.Page("pages/settings.py", title="3. Settings", icon=":material/tune:"),
        st.Page("pages/train.py", title="4. Train", icon=":material/monitoring:"),
    ],
    "Results": [st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:")],
}

page = st.navigation(PAGES)
page.run()
