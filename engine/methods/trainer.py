"""What every method's trainer shares: the studio callback (metrics, status, stop, divergence, checkpoints), the
model with its speed levers and adapter, the Trainer arguments, and TRL's trainer noting a non-finite loss.

A method's trainer.py builds its TRL trainer from these; engine/train.py runs it.
"""
from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback

from .. import data as data_mod
from .. import models, speed
from ..checkpoints import mark_checkpoint
from ..i18n import msg
from ..sections import ADAPTER_WEIGHTS


class Diverged(RuntimeError):
    pass


class StudioCallback(TrainerCallback):
    """Writes metrics and status to the run folder; handles stop requests and non-finite values."""

    def __init__(self, run, stop: threading.Event, on_record=None, logged: tuple[str, ...] = ()):
        self.run, self.stop, self.on_record = run, stop, on_record
        self.logged = tuple(logged)  # the method's own metrics (prefixes) kept besides the losses
        self.trainer = None
        self.diverged = ""
        self.stopped = False
        self.late_start_eval = False  # set by build_trainer: validate the untrained model after step 1
        self.real_step = None  # the step training is at while that validation is logged at step 0
        self.start_clock(0)

    def start_clock(self, step: int):
        self.t0, self.step0 = time.time(), step
        self.train_time, self.step_t = 0.0, None  # seconds spent in training steps, not evaluation
        self.last_t, self.last_tokens = 0.0, None
        self.evals = 0

    def on_train_begin(self, args, state, control, **kw):
        control.should_training_stop = False  # a restored TrainerControl may carry the stop that saved it
        self.start_clock(state.global_step)
        if state.is_world_process_zero:
            self.run.set_status("running", step=state.global_step, max_steps=state.max_steps,
                                message=msg("Training."), started=self.t0)

    def on_step_begin(self, args, state, control, **kw):
        self.step_t = time.time()

    def on_step_end(self, args, state, control, model=None, **kw):
        if self.step_t is not None:
            self.train_time += time.time() - self.step_t
        if self.trainer is not None and self.trainer.studio_nonfinite and not self.diverged:
            self.diverged = msg("The loss became {value} at step {step}.", value=str(self.trainer.studio_nonfinite),
                                step=state.global_step)
        if control.should_save and not self.diverged and model is not None and not weights_finite(model):
            self.diverged = msg("The weights became NaN or infinite at step {step}.", step=state.global_step)
        stop, diverged = agree(self.stop.is_set() or self.run.stop_requested(), bool(self.diverged))
        if diverged and not self.diverged:
            self.diverged = msg("Another training process saw the loss become non-finite at step {step}.",
                                step=state.global_step)
        if self.diverged:
            control.should_training_stop, control.should_save, control.should_evaluate = True, False, False
        elif stop:
            self.stopped = True
            control.should_training_stop, control.should_save = True, True
        if state.is_world_process_zero and state.global_step % max(1, args.logging_steps) != 0:
            self.run.set_status("running", step=state.global_step, max_steps=state.max_steps)

    def on_log(self, args, state, control, logs=None, **kw):
        logs = logs or {}
        for key in ("loss", "grad_norm", "eval_loss"):
            value = logs.get(key)
            if value is not None and not math.isfinite(value) and not self.diverged:
                self.diverged = msg("The {what} became {value} at step {step}.", what=key.replace("_", " "),
                                    value=str(value), step=state.global_step)
        if self.diverged:
            control.should_training_stop, control.should_save, control.should_evaluate = True, False, False
        if state.is_world_process_zero:
            self.record(args, state, logs)
        if self.late_start_eval and "loss" in logs and not self.diverged:
            self.late_start_eval = False
            self.evaluate_untrained(state)

    def evaluate_untrained(self, state):
        """The chart's first validation point, taken after the first training step so that the first loss
        point shows seconds earlier. A fresh LoRA adapter adds exactly zero, so the model with its adapter
        switched off is the untrained model; the point is logged at step 0 like eval_on_start would."""
        self.real_step, state.global_step = state.global_step, 0
        try:
            with self.trainer.model.disable_adapter():
                self.trainer.evaluate()
        finally:
            state.global_step, self.real_step = self.real_step, None

    def record(self, args, state, logs):
        now = time.time()
        done = state.global_step - self.step0
        elapsed = now - self.t0
        if "eval_loss" in logs:
            self.evals += 1
        record = {"step": state.global_step, "epoch": round(state.epoch or 0, 4), "time": now,
                  "elapsed_s": round(elapsed, 2), "remaining_s": self.remaining(args, state, elapsed, done)}
        if "eval_loss" in logs:
            record["eval_loss"] = logs["eval_loss"]
        if self.logged:  # the method's own metrics, on training and validation rows
            record.update({k: v for k, v in logs.items() if k.startswith(self.logged) and v is not None})
        if "loss" in logs:
            record.update(loss=logs["loss"], learning_rate=logs.get("learning_rate"),
                          grad_norm=logs.get("grad_norm"))
            tokens = logs.get("num_tokens")
            if tokens is not None and self.last_tokens is not None and self.train_time > self.last_t:
                record["tokens_per_s"] = round((tokens - self.last_tokens) / (self.train_time - self.last_t), 1)
            if tokens is not None:
                self.last_tokens, self.last_t = tokens, self.train_time
                record["tokens"] = tokens
        if len(record) <= 5:
            return
        self.run.append_metrics(record)
        self.run.set_status("running", step=self.real_step or state.global_step, max_steps=state.max_steps,
                            remaining_s=record["remaining_s"])
        if self.on_record:
            self.on_record(record, state)

    def remaining(self, args, state, elapsed: float, done: int) -> float | None:
        """Seconds left: training steps at their measured pace plus the evaluations still to come."""
        if not done:
            return None
        left = state.max_steps - state.global_step
        evals_left = left // args.eval_steps if args.eval_strategy != "no" and args.eval_steps else 0
        other = max(elapsed - self.train_time, 0) / max(self.evals, 1)  # evaluation, saving, logging
        return round(self.train_time / done * left + evals_left * other, 1)

    def on_save(self, args, state, control, **kw):
        if state.is_world_process_zero:
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if path.exists():
                mark_checkpoint(path)


def agree(*flags: bool) -> list[bool]:
    """Under several processes (accelerate launch), every process takes the same decision at the same step,
    or the ones that go on would wait for the others forever: each flag is true if it is in any process."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(flags)
    values = torch.tensor([int(f) for f in flags], dtype=torch.int32)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(v) for v in values.tolist()]


def weights_finite(model) -> bool:
    """Trained weights are all finite (checked before a checkpoint is written, so none holds NaN)."""
    import torch

    return all(torch.isfinite(p).all() for p in model.parameters() if p.requires_grad)


def load_model(config, device, levers, **load_kwargs):
    """The model and tokenizer with the speed levers applied (compact head, attention, weights' dtype)."""
    speed.set_compact_head(levers.compact_head)
    if levers.attention:
        load_kwargs["attn_implementation"] = levers.attention
    if config.method.weights == "qlora":
        load_kwargs["quantization_config"] = qlora_config(device)
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle,
                                      dtype=speed.weights_dtype(levers, device, config.method.weights), **load_kwargs)
    return model, tokenizer


def choose_levers(config, device):
    levers = speed.choose(device, config.training.precision, config.training.max_length)
    if levers.precision == "fp16" and device.kind != "cuda":
        raise RuntimeError(msg("fp16 needs a GPU; this machine has none. Set precision to 'auto' or 'fp32'."))
    return levers


def lora_config(m):
    from peft import LoraConfig

    targets = m.target_modules.strip()
    return LoraConfig(r=m.lora_r, lora_alpha=m.lora_alpha, lora_dropout=m.lora_dropout,
                      target_modules=targets if targets == "all-linear"
                      else [x.strip() for x in targets.split(",") if x.strip()], task_type="CAUSAL_LM")


def common_args(run, config, device, levers, has_val: bool, resuming: bool,
                fresh_adapter: bool = False) -> dict:
    """The Trainer arguments every method shares: schedule, logging, evaluation, checkpoints, precision.
    With a fresh adapter the untrained model is validated after step 1 instead (see evaluate_untrained)."""
    t = config.training
    return dict(
        output_dir=str(run.checkpoints_dir), seed=t.seed, data_seed=t.seed,
        max_steps=t.max_steps or -1, num_train_epochs=t.epochs, learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=eval_batch_size(t.batch_size),
        gradient_accumulation_steps=t.grad_accum, warmup_steps=t.warmup_ratio, lr_scheduler_type=t.lr_scheduler,
        weight_decay=t.weight_decay, max_length=t.max_length, logging_steps=t.log_every, logging_first_step=True,
        logging_nan_inf_filter=False,  # the studio must see NaN to call the run diverged
        eval_strategy="steps" if has_val else "no", eval_steps=t.eval_every,
        eval_on_start=has_val and not resuming and not fresh_adapter,  # the untrained model's validation loss
        save_strategy="steps", save_steps=t.save_every, save_total_limit=t.keep_checkpoints,
        bf16=levers.precision == "bf16", fp16=levers.precision == "fp16",
        activation_checkpointing=t.gradient_checkpointing,
        report_to="none", disable_tqdm=True, dataloader_num_workers=0, use_cpu=device.kind == "cpu",
    )


def finish_build(trainer, studio, levers, late_start_eval: bool = False):
    trainer.remove_callback(PrinterCallback)  # the studio callback reports progress instead
    speed.keep_adapter_inputs_bf16(trainer.model, levers)
    studio.trainer = trainer
    studio.late_start_eval = late_start_eval  # see StudioCallback.evaluate_untrained
    return trainer, studio


def eval_batch_size(train_batch: int) -> int:
    """Validation needs no gradients, so it takes larger batches: fewer, fuller matmuls, the same loss."""
    return min(4 * train_batch, 64)


def qlora_config(device):
    import importlib.util

    import torch
    from transformers import BitsAndBytesConfig

    if device.kind != "cuda" or importlib.util.find_spec("bitsandbytes") is None:
        raise RuntimeError(msg("QLoRA needs an NVIDIA GPU and the bitsandbytes package. Choose LoRA instead."))
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16 if device.bf16 else torch.float16)


@functools.lru_cache(maxsize=4)
def _make_trainer_class(base: str = "SFTTrainer"):
    import torch
    import trl

    class _StudioTrainer(getattr(trl, base)):
        """TRL's trainer that notes a non-finite loss at the step it happens (the logged loss is an average)."""

        studio_nonfinite = ""

        def training_step(self, *args, **kwargs):
            loss = super().training_step(*args, **kwargs)
            if not self.studio_nonfinite and not torch.isfinite(loss).all():
                self.studio_nonfinite = str(loss.float().item())
            return loss

    return _StudioTrainer


def StudioTrainer(base: str = "SFTTrainer", **kwargs):
    return _make_trainer_class(base)(**kwargs)


trainer_class = _make_trainer_class  # the class itself, for a method that extends it


def prepare_data(config, kinds: str | tuple[str, ...], needs: str):
    """(train rows, validation rows) of a config, refusing data of another kind than the method reads (one kind,
    or a tuple of kinds: Method.kinds)."""
    train, train_rows, val_rows, _ = data_mod.prepare(config.data)
    if train.kind not in ((kinds,) if isinstance(kinds, str) else kinds):
        raise data_mod.DataError(msg(needs))
    return train_rows, val_rows


def adapter(model, config, start: Path | None):
    """(model, peft_config): a finished run's adapter going on training, or a new LoRA adapter for the trainer to
    add, or neither for full fine-tuning."""
    if start is not None:
        from peft import PeftModel

        return PeftModel.from_pretrained(model, str(start), is_trainable=True), None
    if config.method.weights in ADAPTER_WEIGHTS:
        return model, lora_config(config.method)
    return model, None


def callback(run, stop, on_record, method) -> "StudioCallback":
    return StudioCallback(run, stop or threading.Event(), on_record, method.logged)


@contextlib.contextmanager
def starting_point(model, from_run: bool):
    """A tuned adapter model as its training started, for evaluations: the base (adapter off), or the starting run's
    adapter loaded beside it as "start"."""
    if not from_run:
        with model.disable_adapter():
            yield
        return
    model.set_adapter("start")
    try:
        yield
    finally:
        model.set_adapter("default")
