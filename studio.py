"""The fine-tuning studio: `streamlit run studio.py` (or `make studio`)."""
import streamlit as st

from engine import i18n
from engine.i18n import t


def choose_language() -> None:
    """The sidebar's language choice, kept for the browser session; first the browser's language if the studio
    speaks it, else English. Every page and message below reads it through engine.i18n."""
    if "lang" not in st.session_state:  # a plain key, not the widget's: it survives pages without the sidebar
        st.session_state["lang"] = i18n.pick(st.context.locale)
    st.session_state["lang_choice"] = st.session_state["lang"]
    st.sidebar.selectbox("Langue · Language", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key="lang_choice",
                         on_change=lambda: st.session_state.update(lang=st.session_state["lang_choice"]))
    i18n.set_language(st.session_state["lang"])


choose_language()
st.set_page_config(page_title=t("Fine-tuning studio"), page_icon=":material/model_training:", layout="wide")

PAGES = {
    t("Start"): [st.Page("pages/home.py", title=t("Home"), icon=":material/home:", default=True)],
    t("Teach the model"): [
        st.Page("pages/dataset.py", title=t("1. Dataset"), icon=":material/description:"),
        st.Page("pages/model.py", title=t("2. Model"), icon=":material/memory:"),
        st.Page("pages/settings.py", title=t("3. Settings"), icon=":material/tune:"),
        st.Page("pages/train.py", title=t("4. Train"), icon=":material/monitoring:"),
    ],
    t("See it work"): [
        st.Page("pages/runs.py", title=t("Runs"), icon=":material/folder_open:"),
        st.Page("pages/evaluate.py", title=t("Evaluate"), icon=":material/fact_check:"),
        st.Page("pages/chat.py", title=t("Chat"), icon=":material/chat:"),
        st.Page("pages/arena.py", title=t("Arena"), icon=":material/how_to_vote:"),
        st.Page("pages/compare.py", title=t("Compare runs"), icon=":material/compare_arrows:"),
        st.Page("pages/export.py", title=t("Export"), icon=":material/ios_share:"),
    ],
}

page = st.navigation(PAGES)
page.run()
