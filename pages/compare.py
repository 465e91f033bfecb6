import pandas as pd
import streamlit as st

from engine import charts, i18n, methods, runs
from engine.i18n import t

st.title(t("Compare runs"))
found = runs.list_runs()
if len(found) < 2:
    st.info(t("Compare needs at least two runs."))
    st.stop()
ids = [r.id for r in found]
chosen = st.multiselect(t("Runs"), ids, default=ids[:2])
if len(chosen) < 2:
    st.info(t("Pick two or more runs."))
    st.stop()
selected = [runs.get_run(i) for i in chosen]
metrics = {r.id: r.metrics() for r in selected}
left, right = st.columns(2)
left.plotly_chart(charts.compare_losses(metrics, "loss"), width="stretch")
right.plotly_chart(charts.compare_losses(metrics, "eval_loss"), width="stretch")

settings, results = runs.compare(selected)
st.subheader(t("Results"))
shown = {"status": lambda v: t(runs.STATE_NAMES.get(v, v)), "validation loss": lambda v: i18n.number(v, 3),
         "training loss": lambda v: i18n.number(v, 3), "minutes": lambda v: i18n.number(v, 1)}
for method in methods.METHODS.values():  # each method's own columns, formatted as it says
    for column, how in method.views.compare_formats().items():
        shown[column] = i18n.percent if how == "percent" else (lambda v, digits=how: i18n.number(v, digits))
st.dataframe(pd.DataFrame([{t(k): shown.get(k, lambda v: v)(v) for k, v in row.items()} for row in results]),
             hide_index=True, width="stretch")
st.subheader(t("Settings"))
only = st.toggle(t("Only the settings that differ"), value=True)
table = pd.DataFrame(settings)
if only:
    table = table[table["differs"]]
table = table.rename(columns={"setting": t("setting"), "differs": t("differs")})
st.dataframe(table.style.apply(lambda row: ["background-color: #fff3cd" if row[t("differs")] else ""] * len(row),
                               axis=1), hide_index=True, width="stretch")
