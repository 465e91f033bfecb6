"""What the benches share: a step clock, a counter of real tokens, and the plain SFTTrainer and DPOTrainer they
compare with.

Used by bench/train_speed.py (CPU, the embedded model) and bench/gpu_check.py (CUDA, models built from configs).
"""
from __future__ import annotations

import tempfile
import time


def timing_callback():
    """Seconds of each training step. On a GPU the clock waits for the step's kernels, or it would time only
    their launch."""
    import torch
    from transformers import TrainerCallback

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.t = [], None

        def on_step_begin(self, args, state, control, **kw):
            sync()
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            sync()
            self.times.append(time.perf_counter() - self.t)

    return Clock()


def real_tokens(inputs) -> int:
    """Tokens of a batch that are not padding: the attention mask's sum (DPO's batch holds the chosen and the
    rejected rows), or every token of a padding-free batch, which has no mask and no padding."""
    if "attention_mask" in inputs:
        return int(inputs["attention_mask"].sum())
    return inputs["input_ids"].numel()


def count_tokens(trainer, counts: list, lengths: list, losses: list | None = None):
    """Wrap training_step so the real tokens and padded length of every step are counted (and, given a list, the
    loss of every step: the logged loss is an average over logging_steps, which differs between trainers)."""
    original = trainer.training_step

    def step(model, inputs, *args, **kwargs):
        if isinstance(inputs, list):  # raw prompts: a method that writes its answers inside the step (GRPO)
            loss = original(model, inputs, *args, **kwargs)
            batch = trainer._buffered_inputs[(trainer._step - 1) % trainer.args.steps_per_generation]
            counts.append(int(batch["prompt_mask"].sum() + batch["completion_mask"].sum()))
            lengths.append(batch["prompt_ids"].shape[1] + batch["completion_ids"].shape[1])
        else:
            counts.append(real_tokens(inputs))
            lengths.append(inputs["input_ids"].shape[1])
            loss = original(model, inputs, *args, **kwargs)
        if losses is not None:
            losses.append(float(loss.detach()))
        return loss

    trainer.training_step = step


def plain_args(config, checkpointing: bool = True) -> dict:
    """The arguments a plain script sets: only what a fair comparison (same batch, learning rate, schedule, steps)
    or a machine without a GPU needs; everything else is the library's default."""
    import torch

    from engine import speed

    speed.set_compact_head(False)  # TRL's own rule
    kwargs = dict(output_dir=tempfile.mkdtemp(), max_steps=config.training.max_steps, report_to="none",
                  save_strategy="no", per_device_train_batch_size=config.training.batch_size,
                  learning_rate=config.training.learning_rate, seed=config.training.seed,
                  # the same schedule as the engine, so the losses compare; it costs nothing either way
                  lr_scheduler_type=config.training.lr_scheduler, warmup_steps=config.training.warmup_ratio)
    if not checkpointing:
        kwargs["gradient_checkpointing"] = False
    if not torch.cuda.is_available():
        kwargs.update(bf16=False, use_cpu=True)  # TRL's default bf16 assumes a GPU
    return kwargs


def plain_lora(config):
    from peft import LoraConfig

    return LoraConfig(r=config.method.lora_r, lora_alpha=config.method.lora_alpha,
                      lora_dropout=config.method.lora_dropout, target_modules="all-linear", task_type="CAUSAL_LM")


def build_plain(config, checkpointing: bool = True):
    """SFTTrainer with library defaults on the config's model and data, the same LoRA as the engine."""
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from engine import data, models

    kwargs = plain_args(config, checkpointing)
    _, train_rows, _, _ = data.prepare(config.data)
    folder = models.resolve(config.model.name)
    return SFTTrainer(model=AutoModelForCausalLM.from_pretrained(folder), args=SFTConfig(**kwargs),
                      train_dataset=data.to_hf(train_rows), processing_class=models.load_tokenizer(folder),
                      peft_config=plain_lora(config))


def build_plain_pairs(config, checkpointing: bool = True):
    """DPOTrainer with library defaults on the config's model and preference pairs, the same LoRA and beta as the
    engine: the reference (the adapter switched off) scores both answers of every pair at every step."""
    from transformers import AutoModelForCausalLM
    from trl import DPOConfig, DPOTrainer

    from engine import data, models
    from engine.data import pairs

    kwargs = plain_args(config, checkpointing)
    _, train_rows, _, _ = data.prepare(config.data)
    folder = models.resolve(config.model.name)
    return DPOTrainer(model=AutoModelForCausalLM.from_pretrained(folder), args=DPOConfig(**kwargs,
                                                                                         beta=config.dpo.beta),
                      train_dataset=pairs.to_hf(train_rows), processing_class=models.load_tokenizer(folder),
                      peft_config=plain_lora(config))
