"""Plotly figures of a run and of a dataset, shared by the studio pages, the CLI and the HTML report."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from .i18n import N_, separators, t

METRIC_NAMES = {"exact_match": N_("exact match"), "token_f1": N_("token F1")}

MAX_POINTS = 2000  # more points than this are thinned so the browser stays quick


def smooth(values: list[float], weight: float = 0.8) -> list[float]:
    """Exponential moving average with bias correction (as TensorBoard draws it); NaN passes through."""
    out, avg, n = [], 0.0, 0
    for v in values:
        if v is None or not math.isfinite(v):
            out.append(v)
            continue
        n += 1
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight**n))
    return out


def thin(records: list[dict]) -> list[dict]:
    if len(records) <= MAX_POINTS:
        return records
    step = math.ceil(len(records) / MAX_POINTS)
    return records[::step] + ([records[-1]] if (len(records) - 1) % step else [])


def layout(fig: go.Figure, title: str, y: str, log_y: bool = False) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=t("step"), yaxis_title=y, height=320, margin=dict(l=40, r=10, t=40, b=40),
                      legend=dict(orientation="h", y=-0.25), template="plotly_white", separators=separators())
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def loss_chart(metrics: list[dict], title: str | None = None, kept_step: int | None = None) -> go.Figure:
    train = thin([r for r in metrics if "loss" in r])
    val = [r for r in metrics if "eval_loss" in r]
    fig = go.Figure()
    if train:
        steps = [r["step"] for r in train]
        losses = [r["loss"] for r in train]
        fig.add_scatter(x=steps, y=losses, name=t("training loss"), mode="lines+markers" if len(train) < 50 else
                        "lines", line=dict(color="#9ecae1"))  # markers: the first point is visible alone
        fig.add_scatter(x=steps, y=smooth(losses), name=t("training loss (smoothed)"), mode="lines",
                        line=dict(color="#3182bd", width=3))
        bad = [r for r in train if r["loss"] is None or not math.isfinite(r["loss"])]
        if bad:  # a diverged run: mark where the loss stopped being a number
            fig.add_vline(x=bad[0]["step"], line=dict(color="#d62728", dash="dash"),
                          annotation_text=t("loss is not a number"))
    if val:
        fig.add_scatter(x=[r["step"] for r in val], y=[r["eval_loss"] for r in val], name=t("validation loss"),
                        mode="lines+markers", line=dict(color="#e6550d", width=3))
    if kept_step is not None:  # the step whose model the run kept (its best validation)
        fig.add_vline(x=kept_step, line=dict(color="#31a354", dash="dot"),
                      annotation_text=t("kept: step {step}", step=kept_step))
    return layout(fig, title or t("Loss"), t("loss"))


def series_chart(metrics: list[dict], key: str, title: str, y: str) -> go.Figure:
    rows = thin([r for r in metrics if r.get(key) is not None])
    fig = go.Figure()
    fig.add_scatter(x=[r["step"] for r in rows], y=[r[key] for r in rows], name=title,
                    mode="lines+markers" if len(rows) < 50 else "lines")  # a lone point stays visible
    return layout(fig, title, y)


def compare_losses(named_metrics: dict[str, list[dict]], key: str = "loss") -> go.Figure:
    fig = go.Figure()
    for name, metrics in named_metrics.items():
        rows = thin([r for r in metrics if key in r])
        values = [r[key] for r in rows]
        fig.add_scatter(x=[r["step"] for r in rows], y=smooth(values) if key == "loss" else values, name=name,
                        mode="lines" if key == "loss" else "lines+markers")
    return layout(fig, t("Training loss (smoothed)") if key == "loss" else t("Validation loss"), t("loss"))


def length_histogram(stats: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_histogram(x=stats["lengths"], nbinsx=40, name=t("examples"), marker_color="#3182bd")
    fig.add_vline(x=stats["max_length"], line=dict(color="#d62728", dash="dash"),
                  annotation_text=t("max length {tokens}: {rows} rows cut", tokens=stats["max_length"],
                                    rows=stats["rows_over_max"]))
    fig.update_layout(title=t("Tokens per example"), xaxis_title=t("tokens (prompt + answer)"), yaxis_title=t("rows"),
                      height=320, margin=dict(l=40, r=10, t=40, b=40), template="plotly_white", separators=separators(), showlegend=False)
    return fig


def quality_bars(stats: dict) -> go.Figure:
    labels = [t("usable"), t("set aside"), t("empty"), t("duplicate"), t("cut by max length")]
    values = [stats["usable"], stats["set_aside"], stats["empty_rows"], stats["duplicate_rows"],
              stats["rows_over_max"]]
    colors = ["#31a354", "#d62728", "#969696", "#fd8d3c", "#e6550d"]
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colors, text=values, textposition="outside"))
    fig.update_layout(title=t("Rows"), yaxis_title=t("rows"), height=320, margin=dict(l=40, r=10, t=40, b=40),
                      template="plotly_white", separators=separators())
    return fig


def bar_layout(fig: go.Figure, title: str) -> go.Figure:
    """The layout of a before/after bar chart of shares (an evaluation's summary)."""
    fig.update_layout(title=title, yaxis=dict(range=[0, 1.1]), barmode="group", height=340,
                      margin=dict(l=40, r=10, t=40, b=40), template="plotly_white", separators=separators(),
                      legend=dict(orientation="h", y=-0.2))
    return fig


# ---------------------------------------------------------------- data with pairs of answers

def pair_lengths(stats: dict) -> go.Figure:
    """Token lengths of the prompts, chosen and rejected answers, with the max length."""
    fig = go.Figure()
    for key, label, color in (("prompt_lengths", t("prompt"), "#969696"), ("chosen_lengths", t("chosen"), "#31a354"),
                              ("rejected_lengths", t("rejected"), "#d62728")):
        fig.add_histogram(x=stats[key], nbinsx=40, name=label, marker_color=color, opacity=0.6)
    fig.add_vline(x=stats["max_length"], line=dict(color="#d62728", dash="dash"),
                  annotation_text=t("max length {tokens}: chosen cut in {chosen}, rejected in {rejected}",
                                    tokens=stats["max_length"], chosen=stats["chosen_cut"],
                                    rejected=stats["rejected_cut"]))
    fig.update_layout(title=t("Tokens per part (the chosen answer is longer in {share:.0%} of pairs)",
                              share=stats["chosen_longer"]),
                      xaxis_title=t("tokens"), yaxis_title=t("pairs"), barmode="overlay", height=320,
                      margin=dict(l=40, r=10, t=40, b=40), template="plotly_white", separators=separators(),
                      legend=dict(orientation="h", y=-0.25))
    return fig
