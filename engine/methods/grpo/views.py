"""How a GRPO run looks: its live reward charts, its held-out results check by check, report and model-card parts."""
from __future__ import annotations

import html
import re

import plotly.graph_objects as go

from ... import i18n
from ...charts import bar_layout, layout, thin
from ...i18n import N_, percent, t
from ...markup import answer_cell, num, pct, table
from . import checks
from .evaluate import pass_rates

COLORS = ["#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363", "#d6616b", "#8c6d31", "#17becf"]
CHECK_KEY = re.compile(r"^rewards/(check(\d+)_(\w+))/mean$")
RESULTS_TEXT = N_("Mean reward: the checks' weights added up for each held-out answer, averaged. Pass rates: the share "
                  "of held-out answers that pass each check. The model as training started and the tuned model answer "
                  "the same held-out prompts (greedily).")


def series(fig: go.Figure, metrics: list[dict], key: str, label: str, color: str) -> None:
    """A metric on training prompts (line) and held-out prompts (dashed, markers)."""
    train = thin([r for r in metrics if r.get(key) is not None])
    if train:
        fig.add_scatter(x=[r["step"] for r in train], y=[r[key] for r in train],
                        name=t("training {what}", what=label),
                        mode="lines+markers" if len(train) < 50 else "lines", line=dict(color=color))
    val = [r for r in metrics if r.get(f"eval_{key}") is not None]
    if val:
        fig.add_scatter(x=[r["step"] for r in val], y=[r[f"eval_{key}"] for r in val],
                        name=t("validation {what}", what=label), mode="lines+markers",
                        line=dict(color=color, dash="dash", width=3))


def check_keys(metrics: list[dict]) -> list[tuple[str, str]]:
    """(metrics key, label) of each check's pass rate, in the checks' order."""
    found = {}
    for record in metrics:
        for key in record:
            match = CHECK_KEY.match(key.removeprefix("eval_"))
            if match and match.group(3) in checks.KINDS:
                found[int(match.group(2))] = (f"rewards/{match.group(1)}/mean", match.group(3))
    return [(key, t("check {number}: {kind}", number=number, kind=t(checks.KINDS[kind].label)))
            for number, (key, kind) in sorted(found.items())]


def reward_chart(metrics: list[dict]) -> go.Figure:
    fig = go.Figure()
    series(fig, metrics, "reward", t("reward"), COLORS[0])
    return layout(fig, t("Mean reward (higher is better)"), t("reward"))


def pass_rate_chart(metrics: list[dict]) -> go.Figure:
    fig = go.Figure()
    for (key, label), color in zip(check_keys(metrics), COLORS * 4):
        series(fig, metrics, key, label, color)
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return layout(fig, t("Pass rate of each check"), t("share of answers"))


def spread_chart(metrics: list[dict]) -> go.Figure:
    fig = go.Figure()
    series(fig, metrics, "reward_spread", t("spread"), COLORS[0])
    series(fig, metrics, "frac_reward_zero_std", t("share of prompts with no spread"), COLORS[1])
    return layout(fig, t("Spread of rewards within a group (no spread: nothing to learn)"), t("spread"))


def length_chart(metrics: list[dict]) -> go.Figure:
    fig = go.Figure()
    series(fig, metrics, "completions/mean_length", t("answer length"), COLORS[2])
    return layout(fig, t("Answer length (tokens)"), t("tokens"))


def kl_chart(metrics: list[dict]) -> go.Figure:
    fig = go.Figure()
    series(fig, metrics, "kl", t("KL"), COLORS[3])
    return layout(fig, t("Distance from the starting model (KL)"), t("KL"))


def live_charts(metrics: list[dict]) -> list[go.Figure]:
    """Is the reward rising, check by check, and is there still something to learn? (Drawn empty until the first
    point.)"""
    return [reward_chart(metrics), pass_rate_chart(metrics), spread_chart(metrics), length_chart(metrics),
            kl_chart(metrics)]


def final_figures(final: dict) -> list[tuple[str, str, str | None]]:
    if "eval_reward" not in final:
        return []
    return [(t("Validation reward (mean)"), i18n.number(final["eval_reward"], 2),
             t("The checks' weights added up for the tuned model's answers to the validation prompts, averaged."))]


def _start_label(results: dict) -> str:
    started = results.get("started_from", "base model")
    return t("base model") if started == "base model" else t("start ({run})", run=started)


def _check_names(results: dict) -> list[str]:
    return [f"{i}. {checks.condition(item)}" for i, item in enumerate(results["checks"], start=1)]


def summary_rows(results: dict) -> list[dict]:
    rows = []
    for label, who in ((_start_label(results), "base"), (t("GRPO-tuned"), "tuned")):
        r = results[who]
        row = {t("model"): label, t("mean reward"): i18n.number(r["reward"], 2),
               t("all checks passed"): percent(r["all_pass"])}
        row.update({name: percent(rate) for name, rate in zip(_check_names(results), pass_rates(results, who))})
        rows.append(row)
    return rows


def summary_chart(results: dict) -> go.Figure:
    """Each check's pass rate and the share passing all, before and after."""
    fig = go.Figure()
    names = [t("check {number}", number=i) for i in range(1, len(results["checks"]) + 1)] + [t("all checks")]
    for key, label, color in (("base", t("before"), "#9ecae1"), ("tuned", t("after GRPO"), "#3182bd")):
        values = [*pass_rates(results, key), results[key]["all_pass"]]
        fig.add_bar(x=names, y=values, name=label, marker_color=color, text=[percent(v) for v in values],
                    textposition="outside")
    return bar_layout(fig, t("Pass rates on {rows} held-out prompts (higher is better)", rows=results["rows"]))


def summary_caption() -> str:
    return t(RESULTS_TEXT)


def summary_note(results: dict) -> str:
    return t("Reward: {sentence}. Mean reward {before} → {after} (the most an answer can score: {best}).",
             sentence=checks.sentence(results["checks"]), before=i18n.number(results["base"]["reward"], 2),
             after=i18n.number(results["tuned"]["reward"], 2), best=i18n.number(results["best"], 2))


def _marks(passed: list[bool]) -> str:
    return " ".join("✓" if p else "✗" for p in passed)


def side_by_side(results: dict) -> list[dict]:
    return [{t("row"): r["row"], t("prompt"): r["prompt"], t("after GRPO"): r["tuned"],
             t("reward after"): r["tuned_reward"], t("checks after"): _marks(r["tuned_passed"]),
             t("before"): r["base"], t("reward before"): r["base_reward"], t("checks before"): _marks(r["base_passed"]),
             t("expected"): r["expected"]} for r in results["table"]]


def general_columns() -> dict:
    return {"prompt": t("prompt"), "base": t("before"), "base_passed": t("✓ before"), "tuned": t("after GRPO"),
            "tuned_passed": t("✓ after GRPO")}


def report_training(config) -> str:
    return t(" by reinforcement learning from checks (GRPO, {answers} answers per prompt): its answers were scored "
             "{sentence}, and it learned to write more like the better ones", answers=config.grpo.num_generations,
             sentence=html.escape(checks.sentence(config.grpo.reward)))


def report_parts(results: dict, examples: int):
    """Headline, before/after table check by check and example rows of a GRPO run (held-out prompts)."""
    base, tuned = results["base"], results["tuned"]
    headline = t("On {rows} prompts the model never saw in training, its answers now score {after} on average, "
                 "against {before} before (the most an answer can score is {best}); they pass every check {all_after} "
                 "of the time ({all_before} before).", rows=results["rows"],
                 after=f"<span class='ok'>{num(tuned['reward'], 2)}</span>",
                 before=f"<span class='bad'>{num(base['reward'], 2)}</span>", best=num(results["best"], 2),
                 all_after=pct(tuned["all_pass"]), all_before=pct(base["all_pass"]))
    rows = [[t("mean reward"), num(base["reward"], 2), num(tuned["reward"], 2)],
            [t("all checks passed"), pct(base["all_pass"]), pct(tuned["all_pass"])]]
    before, after = pass_rates(results, "base"), pass_rates(results, "tuned")
    rows += [[html.escape(name), pct(b), pct(a)] for name, b, a in zip(_check_names(results), before, after)]
    metrics = table(["", t("before"), t("after (GRPO)")], rows)
    picked = sorted(results["table"], key=lambda r: (-(r["tuned_reward"] - r["base_reward"]), r["row"]))[:examples]
    example_rows = [[answer_cell(r[k]) for k in ("prompt", "base", "tuned", "expected")]
                    for r in picked]
    return (headline, metrics, example_rows, [t("prompt"), t("before"), t("after"), t("expected")],
            t("each example is a prompt (with the expected answer when the data has one); the model writes its own "
              "answers and the checks score them."))


def report_charts(metrics: list[dict]) -> list[go.Figure]:
    return [reward_chart(metrics), pass_rate_chart(metrics)]


def card_how(config) -> str:
    return t("reinforcement learning from checks (GRPO with a LoRA adapter)")


def compare_columns(results: dict, final: dict) -> dict:
    return {N_("mean reward (tuned)"): (results.get("tuned") or {}).get("reward"),
            N_("mean reward (base)"): (results.get("base") or {}).get("reward"),
            N_("all checks passed (tuned)"): (results.get("tuned") or {}).get("all_pass"),
            N_("validation reward"): final.get("eval_reward")}


def compare_formats() -> dict:
    return {"mean reward (tuned)": 2, "mean reward (base)": 2, "all checks passed (tuned)": "percent",
            "validation reward": 2}
