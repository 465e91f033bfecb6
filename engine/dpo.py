"""Preference tuning (DPO) through TRL's DPOTrainer, and its evaluation on held-out pairs.

The trainer shares the studio's callback, run folder, checkpoints and speed levers with supervised fine-tuning
(train.py); only the TRL class, its data and its settings (beta, loss) differ. The model trains a LoRA adapter and
the reference is the same weights with the adapter switched off (TRL's own rule for a PEFT model with no
ref_model): one copy of the weights in memory. Started from a finished LoRA run, the run's adapter goes on
training and TRL keeps a frozen copy of that adapter as the reference (the adapter only, a few MB).

Speed levers (speed.py) that apply: bf16 autocast and bf16 frozen weights on AVX-512 BF16 CPUs, eager attention,
and the compact LM head (DPOTrainer's fused head scores only the answer tokens, for the policy and the reference).
Not used: packing and padding-free batches (DPOTrainer pads each pair), Liger (DPOTrainer's fused head replaces
its loss kernel).
"""
from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from . import data as data_mod
from . import models, preference
from .i18n import N_, msg
from .runs import Run


def build_trainer(run: Run, config, stop: threading.Event | None = None, callbacks=(), on_record=None,
                  resuming: bool = False):
    """DPOTrainer for this run, with the studio callback; returns (trainer, studio_callback)."""
    from trl import DPOConfig

    from . import train as train_mod

    d = config.dpo
    train_rows, val_rows = train_mod.prepare_data(config)
    device = models.device_info()
    levers = train_mod.choose_levers(config, device)
    model, tokenizer = train_mod.load_model(config, device, levers)
    peft_config = None
    if d.start_from:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(start_adapter(config)), is_trainable=True)
    else:
        peft_config = train_mod.lora_config(config.method)
    has_val = bool(val_rows)
    args = DPOConfig(**train_mod.common_args(run, config, device, levers, has_val, resuming),
                     beta=d.beta, loss_type=[d.loss_type],
                     label_smoothing=d.label_noise if d.loss_type == "robust" else 0.0)
    studio = train_mod.StudioCallback(run, stop or threading.Event(), on_record)
    trainer = train_mod.StudioTrainer("DPOTrainer", model=model, args=args,
                                      train_dataset=preference.to_hf(train_rows),
                                      eval_dataset=preference.to_hf(val_rows) if has_val else None,
                                      processing_class=tokenizer, peft_config=peft_config,
                                      callbacks=[*callbacks, studio])
    return train_mod.finish_build(trainer, studio, levers)


def start_adapter(config) -> Path:
    """The adapter folder of the finished LoRA run that config.dpo.start_from names, checked."""
    from .runs import get_run

    try:
        start = get_run(config.dpo.start_from)
    except (FileNotFoundError, ValueError):
        raise models.ModelError(msg("dpo.start_from: there is no run called {run}. Pick a finished LoRA run on the "
                                    "Model page, or leave it empty to start from the base model.",
                                    run=repr(config.dpo.start_from))) from None
    if start.final_dir() != start.adapter_dir:
        raise models.ModelError(msg("dpo.start_from: run {run} has no finished LoRA adapter. Let it finish first, "
                                    "or pick another run.", run=start.id))
    base = start.config().model.name
    if base != config.model.name:
        raise models.ModelError(msg("dpo.start_from: run {run} was trained from the model {base}, this run uses "
                                    "{model}. Choose the same model on the Model page.", run=start.id,
                                    base=repr(base), model=repr(config.model.name)))
    return start.adapter_dir


def finished_lora_runs(model_name: str | None = None) -> list[Run]:
    """Finished LoRA runs (supervised) that a DPO run can start from, newest first."""
    from .runs import list_runs

    found = []
    for run in list_runs():
        try:
            config = run.config()
        except Exception:
            continue
        if (config.method.method in ("lora", "qlora") and run.final_dir() == run.adapter_dir
                and (model_name is None or config.model.name == model_name)):
            found.append(run)
    return found


# ---------------------------------------------------------------- evaluation on held-out pairs

def answer_logps(model, tokenizer, examples: list[dict], max_length: int, batch_size: int = 8,
                 stop=None, progress=None) -> list[tuple[float, float]]:
    """Per pair, (log-probability of the chosen answer, of the rejected answer) given the prompt: the sum over the
    answer's tokens, as DPO scores them (cut at max_length like training)."""
    import torch

    from .evaluate import _check
    from .stats import tokenize_example

    sequences = []
    for e in examples:
        for side in ("chosen", "rejected"):
            ids, n_prompt = tokenize_example(tokenizer, preference.as_sft(e, side))
            sequences.append((ids[:max_length], n_prompt))
    scores = []
    model.eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(sequences), batch_size):
        _check(stop)
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
    from .evaluate import token_f1

    return token_f1(answer, example["chosen"][0]["content"]) > token_f1(answer, example["rejected"][0]["content"])


def summary(margins: list[float], answers: list[str], examples: list[dict]) -> dict:
    n = max(len(margins), 1)
    return {"accuracy": sum(m > 0 for m in margins) / n, "margin": sum(margins) / n,
            "closer_to_chosen": sum(map(closer_to_chosen, answers, examples)) / n}


# The evaluation's phases as the progress bar names them (msgids, stored in eval/progress.json).
PHASES = [N_("base: scoring pairs"), N_("base: answering"), N_("tuned: scoring pairs"), N_("tuned: answering")]


def evaluate_run(run: Run, rows: int | None = None, progress=None, stop: threading.Event | None = None) -> dict:
    """Held-out pairs scored by the model DPO started from and the tuned one (preference accuracy and margin),
    both models' answers to the held-out prompts, and the everyday-questions check; saved to eval/."""
    from peft import PeftModel

    from .evaluate import general_check, generate, progress_reporter, save_results

    config = run.config()
    loaded, _, val_rows, _ = data_mod.prepare(config.data)
    if loaded.kind != "preference":
        raise data_mod.DataError(preference.method_mismatch("dpo", loaded.kind))
    examples = val_rows[: rows or config.generation.eval_rows]
    if not examples:
        raise data_mod.DataError(msg("There are no held-out pairs to evaluate on. Set a validation share above 0 or "
                                     "give a held-out file."))
    if run.final_dir() != run.adapter_dir:
        raise FileNotFoundError(msg("This run has no trained adapter yet: let it finish first."))
    n, t0, gen = len(examples), time.time(), config.generation

    report = progress_reporter(run, 4 * n, progress)  # scoring and answering, base and tuned

    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    model = PeftModel.from_pretrained(model, str(run.adapter_dir))
    if config.dpo.start_from:
        model.load_adapter(str(start_adapter(config)), adapter_name="start")
    prompts = [e["prompt"] for e in examples]
    length = config.training.max_length
    with starting_point(model, bool(config.dpo.start_from)):
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
        "started_from": config.dpo.start_from or "base model",
        "base": summary(base_margins, base, examples), "tuned": summary(tuned_margins, tuned, examples),
        "reward_accuracy": sum(m > 0 for m in moved) / n, "reward_margin": config.dpo.beta * sum(moved) / n,
        "general": {"base": sum(g["passed"] for g in base_general) / len(base_general),
                    "tuned": sum(g["passed"] for g in tuned_general) / len(tuned_general)},
    }
    table = [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "chosen": e["chosen"][0]["content"],
              "rejected": e["rejected"][0]["content"], "base": b, "tuned": t, "base_margin": round(bm, 3),
              "tuned_margin": round(tm, 3), "base_closer": closer_to_chosen(b, e), "tuned_closer": closer_to_chosen(t, e)}
             for e, b, t, bm, tm in zip(examples, base, tuned, base_margins, tuned_margins)]
    return save_results(run, results, table, base_general, tuned_general)


@contextlib.contextmanager
def starting_point(model, from_run: bool):
    """The model as DPO started: the base (adapter off) or the starting run's adapter."""
    if not from_run:
        with model.disable_adapter():
            yield
        return
    model.set_adapter("start")
    try:
        yield
    finally:
        model.set_adapter("default")


def result_rows(results: dict) -> list[dict]:
    """The summary table of a preference evaluation, for the Evaluate page and the CLI: the model's name is a
    Message (render() it where it is shown), the figures are shares and log-probabilities."""
    start = msg("base model") if results.get("started_from", "base model") == "base model" else \
        msg("start ({run})", run=results["started_from"])
    return [{"model": label, "preference accuracy": r["accuracy"], "mean margin": r["margin"],
             "answers closer to chosen": r["closer_to_chosen"]}
            for label, r in ((start, results["base"]), (msg("DPO-tuned"), results["tuned"]))]


RESULTS_TEXT = N_("Preference accuracy: the share of held-out pairs where the model gives the chosen answer a higher "
                  "log-probability than the rejected one. Mean margin: log-probability of chosen minus rejected, "
                  "averaged (higher is a stronger preference). Answers closer to chosen: the model's own answers to "
                  "the held-out prompts share more words with the chosen answer than with the rejected one.")
