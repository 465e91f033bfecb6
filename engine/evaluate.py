"""Did it work? Answer held-out rows with the base and the tuned model and score both.

Scores: validation loss on the answers (and perplexity), exact match after trimming and folding white space,
and token F1 (SQuAD-style overlap of lower-cased words). Results go to the run's eval/ folder.
"""
from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter
from pathlib import Path

from .i18n import N_, msg
from . import data as data_mod
from . import models, warm
from .paths import write_atomic, write_json
from .runs import Run
from .settings import GenerationSettings
from .stats import tokenize_example


class Cancelled(RuntimeError):
    pass


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


def _check(stop: threading.Event | None):
    if stop is not None and stop.is_set():
        raise Cancelled(msg("Evaluation was cancelled."))


def generate(model, tokenizer, prompts: list[list[dict]], settings: GenerationSettings, batch_size: int = 8,
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
        _check(stop)
        texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                 for p in prompts[start:start + batch_size]]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        with torch.no_grad():
            out = model.generate(**batch, **kwargs)
        answers += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        if progress:
            progress(len(answers), len(prompts))
    return [a.strip() for a in answers]


def answer_loss(model, tokenizer, examples: list[dict], stop=None) -> float:
    """Mean cross-entropy per answer token (the quantity training lowers)."""
    import torch

    total, count = 0.0, 0
    model.eval()
    for example in examples:
        _check(stop)
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


def general_check(model, tokenizer, settings: GenerationSettings, stop=None) -> list[dict]:
    """Everyday prompts: does the model still know simple things and answer politely?"""
    items = json.loads(GENERAL_FILE.read_text(encoding="utf-8"))["prompts"]
    answers = generate(model, tokenizer, [[{"role": "user", "content": i["prompt"]}] for i in items],
                       settings, stop=stop)
    return [{"prompt": i["prompt"], "answer": a, "passed": any(w in a.lower() for w in i["accept"])}
            for i, a in zip(items, answers)]


def progress_reporter(run: Run, total: int, progress=None):
    """report(phase, offset) -> a callback(count, n) that writes eval/progress.json and tells the caller, for
    an evaluation made of several passes adding up to `total` items."""
    def report(phase, offset):
        def callback(count, _n):
            state = {"done": offset + count, "total": total, "phase": phase, "time": time.time()}
            write_json(run.eval_dir / "progress.json", state)
            if progress:
                progress(state["done"], state["total"], phase)
        return callback
    return report


def evaluate_run(run: Run, rows: int | None = None, progress=None, stop: threading.Event | None = None,
                 shots: int = 3) -> dict:
    """Base, prompting baseline and tuned answers on held-out rows, plus the general check; saved to eval/.
    A DPO run is scored on held-out pairs instead (dpo.evaluate_run)."""
    warm.ready()  # see engine/warm.py
    from peft import PeftModel

    config = run.config()
    if config.method.method == "dpo":
        from . import dpo

        return dpo.evaluate_run(run, rows, progress, stop)
    _, train_rows, val_rows, _ = data_mod.prepare(config.data)
    examples = val_rows[: rows or config.generation.eval_rows]
    if not examples:
        raise data_mod.DataError(msg("There are no held-out rows to evaluate on. Set a validation share above 0 "
                                     "or give a held-out file."))
    final = run.final_dir()
    if final is None:
        raise FileNotFoundError(msg("This run has no trained model yet: let it finish first."))
    n = len(examples)
    t0 = time.time()

    report = progress_reporter(run, 3 * n, progress)  # the three answer passes

    prompts = [e["prompt"] for e in examples]
    references = [e["completion"][0]["content"] for e in examples]
    gen = config.generation
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    base = generate(model, tokenizer, prompts, gen, progress=report(N_("base model"), 0), stop=stop)
    shot_rows = pick_shots(train_rows, shots, config.data.seed)
    prompted = generate(model, tokenizer, [few_shot_prompt(shot_rows, e) for e in examples], gen,
                        progress=report(N_("prompting baseline"), n), stop=stop)
    base_general = general_check(model, tokenizer, gen, stop)
    base_loss = answer_loss(model, tokenizer, examples, stop)
    if final == run.adapter_dir:
        model = PeftModel.from_pretrained(model, str(final))
    else:
        model, tokenizer = _load_full(final)
    tuned = generate(model, tokenizer, prompts, gen, progress=report(N_("tuned model"), 2 * n), stop=stop)
    tuned_general = general_check(model, tokenizer, gen, stop)
    tuned_loss = answer_loss(model, tokenizer, examples, stop)
    results = {
        "rows": n, "seconds": round(time.time() - t0, 1), "shots": len(shot_rows),
        "base": {**score(base, references), "loss": base_loss, "perplexity": math.exp(base_loss)},
        "prompted": score(prompted, references),
        "tuned": {**score(tuned, references), "loss": tuned_loss, "perplexity": math.exp(tuned_loss)},
        "general": {"base": sum(g["passed"] for g in base_general) / len(base_general),
                    "tuned": sum(g["passed"] for g in tuned_general) / len(tuned_general)},
    }
    table = [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "expected": ref, "base": b, "prompted": p,
              "tuned": t, "base_match": exact_match(b, ref), "prompted_match": exact_match(p, ref),
              "tuned_match": exact_match(t, ref)}
             for e, ref, b, p, t in zip(examples, references, base, prompted, tuned)]
    return save_results(run, results, table, base_general, tuned_general)


def save_results(run: Run, results: dict, table: list[dict], base_general: list[dict],
                 tuned_general: list[dict]) -> dict:
    """Write eval/ (results, rows side by side, the everyday questions) and return it all, as load_results does."""
    general = [{"prompt": b["prompt"], "base": b["answer"], "base_passed": b["passed"], "tuned": t["answer"],
                "tuned_passed": t["passed"]} for b, t in zip(base_general, tuned_general)]
    write_atomic(run.eval_dir / "rows.json", json.dumps(table, indent=1))
    write_atomic(run.eval_dir / "general.json", json.dumps(general, indent=1))
    write_json(run.eval_dir / "results.json", results)
    (run.eval_dir / "progress.json").unlink(missing_ok=True)
    return {**results, "table": table, "general_table": general}


def _load_full(folder):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder), models.load_tokenizer(folder)


def load_results(run: Run) -> dict | None:
    from .paths import read_json

    results = read_json(run.eval_dir / "results.json")
    if results is not None:
        results["table"] = read_json(run.eval_dir / "rows.json", [])
        results["general_table"] = read_json(run.eval_dir / "general.json", [])
    return results
