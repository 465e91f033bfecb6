"""The time budget's plan (engine/plan.py), the run that follows it, and the best model kept (engine/methods/planned.py),
on the tiny model."""
from __future__ import annotations

import json
import threading

import pytest
from safetensors.torch import load_file
from transformers import TrainerCallback

from engine import plan, preflight, runs, train
from engine.i18n import render
from conftest import tiny_config


# ---------------------------------------------------------------- the plan: budget, rows and a rate -> steps

def test_a_small_file_gets_many_whole_passes_up_to_the_cap():
    made = plan.make_plan(budget_s=120, rows=36, rows_per_step=8, step_s=1.0, eval_s=2.0)
    assert made["per_pass"] == 5 and plan.pass_cap(36) == 18
    assert made["steps"] == 90 and made["passes"] == 18.0  # the cap, not the 110 steps that would fit
    assert made["covers_pass"] and made["eval_every"] == 23  # four validations after the start


def test_a_longer_budget_keeps_the_cap_of_passes_and_the_four_validations():
    made = plan.make_plan(budget_s=1195, rows=448, rows_per_step=8, step_s=3.0, eval_s=20.0)
    assert made["cap_steps"] == 3 * 56 and made["steps"] == 168  # 365 steps fit; the cap is 3 passes
    assert made["eval_every"] == 42  # four validations after the start


def test_a_middle_file_gets_the_steps_that_fit_in_whole_passes_where_little_is_lost():
    made = plan.make_plan(budget_s=120, rows=330, rows_per_step=8, step_s=1.0, eval_s=5.0)
    assert made["per_pass"] == 42
    assert made["steps"] == 84 and made["passes"] == 2.0  # 95 fit; two whole passes lose 12%
    made = plan.make_plan(budget_s=120, rows=330, rows_per_step=8, step_s=1.6, eval_s=5.0)
    assert made["steps"] == 59  # 59 fit; one whole pass would lose 29%: kept as 1.4 passes
    assert made["seconds"] <= 120


def test_a_budget_that_cannot_cover_one_pass_says_so_and_how_many_minutes_would():
    made = plan.make_plan(budget_s=60, rows=2000, rows_per_step=8, step_s=1.0, eval_s=5.0)
    assert made["steps"] == 35 and not made["covers_pass"] and made["passes"] < 1
    words = [render(w) for _, w in preflight.plan_words(made)]
    assert "35 steps over 14% of your 2,000 examples" in words[0]
    assert "cannot cover one pass" in words[1] and "about 5" in words[1]  # 250 steps + 5 validations


def test_the_plan_in_words_names_passes_rows_steps_and_time():
    made = plan.make_plan(budget_s=120, rows=360, rows_per_step=8, step_s=1.1, eval_s=4.0)
    words = render(preflight.plan_words(made)[0][1])
    assert words.startswith("About 2.0 passes over your 360 examples: 90 steps, about 1 min")
    assert len(preflight.plan_words(made)) == 1  # no warning


def test_a_small_file_gets_half_the_presets_rate_and_the_plan_says_so(tmp_path, tiny_model_dir):
    assert plan.make_plan(120, rows=40, rows_per_step=8, step_s=1.0, eval_s=1.0)["lr_factor"] == 0.5
    assert plan.make_plan(120, rows=330, rows_per_step=8, step_s=1.0, eval_s=1.0)["lr_factor"] == 1.0
    config = tiny_config(tmp_path, tiny_model_dir, minutes=1.0, learning_rate=2e-3)
    config.training.preset = "quick"  # a preset's rate: halved for a small file
    train_rows, stats = runs.data_statistics(config)
    made = preflight.plan_for(config, len(train_rows), stats)
    assert len(train_rows) < plan.SMALL_FILE_ROWS and made["learning_rate"] == 1e-3
    assert [level for level, _ in preflight.plan_words(made)][1] == "note"
    config.training.preset = "custom"  # a rate the person chose is kept
    assert preflight.plan_for(config, len(train_rows), stats)["learning_rate"] == 2e-3


def test_a_correction_follows_the_measured_pace_within_the_cap():
    made = plan.make_plan(budget_s=120, rows=330, rows_per_step=8, step_s=3.4, eval_s=12.0)
    assert made["steps"] == 17 and made["cap_steps"] == 126
    faster = plan.correct(made, done=5, elapsed_s=12, step_s=1.5, eval_s=4.0)
    assert faster["corrected"] and 60 <= faster["steps"] <= 126
    slower = plan.correct(faster, done=30, elapsed_s=90, step_s=3.0, eval_s=4.0)
    assert 30 < slower["steps"] < faster["steps"]
    never_back = plan.correct(faster, done=30, elapsed_s=500, step_s=3.0, eval_s=4.0)
    assert never_back["steps"] == 31  # over budget already: one more step, then the end
    tiny = plan.make_plan(budget_s=600, rows=36, rows_per_step=8, step_s=0.1, eval_s=0.1)
    assert plan.correct(tiny, done=5, elapsed_s=1, step_s=0.01, eval_s=0.01)["steps"] == tiny["cap_steps"]


def test_steps_or_epochs_given_turn_the_budget_off_and_presets_without_one_train_their_steps():
    from engine.settings import RunConfig, set_value

    config = RunConfig().apply_preset("quick")
    assert config.training.minutes == 2.0
    set_value(config, "training.max_steps", 60)
    assert config.training.minutes == 0.0
    config = RunConfig.from_dict({"training": {"preset": "quick", "epochs": 3}})
    assert config.training.minutes == 0.0 and config.training.epochs == 3
    config = RunConfig.from_dict({"training": {"preset": "balanced", "minutes": 4}})
    assert config.training.minutes == 4
    config = RunConfig.from_dict({"method": {"method": "dpo"}, "training": {"preset": "quick"}})
    assert config.training.minutes == 0.0 and config.training.max_steps == 14  # DPO's preset is in steps


def test_the_everyday_mix_is_counted_in_the_plan(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, minutes=1.0, everyday_share=0.25)
    train_rows, stats = runs.data_statistics(config)
    made = preflight.plan_for(config, len(train_rows), stats)
    assert made["rows"] == len(train_rows) + round(0.25 * len(train_rows))
    check = preflight.preflight(config, len(train_rows), stats)
    assert check["steps"] == made["steps"] and check["plan"]["rows"] == made["rows"]


# ---------------------------------------------------------------- a run on a time budget

class StopAt(TrainerCallback):
    def __init__(self, step, stop):
        self.step, self.stop = step, stop

    def on_step_end(self, args, state, control, **kw):
        if state.global_step == self.step:
            self.stop.set()


def test_a_run_follows_its_corrected_plan_and_a_resume_the_same_plan(tmp_path, tiny_model_dir):
    # a budget the tiny model's steps fill only at its cap of passes when the machine is idle; a busy machine
    # plans fewer steps, but more than the six trained before the stop
    config = tiny_config(tmp_path, tiny_model_dir, minutes=2.0, lr_scheduler="cosine", warmup_ratio=0.0,
                         save_every=100)
    run = runs.create_run(config)
    stop = threading.Event()
    status = train.train_run(run, stop, callbacks=[StopAt(6, stop)])  # the first correction is at step 5
    assert status["state"] == "stopped" and status["step"] == 6
    planned = run.status()["plan"]
    assert planned["corrected"] and planned["steps"] > 6 and planned["steps"] <= planned["cap_steps"]
    status = train.train_run(run, resume=True)
    assert status["state"] == "finished"
    assert run.status()["plan"] == planned and status["step"] == planned["steps"]  # the same plan, to its end
    rates = {r["step"]: r["learning_rate"] for r in run.metrics() if r.get("learning_rate") is not None}
    assert rates[max(rates)] < 0.1 * config.training.learning_rate  # the schedule ends where the plan ends
    evals = [r["step"] for r in run.metrics() if "eval_loss" in r]
    assert evals[0] == 0 and len(evals) >= 4


# ---------------------------------------------------------------- the best model, and stopping early

class ScoreAs(TrainerCallback):
    """Replaces the validation loss the trainer measured by a scripted one (step -> value), before the studio's
    callbacks see it, so the best step is known in advance."""

    def __init__(self, scores):
        self.scores = scores

    def on_evaluate(self, args, state, control, metrics=None, **kw):
        if state.global_step in self.scores:
            metrics["eval_loss"] = self.scores[state.global_step]


def test_the_kept_adapter_is_the_best_validations_checkpoint(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=8, eval_every=2, save_every=2, keep_checkpoints=10)
    run = runs.create_run(config)
    status = train.train_run(run, callbacks=[ScoreAs({2: 3.0, 4: 1.0, 6: 2.0, 8: 2.5})])
    assert status["state"] == "finished" and status["step"] == 8
    final = status["final"]
    assert (final["kept_step"], final["kept_reason"], final["kept_value"]) == (4, "best", 1.0)
    kept = load_file(run.adapter_dir / "adapter_model.safetensors")
    at_4 = load_file(run.checkpoints_dir / "checkpoint-4" / "adapter_model.safetensors")
    at_8 = load_file(run.checkpoints_dir / "checkpoint-8" / "adapter_model.safetensors")
    assert kept.keys() == at_4.keys()
    assert all(kept[k].equal(at_4[k]) for k in kept)
    assert not all(kept[k].equal(at_8[k]) for k in kept)
    assert not (run.path / "best").exists()  # copied into the adapter, then removed
    assert "Kept the model of step 4" in render(runs.status_message(status))
    assert "start_value" not in final  # the untrained model's real validation loss was the worst


def test_a_starting_model_that_scored_better_is_said_plainly(tmp_path, tiny_model_dir):
    """A noisy score (GRPO's sampled reward) or training that made things worse: the kept step is the best trained
    one, and the words say the model it started from scored better."""
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=4, eval_every=2, save_every=4)
    run = runs.create_run(config)
    status = train.train_run(run, callbacks=[ScoreAs({0: 0.5, 2: 3.0, 4: 1.0})])
    final = status["final"]
    assert (final["kept_step"], final["kept_value"], final["start_value"]) == (4, 1.0, 0.5)
    words = render(runs.kept_words(status))
    assert words.startswith("Kept the model of the last step (4)")
    assert "Before training, the model it started from scored better (0.5)" in words


def test_a_flat_validation_curve_stops_the_run_early(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=40, eval_every=2, save_every=100, stop_early=True,
                         patience=2)
    run = runs.create_run(config)
    status = train.train_run(run, callbacks=[ScoreAs({s: 1.0 for s in range(1, 41)})])
    assert status["state"] == "finished" and status["step"] == 6  # best at 2, then 4 and 6 did not improve
    assert status["final"]["stopped_early"] and status["final"]["kept_step"] == 2
    assert "Stopped early at step 6" in render(runs.status_message(status))


def test_without_keep_best_the_last_model_is_kept(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=4, eval_every=2, save_every=4, keep_best=False)
    run = runs.create_run(config)
    status = train.train_run(run, callbacks=[ScoreAs({2: 1.0, 4: 2.0})])
    assert status["final"]["kept_step"] == 4 and status["final"]["kept_reason"] == "last"
    kept = load_file(run.adapter_dir / "adapter_model.safetensors")
    last = load_file(run.checkpoints_dir / "checkpoint-4" / "adapter_model.safetensors")
    assert all(kept[k].equal(last[k]) for k in kept)
    assert json.loads((run.path / "status.json").read_text())["best"]["saved"] is False
