import pandas as pd
import streamlit as st

from engine import i18n, runs
from engine.i18n import t
from pages.live import live_run

st.title(t("Runs"))
found = runs.list_runs()
if not found:
    st.info(t("No runs yet. Train one on the Train page."))
    st.page_link("pages/train.py", label=t("4. Train"), icon=":material/monitoring:")
    st.stop()

rows = []
for run in found:
    s = run.summary()
    rows.append({t("run"): s["id"], t("status"): t(runs.STATE_NAMES.get(s["state"], s["state"])),
                 t("steps"): f"{s['step']}/{s['max_steps']}",
                 t("validation loss"): i18n.number(s.get("eval_loss"), 3),
                 t("first validation loss"): i18n.number(s.get("first_eval_loss"), 3),
                 t("model"): s["model"], t("data"): s["data"], t("method"): s["method"]})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

ids = [r.id for r in found]
default = st.session_state.get("run_id")
chosen = st.selectbox(t("Open a run"), ids, index=ids.index(default) if default in ids else 0)
run = runs.get_run(chosen)
live_run(run.id, key="runs")
with st.expander(t("Settings of this run")):
    st.code(run.config_path.read_text(encoding="utf-8"), language="yaml")
if run.can_resume():
    st.page_link("pages/train.py", label=t("Resume it on the Train page"), icon=":material/resume:",
                 query_params={"run": run.id})
