"""Scale-out on an existing engine: the same config under `accelerate launch --cpu --num_processes 2` (two CPU
processes over gloo) shares one run folder written by the main process only, stops and resumes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import tiny_config
from engine import runs

ROOT = Path(__file__).resolve().parents[1]


def launch(*args, env) -> subprocess.Popen:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "engine", "train", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: int = 600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


def train_steps(run) -> list[int]:
    return [r["step"] for r in run.metrics() if "loss" in r]


@pytest.mark.slow
def test_two_processes_share_one_run_folder_and_stop_and_resume(tmp_path, tiny_model_dir, studio_home):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=400, save_every=1000, eval_every=1000, log_every=1,
                         batch_size=2)
    path = tmp_path / "tiny.yaml"
    config.save(path)
    env = {**os.environ, "STUDIO_HOME": str(studio_home), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "MASTER_PORT": "29517"}
    before = {r.id for r in runs.list_runs()}

    proc = launch(str(path), env=env)
    deadline = time.time() + 300
    run = None
    while time.time() < deadline and proc.poll() is None:  # both processes are training: ask for a stop
        new = [r for r in runs.list_runs() if r.id not in before]
        if new and len(train_steps(new[0])) >= 3:
            run = new[0]
            break
        time.sleep(0.5)
    assert run is not None, proc.communicate()[0][-4000:]
    assert len({r.id for r in runs.list_runs()} - before) == 1  # one run folder for two processes
    done = subprocess.run([sys.executable, "-m", "engine", "stop", run.id], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = finish(proc)
    assert out.count("stopped: Stopped at step") == 1  # the main process's report; the other one is silent
    status = run.status()
    assert status["state"] == "stopped" and run.can_resume(), status
    stopped_at = status["step"]
    assert run.last_checkpoint().name == f"checkpoint-{stopped_at}"
    steps = train_steps(run)
    assert steps == list(range(1, stopped_at + 1))  # each step logged once, by the main process only

    # Resume under two processes, to a nearer end so the test stays short.
    config.training.max_steps = stopped_at + 4
    config.save(run.config_path)
    finish(launch("--resume", run.id, env=env))
    status = run.status()
    assert status["state"] == "finished" and status["step"] == stopped_at + 4, status
    assert train_steps(run) == list(range(1, stopped_at + 5))
    assert not list(run.path.glob("error*.log"))
    # the adapter was saved once and loads
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(run.adapter_dir))
    assert sum(p.numel() for n, p in model.named_parameters() if "lora_" in n) > 0
    saved = json.loads((run.path / "status.json").read_text())
    assert saved["pid"] != 0 and "final" in saved
