"""A run folder written by the previous release (tests/fixtures/previous_release: configs in the old form, where
the method named the weights) opens, resumes to the end, evaluates and exports with today's engine."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from engine import export, runs, train
from engine.evaluate import evaluate_run

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "previous_release"
WRITTEN_AT = "/tmp/oldfix/out"  # where the previous release wrote them


@pytest.fixture(scope="module")
def old_runs(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("previous")
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    (root / "tiny-model").symlink_to(tiny_model_dir, target_is_directory=True)
    for config in (root / "runs").glob("*/config.yaml"):
        config.write_text(config.read_text().replace(WRITTEN_AT, str(root)))
    return {run.id: run for run in (runs.Run(p) for p in sorted((root / "runs").iterdir()))}


@pytest.mark.parametrize("run_id, method, weights", [("old-sft", "sft", "lora"), ("old-dpo", "dpo", "lora")])
def test_an_old_run_folder_opens_resumes_evaluates_and_exports(old_runs, run_id, method, weights, tmp_path):
    run = old_runs[run_id]
    old = yaml.safe_load(run.config_path.read_text())
    assert "weights" not in old["method"]  # really the old form
    config = run.config()
    assert (config.method.method, config.method.weights) == (method, weights)
    assert run.status()["state"] == "stopped" and run.can_resume()
    status = train.train_run(run, resume=True)
    assert status["state"] == "finished" and status["step"] == 6, status
    assert sorted({r["step"] for r in run.metrics() if "loss" in r}) == list(range(1, 7))
    results = evaluate_run(run, rows=4)
    assert results["method"] == method and results["rows"] == 4
    merged = export.merged_model(run, tmp_path / "merged")
    assert (merged / "config.json").exists() and f"fine-tuned, {method}," in (merged / "README.md").read_text()
