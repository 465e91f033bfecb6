"""How a KTO run looks: its live charts (rewards of good and bad answers, their margin, the KL estimate), its
held-out results (did good answers gain probability and bad ones lose it?), report and model-card parts."""
from __future__ import annotations

import plotly.graph_objects as go

from ... import i18n
from ...charts import bar_layout, layout, thin
from ...i18n import N_, percent, t
from ...markup import answer_cell, pct, table

SERIES = {  # chart -> (title, y axis, [(metrics key, trace label)]), as msgids
    "rewards": (N_("Rewards of good and bad answers (good should rise, bad fall)"), N_("reward"),
                [("rewards/chosen", N_("good answers")), ("rewards/rejected", N_("bad answers"))]),
    "margins": (N_("Reward margin: good minus bad answers (higher is better)"), N_("margin"),
                [("rewards/margins", N_("margin"))]),
    "kl": (N_("How far the model moved from where it started (KL estimate)"), N_("KL"), [("kl", N_("KL"))]),
}
RESULTS_TEXT = N_("Each held-out answer is scored by its log-probability given its prompt (the sum over its tokens), "
                  "by the model KTO started from and by the tuned model. Good answers should become more likely and "
                  "bad ones less likely: the shares say for how many answers that happened, the means how far each "
                  "side moved. Gap: mean log-probability of good answers minus that of bad ones.")


def chart(metrics: list[dict], which: str) -> go.Figure:
    """A KTO metric on training answers (line) and validation answers (dashed, markers), from the run's metrics."""
    title, y, series = SERIES[which]
    fig = go.Figure()
    for (key, label), color in zip(series, ["#31a354", "#d62728"] if which == "rewards" else ["#3182bd"]):
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
    return layout(fig, t(title), t(y))


def live_charts(metrics: list[dict]) -> list[go.Figure]:
    """Are good answers rising and bad ones falling, on training and validation answers? (Drawn empty until the
    first point.)"""
    return [chart(metrics, which) for which in ("rewards", "margins", "kl")]


def final_figures(final: dict) -> list[tuple[str, str, str | None]]:
    if "eval_margin" not in final:
        return []
    return [(t("Validation reward margin (good − bad)"), i18n.number(final["eval_margin"], 2),
             t("How much more the tuned model moved good held-out answers up than bad ones, compared with where it "
               "started (beta × log-probability change).")),
            (t("Validation rewards: good / bad"), " / ".join(i18n.number(final.get(k, 0), 2) for k in
                                                             ("eval_reward_good", "eval_reward_bad")), None)]


def _start_label(results: dict) -> str:
    started = results.get("started_from", "base model")
    return t("base model") if started == "base model" else t("start ({run})", run=started)


def _n(value, digits: int = 2) -> str:
    return "–" if value is None else i18n.number(value, digits)


def _p(value) -> str:
    return "–" if value is None else percent(value)


def summary_rows(results: dict) -> list[dict]:
    return [{t("model"): label, t("mean log-probability, good answers"): _n(r["good_logp"]),
             t("mean log-probability, bad answers"): _n(r["bad_logp"]), t("gap good − bad"): _n(r["gap"])}
            for label, r in ((_start_label(results), results["base"]), (t("KTO-tuned"), results["tuned"]))]


def summary_chart(results: dict) -> go.Figure:
    """The share of good answers that became more likely and of bad answers that became less likely."""
    fig = go.Figure()
    for key, label, color in (("good_gained", t("good answers more likely"), "#31a354"),
                              ("bad_lost", t("bad answers less likely"), "#d62728"),
                              ("right_way", t("all answers moved the right way"), "#3182bd")):
        value = results.get(key) or 0.0
        fig.add_bar(x=[label], y=[value], name=label, marker_color=color, text=[percent(value)],
                    textposition="outside")
    return bar_layout(fig, t("On {answers} held-out answers, after KTO compared with before (higher is better)",
                             answers=results["answers"]))


def summary_caption() -> str:
    return t(RESULTS_TEXT)


def summary_note(results: dict) -> str:
    w = results["weights"]
    return t("good answers more likely: {good}, bad answers less likely: {bad}; mean change good {good_change}, bad "
             "{bad_change}; trained on {trained_good} good and {trained_bad} bad answers, weighed {good_weight:g} and "
             "{bad_weight:g}", good=_p(results["good_gained"]), bad=_p(results["bad_lost"]),
             good_change=_n(results["good_change"]), bad_change=_n(results["bad_change"]),
             trained_good=w["trained_good"], trained_bad=w["trained_bad"], good_weight=w["good"],
             bad_weight=w["bad"])


def side_by_side(results: dict) -> list[dict]:
    return [{t("row"): r["row"], t("prompt"): r["prompt"], t("answer in the file"): r["answer"],
             t("label"): "👍" if r["label"] else "👎", t("log-probability before"): r["base_logp"],
             t("log-probability after"): r["tuned_logp"], t("after KTO"): r["tuned"], t("before"): r["base"]}
            for r in results["table"]]


def general_columns() -> dict:
    return {"prompt": t("prompt"), "base": t("before"), "base_passed": t("✓ before"), "tuned": t("after KTO"),
            "tuned_passed": t("✓ after KTO")}


def report_training(config) -> str:
    k = config.kto
    if k.balance:
        return t(" by preference tuning from answers marked good or bad (KTO, beta {beta:g}, the two sides weighed "
                 "to count the same): it learned to make good answers more likely and bad ones less likely",
                 beta=k.beta)
    return t(" by preference tuning from answers marked good or bad (KTO, beta {beta:g}, weights {good:g} for good "
             "and {bad:g} for bad answers): it learned to make good answers more likely and bad ones less likely",
             beta=k.beta, good=k.desirable_weight, bad=k.undesirable_weight)


def report_parts(results: dict, examples: int):
    """Headline, before/after table and example rows of a KTO run (held-out answers)."""
    base, tuned = results["base"], results["tuned"]
    headline = t("On {answers} answers the model never saw in training, {good} of the good ones became more likely "
                 "and {bad} of the bad ones less likely.", answers=results["answers"],
                 good=f"<span class='ok'>{pct(results['good_gained'] or 0)}</span>",
                 bad=f"<span class='ok'>{pct(results['bad_lost'] or 0)}</span>")
    metrics = table(["", t("before"), t("after (KTO)")], [
        [t("mean log-probability of the good answers"), _n(base["good_logp"]), _n(tuned["good_logp"])],
        [t("mean log-probability of the bad answers"), _n(base["bad_logp"]), _n(tuned["bad_logp"])],
        [t("gap good − bad"), _n(base["gap"]), _n(tuned["gap"])],
    ])
    good = [r for r in results["table"] if r["label"]] or results["table"]
    picked = sorted(good, key=lambda r: (-(r["tuned_logp"] - r["base_logp"]), r["row"]))[:examples]
    rows = [[answer_cell(r[k]) for k in ("prompt", "base", "tuned", "answer")] for r in picked]
    return (headline, metrics, rows, [t("prompt"), t("before"), t("after"), t("a good answer (👍)")],
            t("each example is a prompt with one answer marked good or bad."))


def report_charts(metrics: list[dict]) -> list[go.Figure]:
    return [chart(metrics, "rewards")]


def card_how(config) -> str:
    return t("preference tuning from answers marked good or bad (KTO with a LoRA adapter)")


def compare_columns(results: dict, final: dict) -> dict:
    return {N_("good answers more likely"): results.get("good_gained"),
            N_("bad answers less likely"): results.get("bad_lost"),
            N_("gap good − bad (tuned)"): (results.get("tuned") or {}).get("gap"),
            N_("validation reward margin"): final.get("eval_margin")}


def compare_formats() -> dict:
    return {"good answers more likely": "percent", "bad answers less likely": "percent", "gap good − bad (tuned)": 2,
            "validation reward margin": 2}
