"""Supervised fine-tuning of one run through TRL's SFTTrainer, reporting into the run folder.

`train_run` is blocking; jobs.py runs it in a background thread for the studio, the CLI calls it directly
(also under `accelerate launch`, where only the main process writes the run folder).
"""
from __future__ import annotations

import functools
import gc
import math
import threading
import time
import traceback
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback

from . import data as data_mod
from . import everyday, models, runs, speed, warm
from .i18n import N_, Message, msg
from .runs import Run


class Diverged(RuntimeError):
    pass


class StudioCallback(TrainerCallback):
    """Writes metrics and status to the run folder; handles stop requests and non-finite values."""

    def __init__(self, run: Run, stop: threading.Event, on_record=None):
        self.run, self.stop, self.on_record = run, stop, on_record
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
        # Preference metrics (DPO): rewards of chosen and rejected answers, their margin, and accuracy.
        record.update({k: v for k, v in logs.items() if k.startswith(PREFERENCE_METRICS) and v is not None})
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
                runs.mark_checkpoint(path)


PREFERENCE_METRICS = ("rewards/", "eval_rewards/")


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


def build_trainer(run: Run, stop: threading.Event | None = None, callbacks=(), on_record=None,
                  resuming: bool = False):
    """The trainer for this run's method (SFTTrainer here, DPOTrainer in dpo.py); returns (trainer, callback)."""
    config = run.config().validate()
    if config.method.method in BUILDERS:
        import importlib

        build = getattr(importlib.import_module(BUILDERS[config.method.method], __package__), "build_trainer")
        return build(run, config, stop, callbacks, on_record, resuming)
    return build_sft_trainer(run, config, stop, callbacks, on_record, resuming)


BUILDERS = {"dpo": ".dpo"}  # method -> module with build_trainer(run, config, ...); the others are SFT


def prepare_data(config, kind: str = "sft"):
    """(train rows, validation rows) of a config, refusing data that does not suit the method."""
    from .preference import method_mismatch

    train, train_rows, val_rows, _ = data_mod.prepare(config.data)
    problem = method_mismatch(config.method.method, train.kind)
    if problem:
        raise data_mod.DataError(problem)
    return train_rows, val_rows


def load_model(config, device, levers, **load_kwargs):
    """The model and tokenizer with the speed levers applied (compact head, attention, weights' dtype)."""
    speed.set_compact_head(levers.compact_head)
    if levers.attention:
        load_kwargs["attn_implementation"] = levers.attention
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle,
                                      dtype=speed.weights_dtype(levers, device, config.method.method), **load_kwargs)
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


def common_args(run: Run, config, device, levers, has_val: bool, resuming: bool,
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


def build_sft_trainer(run: Run, config, stop=None, callbacks=(), on_record=None, resuming: bool = False):
    """Everything SFTTrainer needs for this run; returns (trainer, studio_callback)."""
    from trl import SFTConfig

    t, m = config.training, config.method
    train_rows, val_rows = prepare_data(config)
    device = models.device_info()
    levers = choose_levers(config, device)
    model, tokenizer = load_model(config, device, levers, **(
        {"quantization_config": qlora_config(device)} if m.method == "qlora" else {}))
    train_rows = train_rows + everyday.for_run(run, config, model, tokenizer, len(train_rows), on_generate=lambda:
                                               run.set_status("running", message=msg(WRITING_EVERYDAY)))
    peft_config = lora_config(m) if m.method in ("lora", "qlora") else None
    has_val = bool(val_rows)
    args = SFTConfig(
        **common_args(run, config, device, levers, has_val, resuming, fresh_adapter=peft_config is not None),
        packing=t.packing, packing_strategy="bfd" if t.packing and device.kind == "cuda" else "wrapped",
        padding_free=levers.padding_free, use_liger_kernel=levers.liger,
        completion_only_loss=m.answers_only,
    )
    cut = speed.padding_free_cut(args, t.packing)
    studio = StudioCallback(run, stop or threading.Event(), on_record)
    trainer = StudioTrainer(model=model, args=args, train_dataset=data_mod.to_hf(train_rows),
                            eval_dataset=data_mod.to_hf(val_rows) if has_val else None,
                            processing_class=tokenizer, peft_config=peft_config,
                            callbacks=[*callbacks, studio])  # injected faults act within the step, before the studio looks
    speed.cut_rows(trainer, cut)
    return finish_build(trainer, studio, levers, late_start_eval=has_val and not resuming and peft_config is not None)


WRITING_EVERYDAY = N_("Writing the starting model's answers to everyday questions (once per model; about a "
                      "minute on a CPU).")


def eval_batch_size(train_batch: int) -> int:
    """Validation needs no gradients, so it takes larger batches: fewer, fuller matmuls, the same loss."""
    return min(4 * train_batch, 64)


def qlora_config(device: models.DeviceInfo):
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


def train_run(run: Run, stop: threading.Event | None = None, resume: bool = False, callbacks=(),
              on_record=None) -> dict:
    """Train one run to its end; returns the final status. Never raises for training problems."""
    runs.set_active(run, True)
    try:
        return _train(run, stop or threading.Event(), resume, callbacks, on_record)
    finally:
        free_memory()  # here, once _train's frame and any traceback holding the model are gone
        runs.set_active(run, False)


def _train(run: Run, stop: threading.Event, resume: bool, callbacks, on_record) -> dict:
    warm.ready()  # see engine/warm.py
    from accelerate import PartialState

    main = PartialState().is_main_process  # under accelerate launch only the main process writes the run folder
    try:
        checkpoint = run.last_checkpoint(verify=True) if resume else None  # a corrupted one is skipped
        if resume and checkpoint is None:
            raise RuntimeError(msg("There is no complete checkpoint to resume from; start the run again."))
        check_disk(run)
        if main:
            run.clear_stop()
            if checkpoint is not None:
                run.truncate_metrics(int(checkpoint.name.split("-")[-1]))
            elif (run.path / "metrics.jsonl").exists():
                (run.path / "metrics.jsonl").unlink()
            run.set_status("running", message=msg("Loading the model and data."), error=None)
        else:
            run = _Silent(run)
        trainer, studio = build_trainer(run, stop, callbacks, on_record, resuming=checkpoint is not None)
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        step = trainer.state.global_step
        if studio.diverged:
            return run.set_status("diverged", step=step, message=msg(
                "{reason} Training was stopped; lower the learning rate and start again (the last good checkpoint "
                "is kept).", reason=studio.diverged))
        if studio.stopped:
            return run.set_status("stopped", step=step, message=msg("Stopped at step {step}; it can be resumed.",
                                                                    step=step))
        final = {"train_loss": round(result.training_loss, 4), "steps": step,
                 "runtime_s": round(result.metrics.get("train_runtime", 0), 1)}
        if trainer.eval_dataset is not None:
            if not _evals(trainer) or _evals(trainer)[-1]["step"] != step:  # the same answer in every process
                trainer.evaluate()  # logged through the callback like the others
            # After a resume the log starts at the checkpoint; the run's metrics hold the whole chart.
            evals = [r for r in run.metrics() if "eval_loss" in r] if main else _evals(trainer)
            final.update(eval_loss=round(evals[-1]["eval_loss"], 4), first_eval_loss=round(evals[0]["eval_loss"], 4))
            for key, name in (("eval_rewards/accuracies", "eval_accuracy"), ("eval_rewards/margins", "eval_margin")):
                if key in evals[-1]:
                    final[name] = round(evals[-1][key], 4)
        out = run.adapter_dir if run.config().method.method != "full" else run.model_dir
        if "ref" in (getattr(trainer.model, "peft_config", None) or {}):
            trainer.model.delete_adapter("ref")  # DPO's frozen copy of a starting adapter: not part of the result
        trainer.save_model(str(out))  # by the main process only
        if main:
            trainer.processing_class.save_pretrained(str(out))
            run.clear_stop()
        return run.set_status("finished", step=step, final=final, remaining_s=0,
                              message=msg("Finished {steps} steps.", steps=step))
    except Exception as err:  # every failure ends as a status with a plain reason, the trace in error.log
        name = "error.log" if main else f"error-{PartialState().process_index}.log"
        (run.path / name).write_text(traceback.format_exc(), encoding="utf-8")
        return run.set_status("failed", message=plain_reason(err), error=type(err).__name__)


def _evals(trainer) -> list[dict]:
    return [r for r in trainer.state.log_history if "eval_loss" in r]


def check_disk(run: Run) -> None:
    """Refuse to start when checkpoints would not fit on the disk (the same estimate as the pre-flight check)."""
    import shutil

    from .preflight import disk_needed_bytes

    needed = disk_needed_bytes(run.config())
    free = shutil.disk_usage(run.path).free
    if needed > free * 0.9:
        raise OSError(28, msg("Not enough free disk for checkpoints: about {needed:.1f} GB needed, {free:.1f} GB "
                              "free. Keep fewer checkpoints or free some space.", needed=needed / 2**30,
                              free=free / 2**30))


def plain_reason(err: Exception, failed: str = N_("Training failed: {error} (details in error.log in the run "
                                                    "folder).")) -> Message:
    """Why training failed, as a message the page shows in the reader's language (the trace is in error.log)."""
    text = str(err)
    carried = err.args[0] if len(err.args) == 1 and isinstance(err.args[0], Message) else None
    if isinstance(err, OSError) and err.errno == 28:
        reason = err.strerror if isinstance(err.strerror, Message) else msg("The disk is full.")
        return msg("{reason} The last complete checkpoint is kept; free some space and resume.", reason=reason)
    if isinstance(err, MemoryError) or "out of memory" in text.lower() or type(err).__name__ == "OutOfMemoryError":
        return msg("The device ran out of memory. Lower the batch size or the max length, use LoRA instead of full "
                   "fine-tuning, or pick a smaller model.")
    if carried is not None:
        return carried
    if isinstance(err, (data_mod.DataError, models.ModelError)) or type(err).__name__ == "SettingsError":
        return msg(text)
    if isinstance(err, FileNotFoundError):
        return msg("A file is missing: {file}. Check the data file path in the settings.", file=err.filename or text)
    return msg(failed, error=text[:300])


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class _Silent:
    """A run stand-in for non-main processes under accelerate: they must not write the run folder."""

    def __init__(self, run):
        self._run = run

    def set_status(self, state, **fields):
        return {"state": state, **fields}

    def append_metrics(self, record):
        pass

    def __getattr__(self, name):
        return getattr(self._run, name)
