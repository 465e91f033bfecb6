"""Before start: how many steps, how long on this device, how much memory and disk, and whether it fits."""
from __future__ import annotations

import functools
import math
import shutil
import time

from . import models
from .paths import home
from .settings import RunConfig

MEASURED_SHARE = 0.39  # share of the matmul rate training reaches (bench/train_speed.py on a 2-core CPU)


@functools.lru_cache(maxsize=1)
def matmul_rate() -> float:
    """This machine's fp32 matmul FLOP/s, measured once (about half a second on a CPU)."""
    import torch

    if torch.cuda.is_available():
        a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
        n, repeats = 4096, 20
    else:
        a, n, repeats = torch.randn(1024, 1024), 1024, 10
    a @ a
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        a @ a
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - t)


@functools.lru_cache(maxsize=16)
def model_shape(name: str) -> dict:
    """Parameters, hidden size and layers of a model, without loading its weights (meta device)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    folder = models.resolve(name) if name == models.DEFAULT_NAME or not _is_hub_id(name) else None
    if folder is None:
        folder = _hub_config_only(name)
    config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    params = sum(p.numel() for p in model.parameters())
    # LoRA adds r * (in + out) weights to each linear layer of the blocks ('all-linear' leaves out the head).
    lora_unit = sum(m.in_features + m.out_features for n, m in model.named_modules()
                    if isinstance(m, torch.nn.Linear) and "lm_head" not in n)
    return {"parameters": params, "hidden": config.hidden_size, "layers": config.num_hidden_layers,
            "lora_unit": lora_unit, "vocab": config.vocab_size}


def _is_hub_id(name: str) -> bool:
    from pathlib import Path

    return not Path(name).expanduser().exists()


def _hub_config_only(repo_id: str):
    from huggingface_hub import hf_hub_download

    try:
        from pathlib import Path

        return Path(hf_hub_download(repo_id, "config.json", etag_timeout=models.HUB_TIMEOUT_S)).parent
    except Exception as err:
        raise models.ModelError(f"Could not read '{repo_id}' from the Hugging Face Hub ({type(err).__name__}). "
                                "Check the id and your internet connection.") from None


def lora_parameters(shape: dict, r: int) -> int:
    """Weights an all-linear LoRA adapter of rank r adds."""
    return r * shape["lora_unit"]


def trained_parameters(shape: dict, method: str, lora_r: int) -> int:
    return shape["parameters"] if method == "full" else lora_parameters(shape, lora_r)


def memory_estimate(shape: dict, method: str, batch: int, seq_len: int, lora_r: int,
                    device: models.DeviceInfo) -> dict[str, float]:
    """Peak training memory for this model shape and method on this device (see models.estimate_memory)."""
    trained = trained_parameters(shape, method, lora_r)
    return models.estimate_memory(shape["parameters"], shape["hidden"], shape["layers"], method, batch, seq_len,
                                  2 if device.kind == "cuda" and device.bf16 else 4,
                                  lora_fraction=trained / shape["parameters"], vocab=shape["vocab"])


def disk_needed_bytes(config: RunConfig) -> float:
    """A checkpoint holds the trained weights plus AdamW's two moments; full fine-tuning saves the model once more."""
    shape = model_shape(config.model.name)
    trained = trained_parameters(shape, config.method.method, config.method.lora_r)
    final = shape["parameters"] * 4 if config.method.method == "full" else 0
    return trained * 4 * 3 * (config.training.keep_checkpoints + 1) + final


def method_estimates(name: str, batch: int, max_length: int, lora_r: int) -> list[dict]:
    """For each method: weights trained, estimated peak memory and a verdict on this device."""
    device = models.device_info()
    shape = model_shape(name)
    rows = []
    for method in ("lora", "full", "qlora"):
        est = memory_estimate(shape, method, batch, max_length, lora_r, device)
        verdict, sentence = models.memory_verdict(est["total"], device)
        if method == "qlora" and device.kind != "cuda":
            verdict, sentence = "not here", "Needs an NVIDIA GPU."
        rows.append({"method": method, "trained": trained_parameters(shape, method, lora_r),
                     "memory_gb": est["total"], "verdict": verdict, "sentence": sentence})
    return rows


def steps_for(config: RunConfig, train_rows: int) -> int:
    t = config.training
    if t.max_steps:
        return t.max_steps
    per_epoch = math.ceil(train_rows / (t.batch_size * t.grad_accum))
    return max(1, math.ceil(per_epoch * t.epochs))


def preflight(config: RunConfig, train_rows: int, mean_tokens: float) -> dict:
    """Steps, time, memory and disk for this config on this device, with plain verdicts."""
    device = models.device_info()
    shape = model_shape(config.model.name)
    t, m = config.training, config.method
    steps = steps_for(config, train_rows)
    tokens_per_step = t.batch_size * t.grad_accum * min(mean_tokens, t.max_length)
    flops_per_token = (6 if m.method == "full" else 4) * shape["parameters"]
    seconds = steps * tokens_per_step * flops_per_token / (matmul_rate() * MEASURED_SHARE)
    if t.gradient_checkpointing:
        seconds *= 1.3
    trained = trained_parameters(shape, m.method, m.lora_r)
    memory = memory_estimate(shape, m.method, t.batch_size, min(int(mean_tokens * 1.5), t.max_length), m.lora_r,
                             device)
    verdict, sentence = models.memory_verdict(memory["total"], device)
    disk_needed = disk_needed_bytes(config) / 2**30
    disk_free = shutil.disk_usage(home()).free / 2**30
    return {"steps": steps, "seconds": seconds, "memory": memory, "memory_verdict": verdict,
            "memory_sentence": sentence, "disk_needed_gb": disk_needed, "disk_free_gb": disk_free,
            "disk_ok": disk_needed < disk_free * 0.9, "device": device.describe(), "parameters": shape["parameters"],
            "trained_parameters": trained}
