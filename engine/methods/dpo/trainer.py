"""Preference tuning (DPO) through TRL's DPOTrainer.

The trainer shares the studio's callback, run folder, checkpoints and speed levers with every method
(methods/trainer.py); only the TRL class, its data and its settings (beta, loss) differ. The model trains a LoRA
adapter and the reference is the same weights with the adapter switched off (TRL's own rule for a PEFT model with
no ref_model): one copy of the weights in memory. Started from a finished LoRA run, the run's adapter goes on
training and TRL keeps a frozen copy of that adapter as the reference (the adapter only, a few MB).

The reference is frozen, so its scores of every pair are computed once before the first step (TRL's
precompute_ref_log_probs) and kept in the run folder, where a resumed run reads them (reference.py): the steps and
validations run the policy only.

Each pair's prompt runs once for both answers, in one row per pair (shared_prompt.py): fewer tokens, no padding of
the shorter answer to the longer one.

Speed levers (speed.py) that apply: bf16 autocast and bf16 frozen weights on AVX-512 BF16 CPUs, eager attention,
and the compact LM head (DPOTrainer's fused head scores only the answer tokens, for the policy and the reference).
Not used: packing and padding-free batches (TRL 1.16 turns DPO's padding_free off), Liger (DPOTrainer's fused head
replaces its loss kernel).
"""
from __future__ import annotations

import math

from transformers import TrainerCallback

from ... import models
from ...data import pairs
from .. import trainer as shared
from . import reference, shared_prompt

# The reference scored once before training (True) or at every step as TRL does by default (False), and each pair's
# prompt run once for both answers (True) or once per answer (False): the benches and tests compare both ways.
REFERENCE_ONCE = True
SHARED_PROMPT = True


def build_trainer(run, config, stop=None, callbacks=(), on_record=None, resuming: bool = False, start=None):
    """DPOTrainer for this run, with the studio callback; returns (trainer, studio_callback)."""
    from trl import DPOConfig

    method = config.method_info  # this folder's Method, from the registry

    d = config.dpo
    train_rows, val_rows = shared.prepare_data(config, method.data_kind, method.needs)
    device = models.device_info()
    levers = shared.choose_levers(config, device)
    model, tokenizer = shared.load_model(config, device, levers)
    model, peft_config = shared.adapter(model, config, start)
    has_val = bool(val_rows)
    common = shared.common_args(run, config, device, levers, has_val, resuming)
    starting = common.pop("eval_on_start")  # the starting point's validation needs no pass (StartingPoint)
    args = DPOConfig(**common, beta=d.beta, loss_type=[d.loss_type],
                     label_smoothing=d.label_noise if d.loss_type == "robust" else 0.0,
                     precompute_ref_log_probs=REFERENCE_ONCE,
                     precompute_ref_batch_size=common["per_device_eval_batch_size"])
    studio = shared.callback(run, stop, on_record, method)
    data = dict(model=model, args=args, train_dataset=pairs.to_hf(train_rows),
                eval_dataset=pairs.to_hf(val_rows) if has_val else None, processing_class=tokenizer,
                peft_config=peft_config, callbacks=[*callbacks, studio])
    if REFERENCE_ONCE:
        trainer = reference.trainer_class()(reference_store=reference_store(run, config, start),
                                            shared_prompt=SHARED_PROMPT, **data)
    else:
        trainer = shared_prompt.trainer_class()(shared_prompt=SHARED_PROMPT, **data)
    if starting:
        trainer.add_callback(StartingPoint(trainer, d))
    return shared.finish_build(trainer, studio, levers)


def row_tokens(stats: dict, max_length: int, shape: dict) -> float | None:
    """A pair's tokens in one step, its prompt run once: the prompt, both answers as the max length leaves them, and
    the prompt's last token again (shared_prompt.py). None (the estimate's default: two whole rows) without the
    pairs' lengths, or for a model that runs TRL's two rows (shared_prompt.exact_for)."""
    prompts = stats.get("prompt_lengths")
    if not SHARED_PROMPT or not prompts or not shape.get("branched_rows"):
        return None
    rows = [p + min(c, max(max_length - p, 0)) + min(r, max(max_length - p, 0)) + 1
            for p, c, r in zip(prompts, stats["chosen_lengths"], stats["rejected_lengths"])]
    return sum(rows) / len(rows)


def loss_at_start(d) -> float:
    """DPO's loss when the model is still its own reference: every pair's margin is 0 (TRL's formulas at 0)."""
    if d.loss_type == "hinge":
        return 1.0  # relu(1 - beta * 0)
    if d.loss_type == "ipo":
        return (1 / (2 * d.beta)) ** 2  # (0 - 1 / (2 beta))^2
    return math.log(2)  # sigmoid, and robust: ((1 - e) - e) ln 2 / (1 - 2e)


class StartingPoint(TrainerCallback):
    """The validation at step 0 without a pass over the validation pairs. Before the first step the model is its own
    reference (a fresh adapter adds exactly zero; a starting run's adapter is its own frozen copy), so every pair's
    margin is 0: the loss is DPO's loss at margin 0, the rewards and margins are 0 and no pair is preferred yet (TRL
    counts a tie as not preferred). tests/methods/test_dpo.py checks these equal a real validation pass."""

    def __init__(self, trainer, d):
        self.trainer, self.d = trainer, d

    def on_train_begin(self, args, state, control, **kw):
        if state.global_step == 0:
            self.trainer.log(start_metrics(self.d))


def start_metrics(d) -> dict:
    zero = {f"eval_rewards/{k}": 0.0 for k in ("chosen", "rejected", "accuracies", "margins")}
    return {"eval_loss": loss_at_start(d), **zero}


def reference_store(run, config, start):
    """The run folder's stored reference scores; under several processes only the main one writes them."""
    from accelerate import PartialState

    folder = models.resolve(config.model.name, config.model.allow_pickle)
    return reference.Store(run.path / reference.FILE, reference.source(config, start, folder),
                           writes=PartialState().is_main_process)
