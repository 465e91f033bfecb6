"""Scores of answers against references, the loss on answers, and the everyday-questions check.

Exact match after trimming and folding white space, and token F1 (SQuAD-style overlap of lower-cased words).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from .data.tokens import tokenize_example
from .generation import check_stop, generate


def normalize(text: str) -> str:
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = words(prediction), words(reference)
    if not pred and not ref:
        return 1.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def answer_loss(model, tokenizer, examples: list[dict], stop=None) -> float:
    """Mean cross-entropy per answer token (the quantity training lowers)."""
    import torch

    total, count = 0.0, 0
    model.eval()
    for example in examples:
        check_stop(stop)
        ids, n_prompt = tokenize_example(tokenizer, example)
        input_ids = torch.tensor([ids], device=model.device)
        labels = input_ids.clone()
        labels[:, :n_prompt] = -100
        with torch.no_grad():
            loss = model(input_ids=input_ids, labels=labels).loss
        n = len(ids) - n_prompt
        total += loss.item() * n
        count += n
    return total / max(count, 1)


def score(predictions: list[str], references: list[str]) -> dict:
    n = max(len(references), 1)
    return {"exact_match": sum(map(exact_match, predictions, references)) / n,
            "token_f1": sum(map(token_f1, predictions, references)) / n}


GENERAL_FILE = Path(__file__).resolve().parents[1] / "assets" / "eval" / "general.json"


def few_shot_prompt(shots: list[dict], example: dict) -> list[dict]:
    """The base model's prompt for the prompting baseline: training examples as earlier turns, then the row."""
    system = [m for m in example["prompt"] if m["role"] == "system"]
    turns = []
    for shot in shots:
        turns += [m for m in shot["prompt"] if m["role"] != "system"] + shot["completion"]
    return system + turns + [m for m in example["prompt"] if m["role"] != "system"]


def pick_shots(train_rows: list[dict], k: int, seed: int) -> list[dict]:
    """k training examples (never held-out ones), the same every time for a given seed."""
    import random

    return random.Random(seed).sample(train_rows, min(k, len(train_rows)))


def general_check(model, tokenizer, settings, stop=None) -> list[dict]:
    """Everyday prompts: does the model still know simple things and answer politely?"""
    items = json.loads(GENERAL_FILE.read_text(encoding="utf-8"))["prompts"]
    answers = generate(model, tokenizer, [[{"role": "user", "content": i["prompt"]}] for i in items],
                       settings, stop=stop)
    return [{"prompt": i["prompt"], "answer": a, "passed": any(w in a.lower() for w in i["accept"])}
            for i, a in zip(items, answers)]
