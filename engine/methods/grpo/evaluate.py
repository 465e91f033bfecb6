"""Did reinforcement learning from checks work? The model as training started (the base, or the run it started
from) and the tuned one answer the same held-out prompts; the reward's checks score every answer: mean reward,
each check's pass rate, the share passing them all, answers side by side, and the everyday-questions check."""
from __future__ import annotations

import dataclasses
import statistics
import time

from ... import models
from ...generation import generate
from ...i18n import N_, msg
from ...scoring import general_check
from .. import trainer as shared
from . import checks, reward

PHASES = (N_("start: answering"), N_("tuned: answering"))


def token_counter(tokenizer):
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def score(items: list[dict], answers: list[str], references: list[str], count) -> tuple[dict, list]:
    """({mean reward, share passing all, each check's pass rate under its name}, [(reward, results)] per answer)."""
    scored = [checks.reward(items, a, r, count(a)) for a, r in zip(answers, references)]
    n = max(len(scored), 1)
    return {"reward": statistics.fmean(total for total, _ in scored) if scored else 0.0,
            "all_pass": sum(all(results) for _, results in scored) / n,
            **{reward.name(i, item): sum(bool(results[i]) for _, results in scored) / n
               for i, item in enumerate(items)}}, scored


def pass_rates(results: dict, who: str) -> list[float]:
    """Each check's pass rate for the starting ("base") or the tuned model, in the checks' order."""
    return [results[who][reward.name(i, item)] for i, item in enumerate(results["checks"])]


def best_reward(items: list[dict]) -> float:
    """The most an answer can score: every check with a positive weight passed."""
    return sum(max(i.get("weight", 1.0), 0.0) for i in items)


def evaluate(run, config, examples: list[dict], train_rows: list[dict], report_for, stop=None, start=None):
    """(results, side-by-side table, start's everyday answers, tuned everyday answers) on the held-out prompts."""
    from peft import PeftModel

    if run.final_dir() != run.adapter_dir:
        raise FileNotFoundError(msg("This run has no trained adapter yet: let it finish first."))
    n, t0, items = len(examples), time.time(), config.grpo.reward
    gen = dataclasses.replace(config.generation, max_new_tokens=max(config.generation.max_new_tokens,
                                                                    config.grpo.max_completion_length))
    report = report_for(2 * n)
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    model = PeftModel.from_pretrained(model, str(run.adapter_dir))
    if start is not None:
        model.load_adapter(str(start), adapter_name="start")
    prompts = [e["prompt"] for e in examples]
    references = [reward.reference(e) for e in examples]
    with shared.starting_point(model, start is not None):
        base = generate(model, tokenizer, prompts, gen, progress=report(PHASES[0], 0), stop=stop)
        base_general = general_check(model, tokenizer, config.generation, stop)
    tuned = generate(model, tokenizer, prompts, gen, progress=report(PHASES[1], n), stop=stop)
    tuned_general = general_check(model, tokenizer, config.generation, stop)
    count = token_counter(tokenizer)
    base_summary, base_scored = score(items, base, references, count)
    tuned_summary, tuned_scored = score(items, tuned, references, count)
    results = {"kind": "checks", "rows": n, "seconds": round(time.time() - t0, 1),
               "started_from": config.method.start_from or "base model", "checks": [dict(i) for i in items],
               "best": best_reward(items), "base": base_summary, "tuned": tuned_summary}
    table = [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "expected": ref, "base": b, "tuned": t,
              "base_reward": round(bs[0], 3), "tuned_reward": round(ts[0], 3),
              "base_passed": [bool(x) for x in bs[1]], "tuned_passed": [bool(x) for x in ts[1]]}
             for e, ref, b, t, bs, ts in zip(examples, references, base, tuned, base_scored, tuned_scored)]
    return results, table, base_general, tuned_general
