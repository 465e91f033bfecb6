import pandas as pd
import streamlit as st

from engine import everyday, i18n, jobs
from engine.runs import kept_words, load_results
from engine.i18n import render, t
from engine.paths import read_json
from pages.common import explain, pick_run, show_in_full

st.title(t("Evaluate"))
st.markdown(t("Did it work? The model as it started and your fine-tuned model answer the same held-out rows."))
run = pick_run()
if run is None:
    st.stop()
evals = jobs.EVALS  # one per server process, shared by every tab
job = evals.current()
config = run.config()
kept = kept_words(run.status())
if kept:  # the tuned model below is the one the run kept
    st.caption(render(kept))

if job is None:
    rows = st.number_input(t("Held-out rows to answer"), 1, 10_000, config.generation.eval_rows,
                           help=t("More rows give a surer answer and take longer (about 1 s per row on a CPU)."))
    if st.button(t("Evaluate"), type="primary", icon=":material/fact_check:"):
        try:
            evals.start(run, rows=int(rows))
            st.rerun()
        except Exception as err:
            explain(err)
else:
    st.info(t("Evaluating run **{run}**…", run=job.run.id))
    if st.button(t("Cancel"), icon=":material/cancel:"):
        evals.cancel()

if run.id in evals.error:
    st.error(render(evals.error[run.id]))


@st.fragment(run_every=1.5 if job else None)
def progress():
    if job is None:
        return
    if evals.current() is None:
        st.rerun()  # once: the evaluation is over, show its results
    state = read_json(run.eval_dir / "progress.json") or {"done": 0, "total": 1, "phase": "loading the models"}
    phase = state["phase"]  # a msgid from engine/evaluate.py
    st.progress(state["done"] / max(state["total"], 1),
                text=t("{phase}: {done} of {total} answers", phase=t(phase), done=state["done"],
                       total=state["total"]))


PHASES = [i18n.N_("loading the models")]  # the other phases are named in each method's evaluate.py
progress()

results = load_results(run)
if results is None:
    st.caption(t("No evaluation of this run yet."))
    st.stop()
views = config.method_info.views

st.subheader(t("Scores"))
left, right = st.columns([3, 2])
left.dataframe(pd.DataFrame(views.summary_rows(results)), hide_index=True, width="stretch")
left.caption(views.summary_caption())
note = views.summary_note(results)
if note:
    left.markdown(note)
right.plotly_chart(views.summary_chart(results), width="stretch")

st.subheader(t("Side by side"))
side_by_side = views.side_by_side(results)
st.dataframe(pd.DataFrame(side_by_side), hide_index=True, width="stretch", height=420)
show_in_full(side_by_side, "side")

if results.get("general_table"):
    st.subheader(t("Did it forget what it knew?"))
    general = results["general"]
    st.markdown(t("Everyday questions answered acceptably: **{before:.0%}** before, **{after:.0%}** after "
                  "fine-tuning.", before=general["base"], after=general["tuned"]))
    advice = everyday.forgetting_advice(config.training.everyday_share, general) \
        if config.method_info.mixes_everyday else None
    if advice:
        st.info(render(advice), icon=":material/lightbulb:")
    general_rows = [{views.general_columns().get(k, k): v for k, v in row.items()} for row in results["general_table"]]
    st.dataframe(pd.DataFrame(general_rows), hide_index=True, width="stretch")
    show_in_full(general_rows, "general")
st.caption(t("{rows} rows in {seconds:.0f} s.", rows=results["rows"], seconds=results["seconds"]))
