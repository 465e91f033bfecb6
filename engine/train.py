"""Training one run to its end, whatever its method, reporting into the run folder.

`train_run` is blocking; jobs.py runs it in a background thread for the studio, the CLI calls it directly
(also under `accelerate launch`, where only the main process writes the run folder). The method's trainer comes
from its folder through the registry (engine/methods); what every trainer shares is in engine/methods/trainer.py.
"""
from __future__ import annotations

import gc
import threading
import traceback

from . import runs, warm
from .data import DataError
from .fields import SettingsError
from .i18n import N_, Message, msg
from .models import ModelError
from .runs import Run


def build_trainer(run: Run, stop: threading.Event | None = None, callbacks=(), on_record=None,
                  resuming: bool = False):
    """The trainer of this run's method, with the studio callback; returns (trainer, callback)."""
    config = run.config().validate()
    start = runs.start_adapter(config) if config.method.start_from else None
    return config.method_info.build_trainer(run, config, stop, callbacks, on_record, resuming, start=start)


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
        config = run.config().validate()
        if main and not config.generation.max_new_tokens and not run.status().get("answer_tokens"):
            # measured once here, so the run's evaluation, chat, serving and report use one answer length
            run.set_status("running", answer_tokens=runs.measured_answer_tokens(config))
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
            for key, name in config.method_info.final_metrics.items():  # the method's own final figures
                if key in evals[-1]:
                    final[name] = round(evals[-1][key], 4)
        out = run.adapter_dir if config.method.weights != "full" else run.model_dir
        if "ref" in (getattr(trainer.model, "peft_config", None) or {}):
            trainer.model.delete_adapter("ref")  # TRL's frozen copy of a starting adapter: not part of the result
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
    if isinstance(err, (DataError, ModelError, SettingsError)):
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
