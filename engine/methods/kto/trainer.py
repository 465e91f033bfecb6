"""Preference tuning from answers marked good or bad (KTO) through TRL's KTOTrainer.

The trainer shares the studio's callback, run folder, checkpoints and speed levers with every method
(methods/trainer.py); only the TRL class, its data and its settings (beta, loss, the two weights) differ. The model
trains a LoRA adapter and the reference is the same weights with the adapter switched off (TRL's rule for a PEFT
model with no ref_model): one copy of the weights in memory. Started from a finished LoRA run, TRL keeps a frozen
copy of that adapter as the reference.

Data: answers marked good or bad, or pairs read as one good (chosen) and one bad (rejected) answer each. KTO
estimates how far the model has moved (its KL term) from each answer scored against the prompt of its neighbour in
the batch, so TRL reads the rows in order (a sequential sampler): the studio shuffles them once, with the run's
seed, so that batches mix good and bad answers and the two answers of a pair rarely sit side by side.

Speed levers (speed.py) that apply: bf16 autocast and bf16 frozen weights on AVX-512 BF16 CPUs, eager attention,
and the compact LM head (KTOTrainer's fused head scores only the answer tokens). Not used: packing and
padding-free batches (KTOTrainer pads each answer), Liger.
"""
from __future__ import annotations

import random

from ... import models
from ...data import labelled
from ...fields import SettingsError
from ...i18n import msg
from .. import trainer as shared
from . import balance


def unpaired(rows: list[dict]) -> list[dict]:
    """Rows as labelled answers: pairs (of a file of pairs) as a good and a bad answer each, in order."""
    return [a for r in rows for a in (labelled.from_pairs([r]) if "chosen" in r else [r])]


def answers(rows: list[dict], seed: int) -> list[dict]:
    """Training or validation rows as labelled answers, shuffled once with the run's seed."""
    out = unpaired(rows)
    random.Random(seed).shuffle(out)
    return out


def build_trainer(run, config, stop=None, callbacks=(), on_record=None, resuming: bool = False, start=None):
    """KTOTrainer for this run, with the studio callback; returns (trainer, studio_callback)."""
    from trl import KTOConfig

    method = config.method_info  # this folder's Method, from the registry

    k, t = config.kto, config.training
    if k.loss_type == "kto" and t.batch_size < 2:
        raise SettingsError(msg("KTO's loss compares each answer with the others of its batch: set the batch size to 2 "
                             "or more (or the loss to 'apo_zero_unpaired')."))
    train_rows, val_rows = shared.prepare_data(config, method.kinds, method.needs)
    train_rows, val_rows = answers(train_rows, t.seed), answers(val_rows, t.seed)
    good = sum(r["label"] for r in train_rows)
    desirable, undesirable = balance.weights(k, good, len(train_rows) - good)
    device = models.device_info()
    levers = shared.choose_levers(config, device)
    model, tokenizer = shared.load_model(config, device, levers)
    model, peft_config = shared.adapter(model, config, start)
    has_val = bool(val_rows)
    args = KTOConfig(**shared.common_args(run, config, device, levers, has_val, resuming),
                     beta=k.beta, loss_type=k.loss_type, desirable_weight=desirable, undesirable_weight=undesirable)
    studio = shared.callback(run, stop, on_record, method)
    trainer = shared.StudioTrainer(method.trainer_class, model=model, args=args,
                                   train_dataset=labelled.to_hf(train_rows),
                                   eval_dataset=labelled.to_hf(val_rows) if has_val else None,
                                   processing_class=tokenizer, peft_config=peft_config,
                                   callbacks=[*callbacks, studio])
    return shared.finish_build(trainer, studio, levers)
