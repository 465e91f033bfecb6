"""Did KTO work? Held-out answers marked good or bad, scored by the model KTO started from and by the tuned one
(do good answers gain probability and bad ones lose it?), both models' own answers to the held-out prompts, and the
everyday-questions check (from the evaluation shell, engine/evaluate.py)."""
from __future__ import annotations

import statistics
import time

from ... import models
from ...data.tokens import prompt_key, tokenize_example
from ...generation import check_stop, generate
from ...i18n import N_, msg
from ...scoring import general_check
from .. import trainer as shared
from . import balance
from .trainer import unpaired

# The evaluation's phases as the progress bar names them (msgids, stored in eval/progress.json).
PHASES = [N_("start: scoring answers"), N_("start: answering"), N_("tuned: scoring answers"), N_("tuned: answering")]


def answer_logps(model, tokenizer, examples: list[dict], max_length: int, batch_size: int = 8, stop=None,
                 progress=None) -> list[float]:
    """Per answer, its log-probability given the prompt: the sum over the answer's tokens, as KTO scores it (cut at
    max_length like training)."""
    import torch

    sequences = [(ids[:max_length], n) for ids, n in (tokenize_example(tokenizer, e) for e in examples)]
    scores = []
    model.eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(sequences), batch_size):
        check_stop(stop)
        chunk = sequences[start:start + batch_size]
        width = max(len(ids) for ids, _ in chunk)
        input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for i, (ids, _) in enumerate(chunk):
            input_ids[i, :len(ids)] = torch.tensor(ids)
            mask[i, :len(ids)] = 1
        with torch.no_grad():
            logits = model(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device)).logits
        logps = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(
            -1, input_ids[:, 1:, None].to(logits.device)).squeeze(-1)
        for i, (ids, n_prompt) in enumerate(chunk):
            scores.append(float(logps[i, max(n_prompt - 1, 0):len(ids) - 1].sum()))
        if progress:
            progress(len(scores), len(sequences))
    return scores


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def summary(logps: list[float], labels: list[bool]) -> dict:
    good = [v for v, g in zip(logps, labels) if g]
    bad = [v for v, g in zip(logps, labels) if not g]
    mean_good, mean_bad = _mean(good), _mean(bad)
    return {"good_logp": mean_good, "bad_logp": mean_bad,
            "gap": mean_good - mean_bad if good and bad else None}


def moved(base: list[float], tuned: list[float], labels: list[bool]) -> dict:
    """How the answers moved from the start: share of good answers more likely, of bad ones less likely, the mean
    change of each side, and KTO's implicit reward margin (beta times the change, good minus bad)."""
    up = [t - b for b, t, g in zip(base, tuned, labels) if g]
    down = [t - b for b, t, g in zip(base, tuned, labels) if not g]
    return {"good_gained": sum(d > 0 for d in up) / len(up) if up else None,
            "bad_lost": sum(d < 0 for d in down) / len(down) if down else None,
            "good_change": _mean(up), "bad_change": _mean(down),
            "right_way": (sum(d > 0 for d in up) + sum(d < 0 for d in down)) / max(len(up) + len(down), 1)}


def evaluate(run, config, examples: list[dict], train_rows: list[dict], report_for, stop=None, start=None):
    """Held-out answers scored by the model KTO started from and the tuned one, both models' answers to the
    held-out prompts, and the everyday-questions check."""
    from peft import PeftModel

    if run.final_dir() != run.adapter_dir:
        raise FileNotFoundError(msg("This run has no trained adapter yet: let it finish first."))
    t0, gen, length = time.time(), config.generation, config.training.max_length
    scored = unpaired(examples)  # pairs as their good and bad answers
    labels = [a["label"] for a in scored]
    prompts = list({prompt_key(a): a["prompt"] for a in scored}.values())  # each held-out prompt answered once
    n, p = len(scored), len(prompts)
    report = report_for(2 * (n + p))  # scoring and answering, start and tuned
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    model = PeftModel.from_pretrained(model, str(run.adapter_dir))
    if start is not None:
        model.load_adapter(str(start), adapter_name="start")
    with shared.starting_point(model, start is not None):
        base_logps = answer_logps(model, tokenizer, scored, length, stop=stop, progress=report(PHASES[0], 0))
        base = generate(model, tokenizer, prompts, gen, progress=report(PHASES[1], n), stop=stop)
        base_general = general_check(model, tokenizer, gen, stop)
    tuned_logps = answer_logps(model, tokenizer, scored, length, stop=stop, progress=report(PHASES[2], n + p))
    tuned = generate(model, tokenizer, prompts, gen, progress=report(PHASES[3], 2 * n + p), stop=stop)
    tuned_general = general_check(model, tokenizer, gen, stop)
    good, trained = sum(labels), [a["label"] for a in unpaired(train_rows)]
    desirable, undesirable = balance.weights(config.kto, sum(trained), len(trained) - sum(trained))
    results = {
        "kind": "labelled", "rows": len(examples), "answers": n, "good": good, "bad": n - good, "prompts": p,
        "seconds": round(time.time() - t0, 1), "started_from": config.method.start_from or "base model",
        "base": summary(base_logps, labels), "tuned": summary(tuned_logps, labels),
        **moved(base_logps, tuned_logps, labels),
        "weights": {"good": desirable, "bad": undesirable, "trained_good": sum(trained),
                    "trained_bad": len(trained) - sum(trained)},
    }
    own = {prompt_key({"prompt": q}): (b, t) for q, b, t in zip(prompts, base, tuned)}
    table = [{"row": a["row"], "prompt": a["prompt"][-1]["content"], "answer": a["completion"][0]["content"],
              "label": a["label"], "base": own[prompt_key(a)][0], "tuned": own[prompt_key(a)][1],
              "base_logp": round(b, 3), "tuned_logp": round(t, 3)}
             for a, b, t in zip(scored, base_logps, tuned_logps)]
    return results, table, base_general, tuned_general
