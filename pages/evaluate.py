import pandas as pd
import streamlit as st

from engine import charts, dpo, jobs
from engine.evaluate import load_results
from engine.paths import read_json
from pages.common import explain, pick_run

st.title("Evaluate")
st.markdown("Did it work? The base model, the base model shown a few training examples in its prompt "
            "(the *prompting baseline*), and your fine-tuned model answer the same held-out rows.")
run = pick_run()
if run is None:
    st.stop()
evals = jobs.EVALS  # one per server process, shared by every tab
job = evals.current()
config = run.config()

if job is None:
    rows = st.number_input("Held-out rows to answer", 1, 10_000, config.generation.eval_rows,
                           help="More rows give a surer answer and take longer (about 1 s per row on a CPU).")
    if st.button("Evaluate", type="primary", icon=":material/fact_check:"):
        try:
            evals.start(run, rows=int(rows))
            st.rerun()
        except Exception as err:
            explain(err)
else:
    st.info(f"Evaluating run **{job.run.id}**…")
    if st.button("Cancel", icon=":material/cancel:"):
        evals.cancel()

if run.id in evals.error:
    st.error(evals.error[run.id])


@st.fragment(run_every=1.5 if job else None)
def progress():
    if job is None:
        return
    if evals.current() is None:
        st.rerun()  # once: the evaluation is over, show its results
    state = read_json(run.eval_dir / "progress.json") or {"done": 0, "total": 1, "phase": "loading the models"}
    st.progress(state["done"] / max(state["total"], 1),
                text=f"{state['phase']}: {state['done']} of {state['total']} answers")


progress()

def preference_view(results: dict) -> None:
    st.subheader("Preference on held-out pairs")
    left, right = st.columns([3, 2])
    left.dataframe(pd.DataFrame(dpo.result_rows(results)).style.format(
        {"preference accuracy": "{:.0%}", "mean margin": "{:.2f}", "answers closer to chosen": "{:.0%}"}),
        hide_index=True, width="stretch")
    left.caption(dpo.RESULTS_TEXT)
    right.plotly_chart(charts.preference_bars(results), width="stretch")
    st.subheader("Side by side")
    table = pd.DataFrame(results["table"])
    st.dataframe(pd.DataFrame({"row": table["row"], "prompt": table["prompt"], "after DPO": table["tuned"],
                               "before": table["base"], "chosen (preferred)": table["chosen"],
                               "rejected": table["rejected"], "margin before": table["base_margin"],
                               "margin after": table["tuned_margin"]}), hide_index=True, width="stretch", height=420)
    general = results["general"]
    st.subheader("Did it forget what it knew?")
    st.markdown(f"Everyday questions answered acceptably: **{general['base']:.0%}** before, "
                f"**{general['tuned']:.0%}** after DPO.")
    st.dataframe(pd.DataFrame(results["general_table"]), hide_index=True, width="stretch")
    st.caption(f"{results['rows']} held-out pairs in {results['seconds']:.0f} s.")


results = load_results(run)
if results is None:
    st.caption("No evaluation of this run yet.")
    st.stop()

if results.get("kind") == "preference":  # a DPO run is scored on held-out pairs: its own view
    preference_view(results)
    st.stop()

st.subheader("Scores")
summary = pd.DataFrame([
    {"model": "base", "exact match": results["base"]["exact_match"], "token F1": results["base"]["token_f1"],
     "validation loss": results["base"]["loss"], "perplexity": results["base"]["perplexity"]},
    {"model": f"prompting baseline ({results.get('shots', 3)} examples)",
     "exact match": results.get("prompted", {}).get("exact_match"),
     "token F1": results.get("prompted", {}).get("token_f1"), "validation loss": None, "perplexity": None},
    {"model": "fine-tuned", "exact match": results["tuned"]["exact_match"], "token F1": results["tuned"]["token_f1"],
     "validation loss": results["tuned"]["loss"], "perplexity": results["tuned"]["perplexity"]},
])
left, right = st.columns([3, 2])
left.dataframe(summary.style.format({"exact match": "{:.0%}", "token F1": "{:.3f}", "validation loss": "{:.3f}",
                                     "perplexity": "{:.2f}"}, na_rep="–"), hide_index=True, width="stretch")
right.plotly_chart(charts.metrics_bars(results), width="stretch")

st.subheader("Side by side")
table = pd.DataFrame(results["table"])
mark = {1.0: "✓", 0.0: "✗"}
st.dataframe(pd.DataFrame({"row": table["row"], "prompt": table["prompt"], "expected": table["expected"],
                           "fine-tuned": table["tuned"], "✓ tuned": table["tuned_match"].map(mark),
                           "base": table["base"], "✓ base": table["base_match"].map(mark),
                           "prompting baseline": table["prompted"], "✓ prompted": table["prompted_match"].map(mark)}),
             hide_index=True, width="stretch", height=420)

if results.get("general_table"):
    st.subheader("Did it forget what it knew?")
    general = results["general"]
    st.markdown(f"Everyday questions answered acceptably: **{general['base']:.0%}** before, "
                f"**{general['tuned']:.0%}** after fine-tuning.")
    st.dataframe(pd.DataFrame(results["general_table"]), hide_index=True, width="stretch")
st.caption(f"{results['rows']} rows in {results['seconds']:.0f} s.")
