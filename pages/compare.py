import pandas as pd
import streamlit as st

from engine import charts, runs

st.title("Compare runs")
found = runs.list_runs()
if len(found) < 2:
    st.info("Compare needs at least two runs.")
    st.stop()
ids = [r.id for r in found]
chosen = st.multiselect("Runs", ids, default=ids[:2])
if len(chosen) < 2:
    st.info("Pick two or more runs.")
    st.stop()
selected = [runs.get_run(i) for i in chosen]
metrics = {r.id: r.metrics() for r in selected}
left, right = st.columns(2)
left.plotly_chart(charts.compare_losses(metrics, "loss"), width="stretch")
right.plotly_chart(charts.compare_losses(metrics, "eval_loss"), width="stretch")

settings, results = runs.compare(selected)
st.subheader("Results")
st.dataframe(pd.DataFrame(results), hide_index=True, width="stretch")
st.subheader("Settings")
only = st.toggle("Only the settings that differ", value=True)
table = pd.DataFrame(settings)
if only:
    table = table[table["differs"]]
st.dataframe(table.style.apply(lambda row: ["background-color: #fff3cd" if row["differs"] else ""] * len(row),
                               axis=1), hide_index=True, width="stretch")
