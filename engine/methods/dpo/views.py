"""How a DPO run looks: its live preference charts, its held-out pair results, report and model-card parts."""
from __future__ import annotations

import plotly.graph_objects as go

from ... import i18n
from ...charts import bar_layout, layout, thin
from ...i18n import N_, percent, t
from ...markup import answer_cell, num, pct, table

SERIES = {  # chart -> (title, y axis, [(metrics key, trace label)]), as msgids
    "margins": (N_("Reward margin: chosen minus rejected (higher is better)"), N_("margin"),
                [("rewards/margins", N_("margin"))]),
    "accuracies": (N_("Preference accuracy: pairs where the chosen answer wins"), N_("share of pairs"),
                   [("rewards/accuracies", N_("accuracy"))]),
    "rewards": (N_("Rewards of the chosen and the rejected answers"), N_("reward"),
                [("rewards/chosen", N_("chosen")), ("rewards/rejected", N_("rejected"))]),
}
RESULTS_TEXT = N_("Preference accuracy: the share of held-out pairs where the model gives the chosen answer a higher "
                  "log-probability than the rejected one. Mean margin: log-probability of chosen minus rejected, "
                  "averaged (higher is a stronger preference). Answers closer to chosen: the model's own answers to "
                  "the held-out prompts share more words with the chosen answer than with the rejected one.")


def preference_chart(metrics: list[dict], which: str = "margins") -> go.Figure:
    """A DPO metric on training pairs (line) and validation pairs (dashed, markers), from the run's metrics."""
    title, y, series = SERIES[which]
    fig = go.Figure()
    for (key, label), color in zip(series, ["#3182bd", "#e6550d"]):
        train = thin([r for r in metrics if r.get(key) is not None])
        if train:
            fig.add_scatter(x=[r["step"] for r in train], y=[r[key] for r in train],
                            name=t("training {what}", what=t(label)),
                            mode="lines+markers" if len(train) < 50 else "lines", line=dict(color=color))
        val = [r for r in metrics if r.get(f"eval_{key}") is not None]
        if val:
            fig.add_scatter(x=[r["step"] for r in val], y=[r[f"eval_{key}"] for r in val],
                            name=t("validation {what}", what=t(label)), mode="lines+markers",
                            line=dict(color=color, dash="dash", width=3))
    if which == "accuracies":
        fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return layout(fig, t(title), t(y))


def live_charts(metrics: list[dict]) -> list[go.Figure]:
    """Is the preference moving, on training and validation pairs? (Drawn empty until the first point.)"""
    return [preference_chart(metrics, which) for which in ("margins", "accuracies", "rewards")]


def final_figures(final: dict) -> list[tuple[str, str, str | None]]:
    if "eval_accuracy" not in final:
        return []
    return [(t("Validation preference accuracy"), i18n.percent(final["eval_accuracy"]),
             t("Share of held-out pairs where the tuned model moved the chosen answer above the rejected one, "
               "compared with where it started.")),
            (t("Validation reward margin"), i18n.number(final.get("eval_margin", 0), 2), None)]


def _start_label(results: dict) -> str:
    started = results.get("started_from", "base model")
    return t("base model") if started == "base model" else t("start ({run})", run=started)


def summary_rows(results: dict) -> list[dict]:
    return [{t("model"): label, t("preference accuracy"): percent(r["accuracy"]),
             t("mean margin"): i18n.number(r["margin"], 2),
             t("answers closer to chosen"): percent(r["closer_to_chosen"])}
            for label, r in ((_start_label(results), results["base"]), (t("DPO-tuned"), results["tuned"]))]


def summary_chart(results: dict) -> go.Figure:
    """Preference accuracy and answers closer to the chosen ones, before and after DPO."""
    fig = go.Figure()
    names = [t("before"), t("after DPO")]
    for metric, label, color in (("accuracy", t("preference accuracy"), "#3182bd"),
                                 ("closer_to_chosen", t("answers closer to chosen"), "#9ecae1")):
        values = [results["base"][metric], results["tuned"][metric]]
        fig.add_bar(x=names, y=values, name=label, marker_color=color, text=[percent(v) for v in values],
                    textposition="outside")
    return bar_layout(fig, t("On {rows} held-out pairs (higher is better)", rows=results["rows"]))


def summary_caption() -> str:
    return t(RESULTS_TEXT)


def summary_note(results: dict) -> str:
    return t("reward accuracy (tuned vs start): {accuracy:.1%}, reward margin {margin:.3f}",
             accuracy=results["reward_accuracy"], margin=results["reward_margin"])


def side_by_side(results: dict) -> list[dict]:
    return [{t("row"): r["row"], t("prompt"): r["prompt"], t("after DPO"): r["tuned"], t("before"): r["base"],
             t("chosen (preferred)"): r["chosen"], t("rejected"): r["rejected"],
             t("margin before"): r["base_margin"], t("margin after"): r["tuned_margin"]} for r in results["table"]]


def general_columns() -> dict:
    return {"prompt": t("prompt"), "base": t("before"), "base_passed": t("✓ before"), "tuned": t("after DPO"),
            "tuned_passed": t("✓ after DPO")}


def report_training(config) -> str:
    return t(" by preference tuning (DPO, beta {beta:g}, {loss} loss): it learned to make the chosen answers "
             "more likely than the rejected ones", beta=config.dpo.beta, loss=config.dpo.loss_type)


def report_parts(results: dict, examples: int):
    """Headline, before/after table and example rows of a DPO run (held-out pairs)."""
    base, tuned, n = results["base"], results["tuned"], results["rows"]
    headline = t("On {rows} pairs of answers the model never saw in training, it now prefers the better answer "
                 "{after} of the time, against {before} before; its own answers are closer to the preferred style "
                 "{closer_after} of the time ({closer_before} before).", rows=n,
                 after=f"<span class='ok'>{pct(tuned['accuracy'])}</span>",
                 before=f"<span class='bad'>{pct(base['accuracy'])}</span>",
                 closer_after=pct(tuned["closer_to_chosen"]), closer_before=pct(base["closer_to_chosen"]))
    metrics = table(["", t("before"), t("after (DPO)")], [
        [t("preference accuracy (chosen answer more likely)"), pct(base["accuracy"]), pct(tuned["accuracy"])],
        [t("mean margin, log-probability chosen − rejected"), num(base["margin"], 2), num(tuned["margin"], 2)],
        [t("own answers closer to the chosen ones"), pct(base["closer_to_chosen"]), pct(tuned["closer_to_chosen"])],
    ])
    picked = sorted(results["table"], key=lambda r: (-(r["tuned_closer"] - r["base_closer"]), r["row"]))[:examples]
    rows = [[answer_cell(r[k]) for k in ("prompt", "base", "tuned", "chosen")] for r in picked]
    return (headline, metrics, rows, [t("prompt"), t("before"), t("after"), t("preferred answer (chosen)")],
            t("each example is a prompt with a better (chosen) and a worse (rejected) answer."))


def report_charts(metrics: list[dict]) -> list[go.Figure]:
    return [preference_chart(metrics, "margins")]


def card_how(config) -> str:
    return t("preference tuning (DPO with a LoRA adapter)")


def compare_columns(results: dict, final: dict) -> dict:
    return {N_("preference accuracy (tuned)"): (results.get("tuned") or {}).get("accuracy"),
            N_("preference accuracy (base)"): (results.get("base") or {}).get("accuracy"),
            N_("margin (tuned)"): (results.get("tuned") or {}).get("margin"),
            N_("validation reward accuracy"): final.get("eval_accuracy")}


def compare_formats() -> dict:
    return {"preference accuracy (tuned)": "percent", "preference accuracy (base)": "percent", "margin (tuned)": 2,
            "validation reward accuracy": "percent"}
