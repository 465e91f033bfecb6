"""How a supervised run's results look: on the Train and Evaluate pages, in the CLI, the report, the model card
and Compare. Its live charts are the shared ones (loss, learning rate, throughput, gradient norm)."""
from __future__ import annotations

import plotly.graph_objects as go

from ... import i18n
from ...charts import METRIC_NAMES, bar_layout
from ...i18n import N_, percent, t
from ...markup import answer_cell, num, pct, table


def live_charts(metrics: list[dict]) -> list[go.Figure]:
    return []


def final_figures(final: dict) -> list[tuple[str, str, str | None]]:
    return []


def summary_rows(results: dict) -> list[dict]:
    pct, num = i18n.percent, i18n.number
    base, prompted, tuned = results["base"], results.get("prompted", {}), results["tuned"]
    return [
        {t("model"): t("base"), t("exact match"): pct(base["exact_match"]), t("token F1"): num(base["token_f1"], 3),
         t("validation loss"): num(base["loss"], 3), t("perplexity"): num(base["perplexity"], 2)},
        {t("model"): t("prompting baseline ({shots} examples)", shots=results.get("shots", 3)),
         t("exact match"): pct(prompted.get("exact_match")), t("token F1"): num(prompted.get("token_f1"), 3),
         t("validation loss"): "–", t("perplexity"): "–"},
        {t("model"): t("fine-tuned"), t("exact match"): pct(tuned["exact_match"]),
         t("token F1"): num(tuned["token_f1"], 3), t("validation loss"): num(tuned["loss"], 3),
         t("perplexity"): num(tuned["perplexity"], 2)},
    ]


def summary_chart(results: dict) -> go.Figure:
    """Exact match and token F1 of the base model, the prompting baseline and the tuned model."""
    names = [("base", t("base model")), ("prompted", t("prompting baseline")), ("tuned", t("fine-tuned"))]
    fig = go.Figure()
    for metric, color in (("exact_match", "#3182bd"), ("token_f1", "#9ecae1")):
        values = [results.get(key, {}).get(metric) for key, _ in names]
        fig.add_bar(x=[label for _, label in names], y=values, name=t(METRIC_NAMES[metric]), marker_color=color,
                    text=[percent(v) if v is not None else "" for v in values], textposition="outside")
    return bar_layout(fig, t("On {rows} held-out rows (higher is better)", rows=results["rows"]))


def summary_caption() -> str:
    return t("The base model, the base model shown a few training examples in its prompt (the prompting baseline) "
             "and your fine-tuned model answer the same held-out rows.")


def summary_note(results: dict) -> str:
    return ""


def side_by_side(results: dict) -> list[dict]:
    mark = {1.0: "✓", 0.0: "✗"}
    return [{t("row"): r["row"], t("prompt"): r["prompt"], t("expected"): r["expected"], t("fine-tuned"): r["tuned"],
             t("✓ tuned"): mark.get(r["tuned_match"], ""), t("base"): r["base"],
             t("✓ base"): mark.get(r["base_match"], ""), t("prompting baseline"): r["prompted"],
             t("✓ prompted"): mark.get(r["prompted_match"], "")} for r in results["table"]]


def general_columns() -> dict:
    return {"prompt": t("prompt"), "base": t("base"), "base_passed": t("✓ base"), "tuned": t("fine-tuned"),
            "tuned_passed": t("✓ tuned")}


def report_training(config) -> str:
    return ""


def report_parts(results: dict, examples: int):
    """Headline, before/after table, example rows and their columns, and what the data is."""
    base, prompted, tuned = results["base"], results.get("prompted", {}), results["tuned"]
    headline = t("On {rows} examples the model never saw in training, it now gives exactly the expected answer "
                 "{after} of the time, against {before} before and {prompted} when we simply showed the original "
                 "model {shots} examples in its prompt.", rows=results["rows"],
                 after=f"<span class='ok'>{pct(tuned['exact_match'])}</span>",
                 before=f"<span class='bad'>{pct(base['exact_match'])}</span>",
                 prompted=pct(prompted.get("exact_match")), shots=results.get("shots", 3))
    metrics = table(["", t("before (base model)"), t("prompting baseline"), t("after (fine-tuned)")], [
        [t("exact match"), pct(base["exact_match"]), pct(prompted.get("exact_match")), pct(tuned["exact_match"])],
        [t("word overlap (token F1)"), num(base["token_f1"]), num(prompted.get("token_f1")), num(tuned["token_f1"])],
        [t("validation loss (lower is better)"), num(base["loss"]), "–", num(tuned["loss"])],
        [t("perplexity (lower is better)"), num(base["perplexity"], 2), "–", num(tuned["perplexity"], 2)],
    ])
    picked = sorted(results["table"], key=lambda r: (-(r["tuned_match"] - r["base_match"]), r["row"]))[:examples]
    rows = [[answer_cell(r[k]) for k in ("prompt", "base", "tuned", "expected")] for r in picked]
    return (headline, metrics, rows, [t("prompt"), t("before"), t("after"), t("expected")],
            t("each example is a prompt and the answer we want."))


def report_charts(metrics: list[dict]) -> list[go.Figure]:
    return []


def card_how(config) -> str:
    return t("supervised fine-tuning ({method})", method=config.method.weights.upper())


def compare_columns(results: dict, final: dict) -> dict:
    return {N_("exact match (tuned)"): (results.get("tuned") or {}).get("exact_match"),
            N_("exact match (base)"): (results.get("base") or {}).get("exact_match")}


def compare_formats() -> dict:
    return {"exact match (tuned)": "percent", "exact match (base)": "percent"}
