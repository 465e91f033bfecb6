"""Did preference tuning work? Held-out pairs scored by the model DPO started from and by the tuned one, and
both models' own answers to the held-out prompts."""
from __future__ import annotations

import time

from ... import models
from ...data import pairs
from ...data.tokens import tokenize_example
from ...generation import check_stop, generate
from ...i18n import N_, msg
from ...scoring import general_check, token_f1
from .. import trainer as shared


def answer_logps(model, tokenizer, examples: list[dict], max_length: int, batch_size: int = 8,
                 stop=None, progress=None) -> list[tuple[float, float]]:
    """Per pair, (log-probability of the chosen answer, of the rejected answer) given the prompt: the sum over the
    answer's tokens, as DPO scores them (cut at max_length like training)."""
    import torch

    sequences = []
    for e in examples:
        for side in ("chosen", "rejected"):
            ids, n_prompt = tokenize_example(tokenizer, pairs.as_answer(e, side))
            sequences.append((ids[:max_length], n_prompt))
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
        logps = torch.log_softmax(logits[:, :-1].float(), dim=-1).gather(-1, input_ids[:, 1:, None].to(
            logits.device)).squeeze(-1)
        for i, (ids, n_prompt) in enumerate(chunk):
            scores.append(float(logps[i, max(n_prompt - 1, 0):len(ids) - 1].sum()))
        if progress:
            progress(min(len(scores) // 2, len(examples)), len(examples))
    return [(scores[i], scores[i + 1]) for i in range(0, len(scores), 2)]


def closer_to_chosen(answer: str, example: dict) -> bool:
    """The generated answer shares more words with the chosen answer than with the rejected one."""
    return token_f1(answer, example["chosen"][0]["content"]) > token_f1(answer, example["rejected"][0]["content"])


def summary(margins: list[float], answers: list[str], examples: list[dict]) -> dict:
    n = max(len(margins), 1)
    return {"accuracy": sum(m > 0 for m in margins) / n, "margin": sum(margins) / n,
            "closer_to_chosen": sum(map(closer_to_chosen, answers, examples)) / n}


# The evaluation's phases as the progress bar names them (msgids, stored in eval/progress.json).
PHASES = [N_("base: scoring pairs"), N_("base: answering"), N_("tuned: scoring pairs"), N_("tuned: answering")]


def evaluate(run, config, examples: list[dict], train_rows: list[dict], report_for, stop=None, start=None):
    """Held-out pairs scored by the model DPO started from and the tuned one (preference accuracy and margin),
    both models' answers to the held-out prompts, and the everyday-questions check."""
    from peft import PeftModel

    if run.final_dir() != run.adapter_dir:
        raise FileNotFoundError(msg("This run has no trained adapter yet: let it finish first."))
    n, t0, gen = len(examples), time.time(), config.generation
    report = report_for(4 * n)  # scoring and answering, base and tuned
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    model = PeftModel.from_pretrained(model, str(run.adapter_dir))
    if start is not None:
        model.load_adapter(str(start), adapter_name="start")
    prompts = [e["prompt"] for e in examples]
    length = config.training.max_length
    with shared.starting_point(model, start is not None):
        base_logps = answer_logps(model, tokenizer, examples, length, stop=stop, progress=report(PHASES[0], 0))
        base = generate(model, tokenizer, prompts, gen, progress=report(PHASES[1], n), stop=stop)
        base_general = general_check(model, tokenizer, gen, stop)
    tuned_logps = answer_logps(model, tokenizer, examples, length, stop=stop,
                               progress=report(PHASES[2], 2 * n))
    tuned = generate(model, tokenizer, prompts, gen, progress=report(PHASES[3], 3 * n), stop=stop)
    tuned_general = general_check(model, tokenizer, gen, stop)
    base_margins = [c - r for c, r in base_logps]
    tuned_margins = [c - r for c, r in tuned_logps]
    # DPO's implicit reward of the tuned model against where it started (TRL's rewards/accuracies, margins).
    moved = [t - b for t, b in zip(tuned_margins, base_margins)]
    results = {
        "kind": "preference", "rows": n, "seconds": round(time.time() - t0, 1),
        "started_from": config.method.start_from or "base model",
        "base": summary(base_margins, base, examples), "tuned": summary(tuned_margins, tuned, examples),
        "reward_accuracy": sum(m > 0 for m in moved) / n, "reward_margin": config.dpo.beta * sum(moved) / n,
    }
    table = [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "chosen": e["chosen"][0]["content"],
              "rejected": e["rejected"][0]["content"], "base": b, "tuned": t, "base_margin": round(bm, 3),
              "tuned_margin": round(tm, 3), "base_closer": closer_to_chosen(b, e), "tuned_closer": closer_to_chosen(t, e)}
             for e, b, t, bm, tm in zip(examples, base, tuned, base_margins, tuned_margins)]
    return results, table, base_general, tuned_general
