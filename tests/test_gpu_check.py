"""bench/gpu_check.py cannot rot: its dry run (the same code on the CPU with tiny models) runs here, and the parts
that only a GPU machine exercises for real (the wheels, the method registry) are checked on their own."""
from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import gpu_check  # noqa: E402

SPEED_AND_LEVERS = ["plain SFTTrainer, library defaults", "engine", "padding-free, SDPA (packed-sequence mask)"]
ABSENT_ON_CPU = ["padding-free, FlashAttention 2", "QLoRA (4-bit base, bitsandbytes)",
                 "engine defaults here (Liger on)"]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-check") / "result.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--dry-run", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def test_dry_run_measures_every_row_of_both_architectures(dry_run):
    result, printed = dry_run
    assert result["dry_run"] and result["device"]["device_kind"] == "cpu"
    assert finite(result["device"]["bf16_peak_flops"]) and result["device"]["bf16_peak_flops"] > 0
    rows = {(r["arch"], r["row"]): r for r in result["rows"]}
    for arch in gpu_check.ARCHS:
        bf16 = [r for (a, name), r in rows.items() if a == arch and name.startswith("bf16 ")]
        for r in [rows[(arch, name)] for name in SPEED_AND_LEVERS] + bf16:
            assert r["status"] == "ok", r
            for key in ("tokens_per_s", "step_s", "loss", "peak_gb", "bf16_peak_share"):
                assert finite(r[key]) and r[key] >= 0, (r["row"], key, r[key])
            assert r["tokens_per_s"] > 0 and r["steps"] >= 2
            if r["row"] != SPEED_AND_LEVERS[0]:  # the engine's rows carry the studio's estimates
                assert finite(r["estimate_gb"]) and r["estimate_gb"] > 0
                assert finite(r["estimate_step_s"]) and r["estimate_step_s"] > 0 and finite(r["step_error"])
        assert rows[(arch, "padding-free, SDPA (packed-sequence mask)")]["levers"]["padding_free"]
        for name in ABSENT_ON_CPU:  # recorded, with a reason, instead of crashing the check
            assert rows[(arch, name)]["status"] == "absent" and rows[(arch, name)]["reason"]
    first = gpu_check.ARCHS[0]
    for name, _ in gpu_check.registered_methods():  # every method trains a few steps (first architecture)
        r = rows[(first, f"method {name}")]
        assert r["status"] == "ok" and finite(r["loss"]) and r["steps"] >= 2, r
    assert printed.count("\n") > len(result["rows"]) and "engine" in printed  # one table, printed at once


def test_dry_run_engine_matches_plain_at_equal_settings(dry_run):
    result, _ = dry_run
    for arch in gpu_check.ARCHS:
        s = result["summary"][arch]
        assert finite(s["ratio"]) and s["ratio"] > 0
        # same model, data, LoRA start, steps and precision: the engine's loss is the plain script's
        assert abs(s["loss_difference"]) < 1e-3, s
    assert result["wall_s"] < 120, result["wall_s"]  # about 40 s on 2 shared cores


def test_relative_error_needs_something_measured():
    assert gpu_check.relative_error(1.5, 1.0) == pytest.approx(0.5)
    assert gpu_check.relative_error(1.0, 0.0) is None


def test_wheels_are_unpacked_into_a_target_without_pip(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "fakepkg-1.2-py3-none-any.whl", "w") as archive:
        archive.writestr("fakepkg/__init__.py", "VALUE = 7\n")
        archive.writestr("fakepkg-1.2.data/purelib/fakeextra.py", "VALUE = 8\n")
        archive.writestr("fakepkg-1.2.data/scripts/fake-tool", "#!/bin/sh\n")
        archive.writestr("fakepkg-1.2.dist-info/METADATA", "Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.2\n")
    target = tmp_path / "target"
    assert gpu_check.install_wheels(wheels, target) == ["fakepkg-1.2-py3-none-any.whl"]
    done = subprocess.run([sys.executable, "-c", "import fakepkg, fakeextra, importlib.metadata as m; "
                           "print(fakepkg.VALUE, fakeextra.VALUE, m.version('fakepkg'))"],
                          capture_output=True, text=True, env={"PYTHONPATH": str(target)})
    assert done.stdout.split() == ["7", "8", "1.2"], done.stderr


def test_wheel_pins_come_from_requirements():
    assert gpu_check.pinned("trl", None) == "trl==1.16.0"
    assert gpu_check.pinned("liger-kernel", "0.8.5") == "liger-kernel==0.8.5"
    assert "torch" not in gpu_check.WHEELS_NEEDED  # the GPU machine's own torch is used


def test_methods_come_from_the_registry():
    from engine import methods

    assert gpu_check.registered_methods() == [(m.name, m.data_kind) for m in methods.METHODS.values()]
    assert gpu_check.method_section("sft", "qlora") == {"method": "sft", "weights": "qlora"}
    with pytest.raises(ValueError, match="no synthetic data for the data kind 'scores'"):
        gpu_check.write_data(ROOT, "scores", gpu_check.SIZES["dry"])
