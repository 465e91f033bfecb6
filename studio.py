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
    "See it work": [
        st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:"),
        st.Page("pages/compare.py", title="Compare runs", icon=":material/compare_arrows:"),
        st.Page("pages/export.py", title="Export", icon=":material/ios_share:"),
    ],
}

page = st.navigation(PAGES)
page.run()
