"""Training one run to its end, whatever its method, reporting into the run folder.

`train_run` is blocking; jobs.py runs it in a background thread for the studio, the CLI calls it directly
(also under `accelerate launch`, where only the main process writes the run folder). The method's trainer comes
from its folder through the registry (engine/methods); what every trainer shares is in engine/methods/trainer.py.
"""
from __future__ import annotations

import gc
import shutil
import threading
import traceback

from . import preflight, runs, warm
from .data import DataError
from .fields import SettingsError
from .generation import answer_tokens
from .i18n import N_, Message, msg
from .methods import planned
from .models import ModelError
from .runs import Run


def build_trainer(run: Run, stop: threading.Event | None = None, callbacks=(), on_record=None,
                  resuming: bool = False, plan: dict | None = None):
    """The trainer of this run's method, with the studio callback, following the run's time plan when it has one
    and keeping its best model; returns (trainer, callback), the callback's `best` holding the best model's keeper."""
    config = run.config().validate()
    if plan:
        config.training.max_steps = planned.trainer_steps(plan)
        config.training.eval_every = plan["eval_every"]
        config.training.learning_rate = plan.get("learning_rate", config.training.learning_rate)
    start = runs.start_adapter(config) if config.method.start_from else None
    method = config.method_info
    best = planned.BestCallback(run, config, method.best_metric, method.best_higher)
    follow = [planned.PlanCallback(run, plan, resuming)] if plan else []
    trainer, studio = method.build_trainer(run, config, stop, [*callbacks, *follow, best], on_record, resuming,
                                           start=start)
    for callback in (*follow, best):
        callback.trainer = trainer
    studio.best = best
    return trainer, studio


def run_plan(run: Run, config, main: bool) -> dict | None:
    """The run's time plan (engine/plan.py), made once from its data at its first start and kept in status.json, so
    that a resume follows the same plan; every process of a multi-process run takes the main one's. The answer
    length for evaluation is measured from the same statistics and recorded with it."""
    status = run.status()
    wanted = config.training.minutes and not status.get("plan")
    measure = not config.generation.max_new_tokens and not status.get("answer_tokens")
    made = None
    if main and (wanted or measure):
        from accelerate import PartialState

        train_rows, stats = runs.data_statistics(config)
        fields = {"answer_tokens": answer_tokens(stats)} if measure else {}
        if wanted:
            made = fields["plan"] = preflight.plan_for(config, len(train_rows), stats, PartialState().num_processes)
        run.set_status("running", **fields)
    if not config.training.minutes:
        return None
    return shared_value(made or status.get("plan"))


def shared_value(value):
    """The main process's value in every process (one process: the value itself)."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    if PartialState().num_processes == 1:
        return value
    box = [value]
    broadcast_object_list(box)
    return box[0]


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
        plan = run_plan(run, config, main)
        trainer, studio = build_trainer(run, stop, callbacks, on_record, resuming=checkpoint is not None, plan=plan)
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
        kept = studio.best.kept(step)
        if kept is None:
            trainer.save_model(str(out))  # by the main process only
        if main:
            final.update(kept_figures(studio.best, step, kept, evals_seen=trainer.eval_dataset is not None))
            if kept is None:
                trainer.processing_class.save_pretrained(str(out))
            else:  # an earlier validation was better than the last: its model is the result
                shutil.rmtree(out, ignore_errors=True)
                shutil.copytree(run.path / "best", out)
            shutil.rmtree(run.path / "best", ignore_errors=True)
            run.clear_stop()
        return run.set_status("finished", step=step, final=final, remaining_s=0, message=finished_message(
            step, final))
    except Exception as err:  # every failure ends as a status with a plain reason, the trace in error.log
        name = "error.log" if main else f"error-{PartialState().process_index}.log"
        (run.path / name).write_text(traceback.format_exc(), encoding="utf-8")
        return run.set_status("failed", message=plain_reason(err), error=type(err).__name__)


def kept_figures(best, step: int, kept: int | None, evals_seen: bool) -> dict:
    """What the run kept, for status.json's final figures: the step, why, and the score it was kept for."""
    if not evals_seen or best.step is None or not best.keep:
        return {"kept_step": step, "kept_reason": "last", "stopped_early": best.stopped_early}
    figures = {"kept_step": kept or step, "kept_reason": "best" if kept else "last_is_best",
               "kept_metric": best.metric, "kept_value": round(best.value, 4), "stopped_early": best.stopped_early}
    if best.start_was_better():
        figures["start_value"] = round(best.start, 4)
    return figures


def finished_message(step: int, final: dict) -> Message:
    if final.get("stopped_early"):
        return msg("Stopped early at step {steps}: validation stopped improving. Kept the model of step {kept}.",
                   steps=step, kept=final["kept_step"])
    if final.get("kept_reason") == "best":
        return msg("Finished {steps} steps. Kept the model of step {kept}, whose validation was the best.",
                   steps=step, kept=final["kept_step"])
    return msg("Finished {steps} steps.", steps=step)


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
