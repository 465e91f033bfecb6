"""Nothing lost: crashes (SIGKILL mid-training and mid-checkpoint), resume equality, corrupted checkpoints,
disk limits, out-of-memory, and several sessions with one training job."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from transformers import Trainer, TrainerCallback

from conftest import tiny_config
from engine import jobs, runs, train

ROOT = Path(__file__).resolve().parents[1]
STEPS = dict(max_steps=12, save_every=3, log_every=1, eval_every=100, keep_checkpoints=10)


def helper(run, mode="none", n=0, how="fresh") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "tests" / "crash_helper.py"), str(run.path), mode, str(n),
                           how], env=env, capture_output=True, text=True, timeout=600)


def losses(run) -> dict[int, float]:
    out = {}
    for record in run.metrics():
        if "loss" in record:
            assert record["step"] not in out, f"step {record['step']} logged twice"
            out[record["step"]] = record["loss"]
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path_factory.mktemp("straight"), tiny_model_dir, **STEPS))
    done = helper(run)
    assert done.returncode == 0 and "finished 12" in done.stdout, done.stderr[-2000:]
    return run


def test_sigkill_mid_training_shows_interrupted_and_resume_matches_an_uninterrupted_run(
        tmp_path, tiny_model_dir, uninterrupted):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, **STEPS))
    killed = helper(run, "step", 8)
    assert killed.returncode == -9  # SIGKILL
    status = run.status()
    assert status["state"] == "interrupted" and "Resume" in status["message"]
    assert run.can_resume() and run.last_checkpoint().name == "checkpoint-6"
    assert max(losses(run)) == 7  # step 8 died before it was logged

    resumed = helper(run, how="resume")
    assert resumed.returncode == 0 and "finished 12" in resumed.stdout, resumed.stderr[-2000:]
    got, expected = losses(run), losses(uninterrupted)
    assert sorted(got) == list(range(1, 13))  # no gap, no duplicate: steps 7 and 8 were redone once
    for step in range(1, 13):
        assert got[step] == pytest.approx(expected[step], abs=1e-4), step
    lr = {r["step"]: r["learning_rate"] for r in run.metrics() if "loss" in r}
    lr_straight = {r["step"]: r["learning_rate"] for r in uninterrupted.metrics() if "loss" in r}
    assert lr == lr_straight  # the schedule continues where it was


def test_sigkill_while_writing_a_checkpoint_never_uses_the_partial_one(tmp_path, tiny_model_dir, uninterrupted):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, **STEPS))
    killed = helper(run, "save", 6)
    assert killed.returncode == -9
    assert (run.checkpoints_dir / "checkpoint-6").exists()  # half written
    assert [p.name for p in run.checkpoints()] == ["checkpoint-3"]
    assert run.status()["state"] == "interrupted"
    resumed = helper(run, how="resume")
    assert resumed.returncode == 0 and "finished 12" in resumed.stdout, resumed.stderr[-2000:]
    got, expected = losses(run), losses(uninterrupted)
    assert sorted(got) == list(range(1, 13))
    assert all(got[s] == pytest.approx(expected[s], abs=1e-4) for s in got)
    assert runs.checkpoint_ok(run.checkpoints_dir / "checkpoint-6")  # rewritten whole on the second pass


def test_a_corrupted_checkpoint_is_detected_and_the_one_before_is_used(tmp_path, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=6, save_every=3, eval_every=100))
    assert train.train_run(run)["state"] == "finished"
    weights = run.checkpoints_dir / "checkpoint-6" / "adapter_model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-10] ^= 0xFF  # one flipped byte: same size, different content
    weights.write_bytes(bytes(raw))
    assert run.last_checkpoint().name == "checkpoint-6"  # a size check alone cannot see it
    assert run.last_checkpoint(verify=True).name == "checkpoint-3"  # the hash check can
    (run.checkpoints_dir / "checkpoint-3" / "optimizer.pt").write_bytes(b"cut")  # a cut file: wrong size
    assert run.last_checkpoint(verify=True) is None and run.checkpoints() == [run.checkpoints_dir / "checkpoint-6"]


def test_running_out_of_disk_while_saving_fails_cleanly_and_keeps_the_last_good_checkpoint(
        tmp_path, tiny_model_dir, monkeypatch):
    original = Trainer._save_optimizer_and_scheduler

    def full_disk(self, output_dir):
        if str(output_dir).endswith("checkpoint-6"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, output_dir)

    monkeypatch.setattr(Trainer, "_save_optimizer_and_scheduler", full_disk)
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=9, save_every=3, eval_every=100))
    status = train.train_run(run)
    assert status["state"] == "failed"
    assert status["message"].startswith("The disk is full.") and "last complete checkpoint is kept" in status["message"]
    assert [p.name for p in run.checkpoints(verify=True)] == ["checkpoint-3"]
    assert run.can_resume()


def test_free_disk_is_checked_before_training_starts(tmp_path, tiny_model_dir, monkeypatch):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir))
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    status = train.train_run(run)
    assert status["state"] == "failed" and "Not enough free disk for checkpoints" in status["message"]
    assert run.metrics() == [] and not run.checkpoints_dir.exists()


def test_out_of_memory_fails_with_advice_and_frees_the_model(tmp_path, tiny_model_dir):
    import torch

    seen = {}

    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kw):
            if state.global_step == 2:
                seen["model"] = weakref.ref(model)
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir))
    status = train.train_run(run, callbacks=[Boom()])
    assert status["state"] == "failed" and "ran out of memory" in status["message"]
    assert seen["model"]() is None  # nothing keeps the model alive after the failure


def test_many_sessions_and_reruns_leave_one_training_thread(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=2000, save_every=10_000, eval_every=10_000)
    gate = threading.Event()

    class Started(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            gate.set()

    run = runs.create_run(config)
    jobs.MANAGER.start(run, callbacks=[Started()])
    assert gate.wait(120)
    sessions = []
    for _ in range(3):  # three browser tabs, each refreshed many times
        for _ in range(10):
            at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=60)
            at.run()
            at.switch_page("pages/train.py").run()
            assert not at.exception
            assert [b.label for b in at.button] == ["Stop"]  # nobody can start a second job
            sessions.append(at)
    running = sum(r.status()["state"] == "running" for r in runs.list_runs())
    assert jobs.MANAGER.training_threads() == 1 == running
    jobs.MANAGER.stop(run.id)
    assert jobs.MANAGER.wait(120)["state"] == "stopped"
    assert jobs.MANAGER.training_threads() == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("train-")]
