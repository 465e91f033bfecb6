"""Training, stopping, resuming, divergence and export, on a tiny 2-layer model (fast) and once on the real one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from transformers import TrainerCallback

from engine import export, jobs, runs, train
from engine.settings import RunConfig
from conftest import tiny_config

ROOT = Path(__file__).resolve().parents[1]


class AtStep(TrainerCallback):
    """Runs `action(model)` once when training reaches `step`."""

    def __init__(self, step, action):
        self.step, self.action = step, action

    def on_step_end(self, args, state, control, model=None, **kw):
        if state.global_step == self.step:
            self.action(model)


@pytest.fixture
def finished_run(finished_tiny_run):
    return finished_tiny_run


def test_training_finishes_with_metrics_and_adapter(finished_run):
    run = finished_run
    status = run.status()
    assert status["step"] == 12 and status["final"]["steps"] == 12
    records = run.metrics()
    train_records = [r for r in records if "loss" in r]
    assert [r["step"] for r in train_records] == list(range(1, 13))
    for key in ("epoch", "learning_rate", "grad_norm", "elapsed_s", "remaining_s"):
        assert all(key in r for r in train_records), key
    assert all(r["tokens_per_s"] > 0 for r in train_records[1:])
    evals = [r["eval_loss"] for r in records if "eval_loss" in r]
    assert len(evals) >= 3 and evals[-1] < evals[0]
    assert status["final"]["eval_loss"] < status["final"]["first_eval_loss"]
    assert (run.adapter_dir / "adapter_config.json").exists()
    assert (run.adapter_dir / "adapter_model.safetensors").exists()
    # keep_checkpoints=5, save every 3 steps: 3, 6, 9, 12 all complete and marked
    assert [p.name for p in run.checkpoints()] == ["checkpoint-3", "checkpoint-6", "checkpoint-9", "checkpoint-12"]


def test_first_loss_point_comes_before_the_untrained_validation(finished_run, tmp_path, tiny_model_dir):
    """The chart's first point is step 1's loss; the untrained model's validation, taken after it with the fresh
    adapter switched off, is the one eval_on_start would give (so the first point shows seconds earlier)."""
    records = finished_run.metrics()
    assert "loss" in records[0] and records[0]["step"] == 1
    assert "eval_loss" in records[1] and records[1]["step"] == 0
    fresh = runs.create_run(tiny_config(tmp_path, tiny_model_dir))
    trainer, _ = train.build_trainer(fresh)
    untrained = trainer.evaluate()["eval_loss"]
    assert abs(records[1]["eval_loss"] - untrained) < 1e-6
    assert finished_run.status()["final"]["first_eval_loss"] == round(untrained, 4)


def test_stop_then_resume_continues_the_step_count(tmp_path, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, save_every=100))
    stop = threading.Event()
    status = train.train_run(run, stop, callbacks=[AtStep(5, lambda model: stop.set())])
    assert status["state"] == "stopped" and status["step"] == 5
    assert run.last_checkpoint().name == "checkpoint-5"  # saved on stop although save_every is 100
    assert run.can_resume()
    status = train.train_run(run, resume=True)
    assert status["state"] == "finished" and status["step"] == 12
    steps = [r["step"] for r in run.metrics() if "loss" in r]
    assert steps == list(range(1, 13))  # continues after 5, no gap, no duplicate


def poison(model):
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.fill_(float("nan"))


def test_nan_loss_ends_diverged_and_reaches_the_chart(tmp_path, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, save_every=2, eval_every=100))
    status = train.train_run(run, callbacks=[AtStep(5, poison)])  # weights break after step 5's update
    assert status["state"] == "diverged", status
    assert "loss became nan at step 6" in status["message"]
    assert status["step"] == 6
    assert run.last_checkpoint().name == "checkpoint-4"  # the last good one
    logged = [r["loss"] for r in run.metrics() if r["step"] == 6 and "loss" in r]
    assert logged and logged[0] != logged[0]  # NaN is in the metrics log, not filtered out


def test_non_finite_weights_are_never_saved_as_a_checkpoint(tmp_path, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, save_every=2, eval_every=100))
    status = train.train_run(run, callbacks=[AtStep(4, poison)])  # step 4 is a save step
    assert status["state"] == "diverged"
    assert "weights became NaN or infinite at step 4" in status["message"]
    assert [p.name for p in run.checkpoints()] == ["checkpoint-2"]
    assert not (run.checkpoints_dir / "checkpoint-4").exists()


def test_failure_is_a_status_with_a_plain_reason(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir)
    config.data.train_file = str(tmp_path / "gone.csv")
    run = runs.create_run(config)
    status = train.train_run(run)
    assert status["state"] == "failed"
    assert "gone.csv" in status["message"] and "Traceback" not in status["message"]
    assert "Traceback" in (run.path / "error.log").read_text()


def test_out_of_memory_gives_failed_with_advice(tmp_path, tiny_model_dir):
    import torch

    def boom(model):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir))
    status = train.train_run(run, callbacks=[AtStep(2, boom)])
    assert status["state"] == "failed"
    assert "ran out of memory" in status["message"] and "batch size" in status["message"]


def test_a_run_left_running_by_a_dead_process_shows_interrupted(tmp_path):
    config = RunConfig(name="ghost")
    run = runs.create_run(config, root=tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    status = json.loads((run.path / "status.json").read_text())
    status.update(state="running", pid=proc.pid)
    (run.path / "status.json").write_text(json.dumps(status))
    assert run.status()["state"] == "interrupted"
    assert "Resume" in run.status()["message"]


def test_warm_up_imports_the_training_libraries_once_in_the_background():
    code = ("import sys; from engine import jobs; assert 'trl' not in sys.modules; first = jobs.warm_up(); "
            "first.join(); assert 'trl' in sys.modules and 'peft' in sys.modules; assert jobs.warm_up() is first")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=300)


def test_one_job_at_a_time_and_stop(tmp_path, tiny_model_dir):
    manager = jobs.JobManager()
    gate = threading.Event()
    first = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=200, save_every=1000))
    job = manager.start(first, callbacks=[AtStep(2, lambda model: gate.set())])
    assert gate.wait(120)
    second = runs.create_run(tiny_config(tmp_path, tiny_model_dir))
    with pytest.raises(jobs.JobBusy) as busy:
        manager.start(second)
    assert busy.value.run_id == first.id and "already going" in str(busy.value)
    assert manager.training_threads() == 1
    assert manager.stop(first.id)
    result = manager.wait(120)
    assert result["state"] == "stopped" and first.can_resume()
    assert manager.training_threads() == 0 and manager.current() is None


def test_exported_adapter_and_merged_model_give_the_same_greedy_answer(finished_run, tiny_model_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    zipped = export.adapter_zip(finished_run)
    assert zipped.exists() and zipped.stat().st_size > 0
    merged_dir = export.merged_model(finished_run, tmp_path / "merged")
    assert (merged_dir / "model.safetensors").exists() and (merged_dir / "tokenizer.json").exists()
    card = (merged_dir / "README.md").read_text()
    assert str(tiny_model_dir) in card and "learning_rate" in card and "train.csv" in card

    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "My parcel never arrived."}],
                                           add_generation_prompt=True, return_tensors="pt", return_dict=True)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with_adapter = PeftModel.from_pretrained(base, str(finished_run.adapter_dir)).eval()
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    kwargs = dict(max_new_tokens=12, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    with torch.no_grad():
        a = with_adapter.generate(**prompt, **kwargs)
        b = merged.generate(**prompt, **kwargs)
    assert a.tolist() == b.tolist()
    assert export.config_file(finished_run).read_text() == finished_run.config_path.read_text()
    assert "accelerate launch -m engine train" in export.commands(finished_run)["multi_gpu"]


def test_cli_train_evaluate_export_runs(tmp_path, tiny_model_dir, studio_home):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=4, eval_every=2, save_every=2)
    path = tmp_path / "tiny.yaml"
    config.save(path)
    env = {**os.environ, "STUDIO_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env["STUDIO_HOME"] = str(studio_home)

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = cli("train", str(path), "--training.max_steps", "3", "--generation.eval_rows", "4")
    assert "step 3/3" in out and "finished" in out
    run_id = out.split("Run ", 1)[1].split()[0]
    assert runs.get_run(run_id).config().training.max_steps == 3  # the flag overrode the YAML
    out = cli("evaluate", run_id)
    assert "base" in out and "tuned" in out and "exact match" in out
    assert json.loads((runs.get_run(run_id).eval_dir / "results.json").read_text())["rows"] == 4
    out = cli("export", run_id)
    assert "adapter.zip" in out and "accelerate launch" in out
    assert run_id in cli("runs")


def test_cli_reports_a_bad_setting_plainly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engine", "train", str(ROOT / "assets/configs/ticket_routing.yaml"),
                           "--training.learning_rate", "5"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "training.learning_rate" in done.stderr and "1e-07 to 0.1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_real_default_model_trains_and_validation_loss_drops(tmp_path):
    config = RunConfig.load(ROOT / "assets/configs/ticket_routing.yaml")
    config.training.max_steps, config.training.eval_every, config.training.save_every = 4, 2, 4
    config.training.batch_size, config.training.minutes = 4, 0.0  # 4 steps, not the quick preset's time budget
    run = runs.create_run(config)
    status = train.train_run(run)
    assert status["state"] == "finished", status
    assert status["final"]["eval_loss"] < status["final"]["first_eval_loss"]
    assert (run.adapter_dir / "adapter_model.safetensors").exists()
