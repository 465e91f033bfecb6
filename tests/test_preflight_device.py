"""The pre-flight's figures come from the device that trains: its matmul rate in the training precision and, on a
GPU, its own memory; without a GPU everything falls back to the CPU."""
from __future__ import annotations

import math

import pytest
import torch

from conftest import tiny_config
from engine import models, preflight, speed

GPU = models.DeviceInfo("cuda", "NVIDIA H200", 139.8, 16, True)


def test_matmul_rate_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    calls = []
    real_randn = torch.randn

    def randn(*shape, device=None, dtype=None):
        calls.append((device, dtype))
        return real_randn(*shape, device=device, dtype=dtype)

    monkeypatch.setattr(torch, "randn", randn)
    preflight.matmul_rate.cache_clear()
    try:
        rate = preflight.matmul_rate("fp32")
    finally:
        preflight.matmul_rate.cache_clear()
    assert calls == [("cpu", torch.float32)]
    assert math.isfinite(rate) and rate > 1e8  # any CPU does more than 0.1 GFLOP/s


@pytest.mark.parametrize("precision, device, dtype", [
    ("fp32", "cpu", torch.float32), ("bf16", "cpu", torch.bfloat16), ("fp16", "cpu", torch.bfloat16),
    ("fp32", "cuda", torch.float32), ("bf16", "cuda", torch.bfloat16), ("fp16", "cuda", torch.float16)])
def test_the_rate_is_measured_in_the_training_precision(precision, device, dtype):
    assert preflight.matmul_dtype(precision, device) == dtype


def test_gpu_memory_estimate_compares_with_what_the_allocator_measures():
    shape = {"parameters": 1_543_714_304, "hidden": 1536, "layers": 28, "heads": 12, "lora_unit": 1_000_000,
             "vocab": 151_936}
    cpu = models.DeviceInfo("cpu", "CPU", 24, 2, False)
    on_gpu = preflight.memory_estimate(shape, "lora", 8, 512, 16, speed.choose(GPU), GPU)
    on_cpu = preflight.memory_estimate(shape, "lora", 8, 512, 16, speed.choose(cpu), cpu)
    assert on_gpu["runtime"] == preflight.CUDA_RUNTIME_GB and on_cpu["runtime"] == preflight.CPU_RUNTIME_GB
    assert on_gpu["weights"] == pytest.approx(1_543_714_304 * 2 / 2**30)  # bf16 weights on a bf16 GPU
    allocated = on_gpu["total"] - on_gpu["runtime"]  # what bench/gpu_check.py compares with the measured peak
    assert allocated == pytest.approx(sum(v for k, v in on_gpu.items() if k not in ("total", "runtime")))


def test_preflight_on_a_gpu_uses_its_rate_and_memory(tmp_path, tiny_model_dir, monkeypatch):
    """The GPU branch without a GPU: the device and its measured rate stand in, the arithmetic is the real one."""
    rates = []

    def rate(precision):
        rates.append(precision)
        return 400e12 if precision == "bf16" else 50e12

    monkeypatch.setattr(models, "device_info", lambda: GPU)
    monkeypatch.setattr(preflight, "matmul_rate", rate)
    config = tiny_config(tmp_path, tiny_model_dir, everyday_share=0.0)
    stats = {"mean": 100, "longest": 120, "val_rows": 0}
    check = preflight.preflight(config, 32, stats)
    assert rates == ["bf16"]  # a bf16 GPU trains in bf16: its bf16 rate
    shape = preflight.model_shape(config.model.name)
    t = config.training
    expected = (t.max_steps * t.batch_size * 100 * preflight.STEP_FLOPS["lora"] * shape["parameters"]
                / (400e12 * preflight.MEASURED_SHARE["bf16"]))
    assert check["seconds"] == pytest.approx(expected)
    assert "GPU" in str(check["device"]) and check["memory"]["runtime"] == preflight.CUDA_RUNTIME_GB
    assert check["memory_verdict"] == "ok"  # a tiny model on 139 GB
