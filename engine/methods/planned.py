"""What every method's run does with its plan and its validations: the time budget's plan kept to (the stopping
step and the learning-rate schedule, corrected once the first steps are timed), and the best model kept (saved
at its validation, early stopping when it stops improving).

engine/train.py adds these callbacks to the method's trainer; the arithmetic of the plan is engine/plan.py.
"""
from __future__ import annotations

import math
import shutil
import time
import warnings
from pathlib import Path

from transformers import TrainerCallback

from .. import pace
from .. import plan as planning

TIMED_STEPS = 4  # steps timed before the plan is corrected; the first step (warm-up, first validation) is left out


def trainer_steps(plan: dict) -> int:
    """The steps the trainer is built for: the most the plan may grow to before it is corrected, then the plan."""
    return plan["steps"] if plan["corrected"] else max(plan["cap_steps"], plan["steps"])


class PlanCallback(TrainerCallback):
    """Keeps a time-budget run to its plan. The trainer is built for trainer_steps(plan) so that the plan can grow;
    here the run's last step and its learning-rate schedule follow the plan, and the plan is corrected from the first
    timed steps and again halfway, so that training and validation end within the budget."""

    def __init__(self, run, plan: dict, resuming: bool):
        self.run, self.plan, self.trainer = run, dict(plan), None
        self.resuming = resuming  # a resumed run follows the plan it stored; it is not timed again
        self.t0, self.step_t, self.timed, self.checks = 0.0, None, [], 0

    def on_train_begin(self, args, state, control, **kw):
        self.t0 = time.time()
        self.follow(args, state)

    def on_step_begin(self, args, state, control, **kw):
        self.step_t = time.time()

    def on_step_end(self, args, state, control, **kw):
        if self.step_t is not None and state.global_step > 1:
            self.timed.append(time.time() - self.step_t)
        if not self.due(state.global_step):
            return
        self.checks += 1
        step_s = sum(self.timed) / len(self.timed)
        elapsed = time.time() - self.t0
        steps_time = sum(self.timed) + step_s * (state.global_step - len(self.timed))  # the first step untimed
        eval_s = max(elapsed - steps_time, 0.0) / max(1, self.run_evals(state))
        before = self.plan
        self.plan = planning.correct(before, state.global_step, elapsed, step_s, eval_s or before["eval_s"])
        if self.checks == 1 and state.is_world_process_zero and before.get("pace"):
            # how far the estimate was from this machine's pace, for the next plans
            pace.remember(before, self.plan)
        if state.is_world_process_zero:
            self.run.set_status("running", plan=self.plan, max_steps=self.plan["steps"])
        self.follow(args, state)
        if state.global_step >= state.max_steps:
            control.should_training_stop = True

    def due(self, step: int) -> bool:
        """Corrected twice: once the first steps are timed, and again halfway, with every step timed so far."""
        if self.resuming or not self.timed:
            return False
        if self.checks == 0:
            return len(self.timed) >= TIMED_STEPS
        return self.checks == 1 and step == self.plan["steps"] // 2

    @staticmethod
    def run_evals(state) -> int:
        return sum(1 for r in state.log_history if "eval_loss" in r)  # every method's validation logs its loss

    def follow(self, args, state):
        """The trainer's last step, validation interval and learning-rate schedule, as the plan says."""
        # Before its first correction a plan is an estimate: the run goes on at least until the steps are timed.
        first = TIMED_STEPS + 2 if not (self.plan["corrected"] or self.resuming) else 0
        state.max_steps = max(self.plan["steps"], min(first, trainer_steps(self.plan)))
        state.eval_steps = args.eval_steps = self.plan["eval_every"]
        trainer = self.trainer
        if trainer is None or trainer.optimizer is None:
            return
        trainer.lr_scheduler = None
        with warnings.catch_warnings():  # stepping a fresh schedule to where training is, before any optimizer step
            warnings.simplefilter("ignore")
            schedule = trainer.create_scheduler(state.max_steps, trainer.optimizer)
            for _ in range(state.global_step):
                schedule.step()


class BestCallback(TrainerCallback):
    """Saves the model at each validation that beats the best so far (in the run's best/ folder, replaced
    atomically), and ends the run when `patience` validations in a row did not improve (with stop_early)."""

    def __init__(self, run, config, metric: str, higher: bool):
        t = config.training
        self.run, self.metric, self.higher = run, metric, higher
        self.keep, self.stop_early, self.patience = t.keep_best, t.stop_early, t.patience
        self.full = config.method.weights == "full"
        best = run.status().get("best") or {}  # a resumed run goes on comparing with what it kept
        self.value, self.step, self.since = best.get("value"), best.get("step"), best.get("since", 0)
        self.start = best.get("start")  # the starting model's score (step 0), never kept but compared with
        self.stopped_early = False
        self.trainer = None

    def better(self, value: float, than: float | None = None) -> bool:
        """Whether `value` beats `than` (by default the best so far)."""
        than = self.value if than is None else than
        if than is None:
            return True
        margin = 1e-3 * abs(than)  # a change in the fourth digit is noise, not progress
        return value > than + margin if self.higher else value < than - margin

    def start_was_better(self) -> bool:
        """Whether the starting model scored better than every trained step (a noisy score, such as a sampled
        reward, or training that made things worse)."""
        return self.start is not None and self.value is not None and self.better(self.start, self.value)

    def on_evaluate(self, args, state, control, metrics=None, **kw):
        value = (metrics or {}).get(self.metric)
        if value is None or not math.isfinite(value):
            return
        if state.global_step == 0:  # the untrained model: compared with at the end, never kept
            self.start = value
            return
        if self.better(value):
            self.value, self.step, self.since = value, state.global_step, 0
            if self.keep:
                self.save(args)
        else:
            self.since += 1
            if self.stop_early and self.since >= self.patience and state.global_step < state.max_steps:
                self.stopped_early = control.should_training_stop = True  # (at the last step it simply ends)
        if state.is_world_process_zero:
            self.run.set_status("running", best={"value": self.value, "step": self.step, "since": self.since,
                                                 "start": self.start, "metric": self.metric, "saved": self.keep})

    def save(self, args):
        """The model as it is now, in best/: written beside, then swapped in."""
        folder = self.run.path / "best"
        fresh = folder.with_name("best.new")
        if self.full:  # every process takes part in saving full weights
            self.trainer.save_model(str(fresh))
        elif args.should_save:
            self.trainer.model.save_pretrained(str(fresh), selected_adapters=["default"])
        if args.should_save:
            self.trainer.processing_class.save_pretrained(str(fresh))
            swap(fresh, folder)

    def kept(self, last_step: int) -> int | None:
        """The step whose model the run keeps instead of the last one, or None when the last is the best."""
        if not self.keep or self.step is None or self.step == last_step:
            return None
        return self.step if (self.run.path / "best").is_dir() else None


def swap(fresh: Path, folder: Path) -> None:
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
