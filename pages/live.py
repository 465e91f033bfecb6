"""A run on screen: its status, progress bar, final figures and live charts (Train and Runs pages).

Only drawing; the figures come from the run folder through engine.runs and engine.charts.
"""
from __future__ import annotations

import streamlit as st

from engine import charts, i18n, runs
from engine.i18n import render, t
from pages.common import manager

def show_status(run: runs.Run, status: dict) -> None:
    level, text = runs.describe_state(status)
    getattr(st, level)(render(text))
    if status["state"] == "running" and status.get("max_steps"):
        step, total = status.get("step", 0), status["max_steps"]
        left = status.get("remaining_s")
        text = (t("Step {step} of {total}, about {minutes} min {seconds} s left", step=step, total=total,
                  minutes=int(left // 60), seconds=int(left % 60)) if left else
                t("Step {step} of {total}", step=step, total=total))
        st.progress(min(step / total, 1.0), text=text)


def show_charts(metrics: list[dict], key: str, waiting: bool = False) -> None:
    """The run's charts; while `waiting` for the first step they are drawn empty, so that the first point only
    fills them in (in the browser, loading the chart library took about 2 s after the first point otherwise)."""
    if not metrics:
        st.caption(t("The charts fill in from the first training step."))
        if not waiting:
            return
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_chart(metrics), key=f"{key}-loss", width="stretch")
    right.plotly_chart(charts.series_chart(metrics, "learning_rate", t("Learning rate"), t("learning rate")),
                       key=f"{key}-lr", width="stretch")
    if any(r.get("tokens_per_s") for r in metrics):
        left.plotly_chart(charts.series_chart(metrics, "tokens_per_s", t("Throughput"), t("tokens per second")),
                          key=f"{key}-tps", width="stretch")
    if any(r.get("grad_norm") is not None for r in metrics):
        right.plotly_chart(charts.series_chart(metrics, "grad_norm", t("Gradient norm"), t("norm")),
                           key=f"{key}-gn", width="stretch")
    if charts.has_preference(metrics):  # DPO: is the preference moving, on training and validation pairs?
        left, right = st.columns(2)
        left.plotly_chart(charts.preference_chart(metrics, "margins"), key=f"{key}-margin", width="stretch")
        right.plotly_chart(charts.preference_chart(metrics, "accuracies"), key=f"{key}-acc", width="stretch")
        left.plotly_chart(charts.preference_chart(metrics, "rewards"), key=f"{key}-rewards", width="stretch")


def final_metrics(status: dict) -> None:
    final = status.get("final") or {}
    if not final:
        return
    cols = st.columns(4)
    num = i18n.number
    cols[0].metric(t("Steps"), num(final.get("steps"), 0))
    if "eval_loss" in final:
        cols[1].metric(t("Validation loss"), num(final["eval_loss"], 3),
                       delta=num(final["eval_loss"] - final.get("first_eval_loss", final["eval_loss"]), 3),
                       delta_color="inverse")
    cols[2].metric(t("Training loss (mean)"), num(final.get("train_loss", 0), 3))
    cols[3].metric(t("Training time"), t("{minutes:.1f} min", minutes=final.get("runtime_s", 0) / 60))
    if "eval_accuracy" in final:
        cols = st.columns(4)
        cols[0].metric(t("Validation preference accuracy"), i18n.percent(final["eval_accuracy"]),
                       help=t("Share of held-out pairs where the tuned model moved the chosen answer above the "
                              "rejected one, compared with where it started."))
        cols[1].metric(t("Validation reward margin"), num(final.get("eval_margin", 0), 2))


def live_run(run_id: str, key: str = "live") -> None:
    """Status, progress and charts of a run; refreshes itself every 2 s while the run is going (every 1 s
    measured 174 s instead of 113 s for the quick preset: the redraws took CPU from training on 2 cores)."""
    run = runs.get_run(run_id)

    def active() -> bool:
        job = manager().current()
        return run.status()["state"] in ("running", "queued") or (job is not None and job.run.id == run_id)

    going = active()

    @st.fragment(run_every=2.0 if going else None)
    def draw():
        status = run.status()
        show_status(run, status)
        final_metrics(status)
        show_charts(run.metrics(), key, waiting=going)
        if going and not active():
            st.rerun()  # once the job is over, so the whole page shows the ended run (buttons, links)

    draw()
