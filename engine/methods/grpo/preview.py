"""See the reward before paying for training: the model training would start from writes a group of answers to a
few training prompts, as GRPO will, and the checks score each one. A reward that gives every answer the same score
teaches nothing; the findings say so in plain words, with what to change."""
from __future__ import annotations

import random
import time
from types import SimpleNamespace

from ... import models
from ...generation import generate
from ...i18n import N_, msg, t
from . import checks, reward
from .evaluate import token_counter

TITLE = N_("Try the reward before training")
CAPTION = N_("The model training starts from writes a group of answers to a few training prompts, as training will, "
             "and each answer is scored check by check. GRPO learns only from answers to the same prompt that score "
             "differently.")
BUTTON = N_("Preview the reward")
PROMPTS = 4  # training prompts answered by the preview


def summary(config) -> str:
    return t("Reward: {sentence}.", sentence=checks.sentence(config.grpo.reward))


def run(config, examples: list[dict], start=None, stop=None, prompts: int = PROMPTS) -> dict:
    """A group of answers to a few training prompts from the starting model, each scored check by check."""
    g = config.grpo
    items = g.reward
    if not items:
        raise ValueError(msg("The reward has no check yet: add at least one."))
    reward.check_references(items, examples)
    picked = random.Random(config.data.seed).sample(examples, min(prompts, len(examples)))
    t0 = time.time()
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    if start is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(start))
    settings = SimpleNamespace(max_new_tokens=g.max_completion_length, temperature=g.temperature, top_p=1.0,
                               repetition_penalty=1.0)
    answers = generate(model, tokenizer, [e["prompt"] for e in picked for _ in range(g.num_generations)], settings,
                       batch_size=max(g.num_generations, 8), stop=stop)
    count = token_counter(tokenizer)
    samples = []
    for i, answer in enumerate(answers):
        example = picked[i // g.num_generations]
        tokens = count(answer)
        total, results = checks.reward(items, answer, reward.reference(example), tokens)
        samples.append({"prompt": i // g.num_generations, "answer": answer, "reward": total,
                        "passed": [bool(r) for r in results], "timed_out": [r is None for r in results],
                        "cut": tokens >= g.max_completion_length})
    return {"checks": [dict(i) for i in items], "group_size": g.num_generations, "samples": samples,
            "prompts": [e["prompt"][-1]["content"] for e in picked],
            "expected": [reward.reference(e) for e in picked], "max_tokens": g.max_completion_length,
            "seconds": round(time.time() - t0, 1)}


def rows(result: dict) -> list[dict]:
    """One row per answer: its prompt, the answer, its reward and each check passed (✓), failed (✗) or out of
    time (⏱)."""
    names = [f"{i}. {checks.condition(item)}" for i, item in enumerate(result["checks"], start=1)]
    out = []
    for s in result["samples"]:
        row = {t("prompt"): result["prompts"][s["prompt"]], t("answer"): s["answer"], t("reward"): s["reward"]}
        for name, passed, late in zip(names, s["passed"], s["timed_out"]):
            row[name] = "⏱" if late else "✓" if passed else "✗"
        out.append(row)
    return out


def findings(result: dict) -> list[tuple[str, object]]:
    """What the preview says about the reward: whether it can teach, and what to change when it cannot."""
    samples, items, size = result["samples"], result["checks"], result["group_size"]
    totals = [s["reward"] for s in samples]
    groups = [totals[i:i + size] for i in range(0, len(totals), size)]
    spread = sum(max(g) > min(g) for g in groups)
    rates = [sum(s["passed"][i] for s in samples) / len(samples) for i in range(len(items))]
    found = []
    if spread == 0:
        if all(r == 1 for r in rates):
            advice = msg("The model already passes every check: add a stricter check (for example a field that must "
                         "match the expected answer) or raise the bar of one (a shorter length).")
        elif all(r == 0 for r in rates):
            advice = msg("No answer passes any check: make one easier to pass (fewer keys, a looser length), raise "
                         "the longest answer if answers are cut, or start from a short supervised run (Model page) so "
                         "that some answers pass.")
        else:
            advice = msg("Each check either passes on every answer or on none: add a check that some answers pass and "
                         "others fail, or raise the sampling temperature so the answers differ more.")
        found.append(("warning", msg("This reward cannot tell better answers from worse: every answer to the same "
                                     "prompt got the same score, so GRPO will learn nothing from it. {advice}",
                                     advice=advice)))
    else:
        found.append(("success", msg("{spread} of {prompts} prompts got answers with different rewards: that is "
                                     "what GRPO learns from.", spread=spread, prompts=len(groups))))
    for number, (item, rate) in enumerate(zip(items, rates), start=1):
        what = checks.condition(item)
        if rate == 1 and spread:
            found.append(("info", msg("Check {number} ({what}) passes on every answer already: it adds nothing to "
                                      "learn for now.", number=number, what=what)))
        elif rate == 0 and spread:
            found.append(("warning", msg("Check {number} ({what}) passes on no answer: it cannot teach until some "
                                         "answers pass it. Make it easier, or start from a short supervised run.",
                                         number=number, what=what)))
        late = sum(s["timed_out"][number - 1] for s in samples)
        if late:
            found.append(("warning", msg("The pattern of check {number} ran out of time on {count} answers (each "
                                         "counted as failed): simplify it.", number=number, count=late)))
    cut = sum(s["cut"] for s in samples)
    if cut:
        found.append(("info", msg("{cut} of {total} answers reached the longest answer ({tokens} tokens) and were cut "
                                  "off: raise it if your answers need more room.", cut=cut, total=len(samples),
                                  tokens=result["max_tokens"])))
    return found
