"""Preference tuning (DPO) through TRL's DPOTrainer.

The trainer shares the studio's callback, run folder, checkpoints and speed levers with every method
(methods/trainer.py); only the TRL class, its data and its settings (beta, loss) differ. The model trains a LoRA
adapter and the reference is the same weights with the adapter switched off (TRL's own rule for a PEFT model with
no ref_model): one copy of the weights in memory. Started from a finished LoRA run, the run's adapter goes on
training and TRL keeps a frozen copy of that adapter as the reference (the adapter only, a few MB).

Speed levers (speed.py) that apply: bf16 autocast and bf16 frozen weights on AVX-512 BF16 CPUs, eager attention,
and the compact LM head (DPOTrainer's fused head scores only the answer tokens, for the policy and the reference).
Not used: packing and padding-free batches (DPOTrainer pads each pair), Liger (DPOTrainer's fused head replaces
its loss kernel).
"""
from __future__ import annotations

from ... import models
from ...data import pairs
from .. import trainer as shared


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
    args = DPOConfig(**shared.common_args(run, config, device, levers, has_val, resuming),
                     beta=d.beta, loss_type=[d.loss_type],
                     label_smoothing=d.label_noise if d.loss_type == "robust" else 0.0)
    studio = shared.callback(run, stop, on_record, method)
    trainer = shared.StudioTrainer(method.trainer_class, model=model, args=args,
                                   train_dataset=pairs.to_hf(train_rows),
                                   eval_dataset=pairs.to_hf(val_rows) if has_val else None,
                                   processing_class=tokenizer, peft_config=peft_config,
                                   callbacks=[*callbacks, studio])
    return shared.finish_build(trainer, studio, levers)
