"""Answers from a model to chat prompts, batched, greedy or sampled; shared by evaluation, chat and the everyday mix."""
from __future__ import annotations

import threading

from .i18n import msg


class Cancelled(RuntimeError):
    pass


def check_stop(stop: threading.Event | None):
    if stop is not None and stop.is_set():
        raise Cancelled(msg("Evaluation was cancelled."))


def generate(model, tokenizer, prompts: list[list[dict]], settings, batch_size: int = 8,
             progress=None, stop=None) -> list[str]:
    """Answers to chat prompts, batched with left padding; greedy when temperature is 0."""
    import torch

    tokenizer.padding_side = "left"
    sample = settings.temperature > 0
    kwargs = dict(max_new_tokens=settings.max_new_tokens, do_sample=sample,
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
