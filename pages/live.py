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


def show_charts(metrics: list[dict], key: str, waiting: bool = False, method=None, kept_step=None) -> None:
    """The run's charts; while `waiting` for the first step they are drawn empty, so that the first point only
    fills them in (in the browser, loading the chart library took about 2 s after the first point otherwise)."""
    if not metrics:
        st.caption(t("The charts fill in from the first training step."))
        if not waiting:
            return
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_chart(metrics, kept_step=kept_step), key=f"{key}-loss", width="stretch")
    right.plotly_chart(charts.series_chart(metrics, "learning_rate", t("Learning rate"), t("learning rate")),
                       key=f"{key}-lr", width="stretch")
    if any(r.get("tokens_per_s") for r in metrics):
        left.plotly_chart(charts.series_chart(metrics, "tokens_per_s", t("Throughput"), t("tokens per second")),
                          key=f"{key}-tps", width="stretch")
    if any(r.get("grad_norm") is not None for r in metrics):
        right.plotly_chart(charts.series_chart(metrics, "grad_norm", t("Gradient norm"), t("norm")),
                           key=f"{key}-gn", width="stretch")
    own = method.views.live_charts(metrics) if method else []  # the method's own charts (engine/methods/<name>)
    if own and (waiting or any(r.get(k) is not None for r in metrics for k in r if k.startswith(method.logged))):
        columns = st.columns(2)
        for i, fig in enumerate(own):
            columns[i % 2].plotly_chart(fig, key=f"{key}-{method.name}-{i}", width="stretch")


def final_metrics(status: dict, method=None) -> None:
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
    kept = runs.kept_words(status)
    if kept:
        st.caption(render(kept))
    own = method.views.final_figures(final) if method else []  # the method's own final figures
    if own:
        cols = st.columns(4)
        for col, (label, value, help_text) in zip(cols, own):
            col.metric(label, value, help=help_text)


def live_run(run_id: str, key: str = "live") -> None:
    """Status, progress and charts of a run; refreshes itself every 2 s while the run is going (every 1 s
    measured 174 s instead of 113 s for the quick preset: the redraws took CPU from training on 2 cores)."""
    run = runs.get_run(run_id)
    try:
        method = run.config().method_info
    except Exception:  # a config this studio cannot read: the shared charts still show
        method = None

    def active() -> bool:
        job = manager().current()
        return run.status()["state"] in ("running", "queued") or (job is not None and job.run.id == run_id)

    going = active()

    @st.fragment(run_every=2.0 if going else None)
    def draw():
        status = run.status()
        show_status(run, status)
        final_metrics(status, method)
        show_charts(run.metrics(), key, waiting=going, method=method,
                    kept_step=(status.get("final") or {}).get("kept_step"))
        if going and not active():
            st.rerun()  # once the job is over, so the whole page shows the ended run (buttons, links)

    draw()
