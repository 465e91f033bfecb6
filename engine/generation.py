"""Answers from a model to chat prompts, batched, greedy or sampled; shared by evaluation, chat and the everyday mix.

How long an answer may be: generation.max_new_tokens, or, when it is 0, a length measured from the answers of
the training file (answer_tokens), so code answers are not cut at a fixed 64 tokens and one-word labels do not
wait for 64. A run records the measured number when its training starts (engine/runs.py answer_settings).
"""
from __future__ import annotations

import dataclasses
import math
import threading

from .data.rows import PROMPTS
from .i18n import Message, msg

PERCENTILE, MARGIN, EXTRA = 0.95, 1.25, 8  # a high percentile of the answers' lengths, with some room
SHORTEST, LONGEST = 16, 512
NO_ANSWERS = 128  # data with prompts alone (no answers to measure)


class Cancelled(RuntimeError):
    pass


def check_stop(stop: threading.Event | None):
    if stop is not None and stop.is_set():
        raise Cancelled(msg("Evaluation was cancelled."))


def answer_tokens(stats: dict) -> int:
    """The answer length from the data's token statistics (engine.data.compute_stats): the 95th percentile of the
    answers' lengths × 1.25 + 8, between 16 and 512; 128 when the data has no answers (prompts alone)."""
    lengths = sorted(stats.get("answer_lengths") or [])
    if not lengths or stats.get("kind") == PROMPTS:
        return NO_ANSWERS
    high = lengths[min(len(lengths) - 1, math.ceil(PERCENTILE * len(lengths)) - 1)]
    return max(SHORTEST, min(LONGEST, math.ceil(high * MARGIN) + EXTRA))


def resolve(settings, measured: int):
    """The settings with the answer length decided: the number set (above 0) wins, else the measured one."""
    if settings.max_new_tokens:
        return settings
    return dataclasses.replace(settings, max_new_tokens=measured)


def length_note(setting: int, measured: int | None) -> Message:
    """Where the answer length comes from, in a sentence for the pages."""
    if setting:
        return msg("Answers stop at {tokens} tokens, the number set here (0 measures it from your data).",
                   tokens=setting)
    if measured is None:
        return msg("Answers stop at a length measured from the answers of your training file (choose a dataset "
                   "to see it).")
    return msg("From your data: {tokens} tokens (the 95th percentile of the training answers' lengths × 1.25 + 8, "
               "between 16 and 512). Set a number to choose it yourself.", tokens=measured)


def generate(model, tokenizer, prompts: list[list[dict]], settings, batch_size: int = 8,
             progress=None, stop=None) -> list[str]:
    """Answers to chat prompts, batched with left padding; greedy when temperature is 0."""
    import torch

    tokenizer.padding_side = "left"
    sample = settings.temperature > 0
    kwargs = dict(max_new_tokens=settings.max_new_tokens or NO_ANSWERS, do_sample=sample,
                  repetition_penalty=settings.repetition_penalty, pad_token_id=tokenizer.pad_token_id)
    if sample:
        kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    answers = []
    model.eval()
    for start in range(0, len(prompts), batch_size):
        check_stop(stop)
        texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                 for p in prompts[start:start + batch_size]]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            out = model.generate(**batch, **kwargs)
        answers += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        if progress:
            progress(len(answers), len(prompts))
    return [a.strip() for a in answers]
