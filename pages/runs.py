import pandas as pd
import streamlit as st

from engine import runs
from pages.common import live_run

st.title("Runs")
found = runs.list_runs()
if not found:
    st.info("No runs yet. Train one on the Train page.")
    st.page_link("pages/train.py", label="4. Train", icon=":material/monitoring:")
    st.stop()

rows = []
for run in found:
    s = run.summary()
    rows.append({"run": s["id"], "status": s["state"], "steps": f"{s['step']}/{s['max_steps']}",
                 "validation loss": s.get("eval_loss"), "first validation loss": s.get("first_eval_loss"),
                 "model": s["model"], "data": s["data"], "method": s["method"]})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

ids = [r.id for r in found]
default = st.session_state.get("run_id")
chosen = st.selectbox("Open a run", ids, index=ids.index(default) if default in ids else 0)
run = runs.get_run(chosen)
live_run(run.id, key="runs")
with st.expander("Settings of this run"):
    st.code(run.config_path.read_text(encoding="utf-8"), language="yaml")
if run.can_resume():
    st.page_link("pages/train.py", label="Resume it on the Train page", icon=":material/resume:", query_params={"run": run.id})
