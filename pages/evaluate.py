import pandas as pd
import streamlit as st

from engine import charts, dpo, everyday, i18n, jobs
from engine.evaluate import load_results
from engine.i18n import render, t
from engine.paths import read_json
from pages.common import explain, pick_run

st.title(t("Evaluate"))
st.markdown(t("Did it work? The base model, the base model shown a few training examples in its prompt "
              "(the *prompting baseline*), and your fine-tuned model answer the same held-out rows."))
run = pick_run()
if run is None:
    st.stop()
evals = jobs.EVALS  # one per server process, shared by every tab
job = evals.current()
config = run.config()

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


PHASES = [i18n.N_("loading the models")]  # the other phases are named in engine/evaluate.py and engine/dpo.py
progress()

def preference_view(results: dict) -> None:
    pct, num = i18n.percent, i18n.number
    st.subheader(t("Preference on held-out pairs"))
    left, right = st.columns([3, 2])
    left.dataframe(pd.DataFrame([{t("model"): render(r["model"]), t("preference accuracy"): pct(r["preference accuracy"]),
                                  t("mean margin"): num(r["mean margin"], 2),
                                  t("answers closer to chosen"): pct(r["answers closer to chosen"])}
                                 for r in dpo.result_rows(results)]), hide_index=True, width="stretch")
    left.caption(t(dpo.RESULTS_TEXT))
    right.plotly_chart(charts.preference_bars(results), width="stretch")
    st.subheader(t("Side by side"))
    table = pd.DataFrame(results["table"])
    st.dataframe(pd.DataFrame({t("row"): table["row"], t("prompt"): table["prompt"], t("after DPO"): table["tuned"],
                               t("before"): table["base"], t("chosen (preferred)"): table["chosen"],
                               t("rejected"): table["rejected"], t("margin before"): table["base_margin"],
                               t("margin after"): table["tuned_margin"]}), hide_index=True, width="stretch",
                 height=420)
    general = results["general"]
    st.subheader(t("Did it forget what it knew?"))
    st.markdown(t("Everyday questions answered acceptably: **{before}** before, **{after}** after DPO.",
                  before=pct(general["base"]), after=pct(general["tuned"])))
    columns = {"prompt": t("prompt"), "base": t("before"), "base_passed": t("✓ before"), "tuned": t("after DPO"),
               "tuned_passed": t("✓ after DPO")}
    st.dataframe(pd.DataFrame(results["general_table"]).rename(columns=columns), hide_index=True, width="stretch")
    st.caption(t("{rows} held-out pairs in {seconds:.0f} s.", rows=results["rows"], seconds=results["seconds"]))


results = load_results(run)
if results is None:
    st.caption(t("No evaluation of this run yet."))
    st.stop()

if results.get("kind") == "preference":  # a DPO run is scored on held-out pairs: its own view
    preference_view(results)
    st.stop()

st.subheader(t("Scores"))
pct, num = i18n.percent, i18n.number
prompted = results.get("prompted", {})
summary = pd.DataFrame([
    {t("model"): t("base"), t("exact match"): pct(results["base"]["exact_match"]),
     t("token F1"): num(results["base"]["token_f1"], 3), t("validation loss"): num(results["base"]["loss"], 3),
     t("perplexity"): num(results["base"]["perplexity"], 2)},
    {t("model"): t("prompting baseline ({shots} examples)", shots=results.get("shots", 3)),
     t("exact match"): pct(prompted.get("exact_match")), t("token F1"): num(prompted.get("token_f1"), 3),
     t("validation loss"): "–", t("perplexity"): "–"},
    {t("model"): t("fine-tuned"), t("exact match"): pct(results["tuned"]["exact_match"]),
     t("token F1"): num(results["tuned"]["token_f1"], 3), t("validation loss"): num(results["tuned"]["loss"], 3),
     t("perplexity"): num(results["tuned"]["perplexity"], 2)},
])
left, right = st.columns([3, 2])
left.dataframe(summary, hide_index=True, width="stretch")
right.plotly_chart(charts.metrics_bars(results), width="stretch")

st.subheader(t("Side by side"))
table = pd.DataFrame(results["table"])
mark = {1.0: "✓", 0.0: "✗"}
st.dataframe(pd.DataFrame({t("row"): table["row"], t("prompt"): table["prompt"], t("expected"): table["expected"],
                           t("fine-tuned"): table["tuned"], t("✓ tuned"): table["tuned_match"].map(mark),
                           t("base"): table["base"], t("✓ base"): table["base_match"].map(mark),
                           t("prompting baseline"): table["prompted"],
                           t("✓ prompted"): table["prompted_match"].map(mark)}),
             hide_index=True, width="stretch", height=420)

if results.get("general_table"):
    st.subheader(t("Did it forget what it knew?"))
    general = results["general"]
    st.markdown(t("Everyday questions answered acceptably: **{before:.0%}** before, **{after:.0%}** after "
                  "fine-tuning.", before=general["base"], after=general["tuned"]))
    advice = everyday.forgetting_advice(run.config().training.everyday_share, general)
    if advice:
        st.info(render(advice), icon=":material/lightbulb:")
    columns = {"prompt": t("prompt"), "base": t("base"), "base_passed": t("✓ base"), "tuned": t("fine-tuned"),
               "tuned_passed": t("✓ tuned")}
    st.dataframe(pd.DataFrame(results["general_table"]).rename(columns=columns), hide_index=True, width="stretch")
st.caption(t("{rows} rows in {seconds:.0f} s.", rows=results["rows"], seconds=results["seconds"]))
