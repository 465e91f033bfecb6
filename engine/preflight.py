"""Before start: how many steps, how long on this device, how much memory and disk, and whether it fits."""
from __future__ import annotations

import functools
import math
import shutil
import time

from . import methods, models, pace, plan, warm
from .data import ANSWERS, PAIRS, DataError
from .i18n import Message, msg
from .paths import home
from .settings import RunConfig

# Share of the measured matmul rate that a training step reaches, by precision (bench/train_speed.py on a
# 2-core CPU with the default levers; the rest is attention, norms, the optimizer and Python).
MEASURED_SHARE = {"fp32": 0.39, "bf16": 0.25, "fp16": 0.25}
# bf16 on a CPU: the suite's 9 timed runs (bench/suite.py, STUDIO_HOME/pace.json) measured steps at 0.59-0.63 of the
# estimate above, and validations (batches 4x larger, no backward) at 0.42-0.58 of a forward pass each.
CPU_BF16_SHARE = 0.4
VALIDATION_SHARE = 0.5


@functools.lru_cache(maxsize=8)
def matmul_rate(precision: str = "fp32", device: str | None = None) -> float:
    """Matmul FLOP/s in the training precision on the device that trains, measured once: the GPU's own rate when
    there is one (a few hundredths of a second), else the CPU's (about half a second)."""
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    cuda = device == "cuda"
    n, repeats = (8192, 10) if cuda else (1024, 10)
    a = torch.randn(n, n, device=device, dtype=matmul_dtype(precision, device))
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    a @ a
    sync()
    fastest = math.inf
    for _ in range(repeats):  # the fastest product: a busy moment (a page loading libraries) must not stick
        t = time.perf_counter()
        a @ a
        sync()
        fastest = min(fastest, time.perf_counter() - t)
    return 2 * n**3 / fastest


def matmul_dtype(precision: str, device: str):
    """The dtype of a training step's matmuls: bf16 and fp16 as set (fp16 is GPU-only: bf16 stands in on a CPU);
    fp32 stays fp32 on a GPU too, since PyTorch leaves TF32 off by default."""
    import torch

    if precision == "fp16" and device == "cuda":
        return torch.float16
    return torch.bfloat16 if precision in ("bf16", "fp16") else torch.float32


@functools.lru_cache(maxsize=16)
def model_shape(name: str) -> dict:
    """Parameters, hidden size and layers of a model, without loading its weights (meta device)."""
    warm.ready()  # see engine/warm.py
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
            "heads": config.num_attention_heads, "lora_unit": lora_unit, "vocab": config.vocab_size,
            "branched_rows": models.takes_branched_rows(model)}


def _is_hub_id(name: str) -> bool:
    from pathlib import Path

    return not Path(name).expanduser().exists()


def _hub_config_only(repo_id: str):
    from huggingface_hub import hf_hub_download

    try:
        from pathlib import Path

        return Path(hf_hub_download(repo_id, "config.json", etag_timeout=models.HUB_TIMEOUT_S)).parent
    except Exception as err:
        raise models.ModelError(msg("Could not read '{model}' from the Hugging Face Hub ({error}). Check the id "
                                    "and your internet connection.", model=repo_id,
                                    error=type(err).__name__)) from None


def lora_parameters(shape: dict, r: int) -> int:
    """Weights an all-linear LoRA adapter of rank r adds."""
    return r * shape["lora_unit"]


def trained_parameters(shape: dict, weights: str, lora_r: int) -> int:
    return shape["parameters"] if weights == "full" else lora_parameters(shape, lora_r)


# Calibrated on the embedded model against the peak RSS that bench/train_speed.py --memory measures (LoRA and
# full, before and after the speed levers, two batch sizes): docs/performance.md has the table.
CPU_RUNTIME_GB = 0.9  # Python, torch, transformers, tokenizer and data, before the model
# The CUDA context and its kernels: GPU memory that torch.cuda.max_memory_allocated does not count (assumed;
# bench/gpu_check.py measures it), so the rest of the estimate compares with that figure.
CUDA_RUNTIME_GB = 0.5
ACTIVATION_VALUES = 34  # values kept per token, layer and hidden unit for the backward pass (Korthikanti 2022)


def memory_estimate(shape: dict, weights: str, batch: int, seq_len: int, lora_r: int, levers, device,
                    sequences: int = 1) -> dict:
    """Peak training memory in GB, split by what uses it; the one estimate every page and check shows.

    seq_len is the longest padded batch: the longest row, capped at max_length; sequences: how many sequences
    each row puts through the model (the method's sequences_per_row: a pair's two answers). Everything but
    "runtime" is what the framework allocates: on a GPU, what torch.cuda.max_memory_allocated measures."""
    import torch

    from . import speed

    gb = 2**30
    params = shape["parameters"]
    if weights == "qlora":
        stored = params * 0.56  # 4-bit weights plus quantisation constants
    else:
        stored = params * (2 if speed.weights_dtype(levers, device, weights) == torch.bfloat16 else 4)
    trained = trained_parameters(shape, weights, lora_r)
    batch *= sequences
    # AdamW: a gradient and two moments per trained weight, in fp32; an adapter also keeps its fp32 weights.
    states = trained * (12 if weights == "full" else 16)
    value_bytes = 2 if levers.precision in ("bf16", "fp16") else 4
    tokens = batch * seq_len
    activations = tokens * shape["layers"] * shape["hidden"] * ACTIVATION_VALUES * value_bytes
    if levers.attention == "eager":  # attention scores and probabilities per head, kept for the backward
        activations += 2 * batch * shape["heads"] * seq_len**2 * shape["layers"] * value_bytes
    # The LM head: TRL scores in tiles, so a tile of logits, of every position or only the answers (compact).
    head = min(tokens, 4096) * shape["vocab"] * 4 * (1 if levers.compact_head else 2)
    runtime = (CPU_RUNTIME_GB if device.kind == "cpu" else CUDA_RUNTIME_GB) * gb
    parts = {"runtime": runtime, "weights": stored, "optimizer": states, "activations": activations, "head": head}
    parts = {k: v / gb for k, v in parts.items()}
    parts["total"] = sum(parts.values())
    return parts


# Matmul work per token of a training step, in multiples of the parameter count: forward 2, backward of the
# activations 2 (LoRA, frozen weights) or 4 (full). A method with a frozen reference adds 2 per reference forward.
STEP_FLOPS = {"full": 6, "lora": 4, "qlora": 4}


def step_flops(config) -> int:
    method = config.method_info
    per_step = 0 if method.reference_once else method.reference_forwards  # else counted once, before step 1
    return STEP_FLOPS[config.method.weights] + 2 * per_step


def training_memory(config: RunConfig, longest_tokens: int | None = None, weights: str | None = None) -> dict:
    """The estimate for a config (or for other weights with the same settings): at the data's longest row when
    known, else at max_length."""
    from . import speed

    device = models.device_info()
    t = config.training
    seq_len = min(longest_tokens or t.max_length, t.max_length)
    levers = speed.choose(device, t.precision, t.max_length)
    return memory_estimate(model_shape(config.model.name), weights or config.method.weights, t.batch_size, seq_len,
                           config.method.lora_r, levers, device, config.method_info.sequences_per_row)


def disk_needed_bytes(config: RunConfig) -> float:
    """A checkpoint holds the trained weights plus AdamW's two moments; full fine-tuning saves the model once more."""
    shape = model_shape(config.model.name)
    trained = trained_parameters(shape, config.method.weights, config.method.lora_r)
    final = shape["parameters"] * 4 if config.method.weights == "full" else 0
    return trained * 4 * 3 * (config.training.keep_checkpoints + 1) + final


def weights_estimates(config: RunConfig, longest_tokens: int | None = None) -> list[dict]:
    """For each choice of weights the config's method can train: weights trained, estimated peak memory and a
    verdict on this device."""
    device = models.device_info()
    shape = model_shape(config.model.name)
    rows = []
    for weights in config.method_info.weights:
        total = training_memory(config, longest_tokens, weights)["total"]
        verdict, sentence = models.memory_verdict(total, device)
        if weights == "qlora" and device.kind != "cuda":
            verdict, sentence = "not here", msg("Needs an NVIDIA GPU.")
        rows.append({"weights": weights, "trained": trained_parameters(shape, weights, config.method.lora_r),
                     "memory_gb": total, "verdict": verdict, "sentence": sentence})
    return rows


def steps_for(config: RunConfig, train_rows: int) -> int:
    t = config.training
    if t.max_steps:
        return t.max_steps
    per_epoch = math.ceil(train_rows / (t.batch_size * t.grad_accum))
    return max(1, math.ceil(per_epoch * t.epochs))


def costs(config: RunConfig, train_rows: int, stats: dict) -> dict:
    """Estimated seconds of one training step, of one validation pass and of the one-off work before the first
    step (a frozen reference scoring the rows once), with the rows a pass goes over (the everyday mix included)."""
    from . import everyday, speed

    device = models.device_info()
    shape = model_shape(config.model.name)
    t, method = config.training, config.method_info
    levers = speed.choose(device, t.precision, t.max_length)
    extra = everyday.rows_to_add(t.everyday_share, train_rows, method.mixes_everyday)
    if stats.get("kind") == PAIRS:
        train_rows *= method.rows_per_pair  # a method may read each pair as several rows
    rows = train_rows + extra
    mean_tokens = min(stats.get("mean") or t.max_length, t.max_length)
    # The tokens a row puts through the model: the method's own count, else its sequences at the mean length.
    row_tokens = (method.row_tokens and method.row_tokens(stats, t.max_length, shape)) or \
        method.sequences_per_row * mean_tokens
    share = CPU_BF16_SHARE if (device.kind, levers.precision) == ("cpu", "bf16") else MEASURED_SHARE[levers.precision]
    rate = matmul_rate(levers.precision) * share
    step_s = t.batch_size * t.grad_accum * row_tokens * step_flops(config) * shape["parameters"] / rate
    if t.gradient_checkpointing:
        step_s *= 1.3
    # Validation: a forward pass (a third of a training step's work) over the held-out rows; a frozen reference
    # scores them too, at every validation unless it scores them once before training.
    val_rows = stats.get("val_rows", 0)
    forward = row_tokens * 2 * shape["parameters"] / rate  # one forward pass of one row
    eval_s = val_rows * forward * VALIDATION_SHARE * (1 + (0 if method.reference_once else method.reference_forwards))
    ref_row_s = method.reference_forwards * forward if method.reference_once else 0.0
    once_s = (rows + val_rows) * ref_row_s  # the most it costs: every row drawn
    if method.estimate_seconds is not None:  # a method whose steps write answers estimates its own time
        one, two = (method.estimate_seconds(config, shape, rate, stats, n) for n in (1, 2))
        step_s, eval_s, once_s, ref_row_s = two - one, max(one - (two - one), 0.0) / 2, 0.0, 0.0
    name = pace.key(config, device.kind, levers.precision)
    factor = pace.factors(name)  # this machine's measured pace against the formula
    return {"step_s": step_s * factor["step"], "eval_s": eval_s * factor["eval"] if val_rows else 0.0,
            "once_s": once_s, "ref_row_s": ref_row_s, "val_rows": val_rows, "rows": rows,
            "pace": {"key": name, **factor},
            "extra": extra, "levers": levers, "shape": shape, "rate": rate}


def plan_for(config: RunConfig, train_rows: int, stats: dict, processes: int = 1) -> dict | None:
    """The time budget's plan (engine/plan.py) for this data on this device, or None without a budget."""
    if not config.training.minutes:
        return None
    return plan_from(config, costs(config, train_rows, stats), processes)


def plan_from(config: RunConfig, c: dict, processes: int = 1) -> dict:
    """The plan for estimated costs (costs())."""
    t = config.training
    made = plan.make_plan(t.minutes * 60 - c["once_s"], c["rows"], t.batch_size * t.grad_accum * processes,
                          c["step_s"], c["eval_s"])
    if t.preset == "custom":  # the rate rule is part of the presets; a custom rate is kept as it is
        made["lr_factor"] = 1.0
    return {**made, "pace": c["pace"], "learning_rate": t.learning_rate * made["lr_factor"]}


def preflight(config: RunConfig, train_rows: int, stats: dict) -> dict:
    """Steps, time, memory and disk for this config on this device, with plain verdicts.

    stats: the data's token statistics (stats.compute_stats): mean and longest row, validation rows."""
    from . import everyday

    device = models.device_info()
    t, m, method = config.training, config.method, config.method_info
    c = costs(config, train_rows, stats)
    shape, levers, extra = c["shape"], c["levers"], c["extra"]
    planned = plan_from(config, c) if t.minutes else None
    if planned:
        steps, seconds = planned["steps"], planned["seconds"] + c["once_s"]
    else:
        steps = steps_for(config, c["rows"])
        drawn = min(c["rows"], steps * t.batch_size * t.grad_accum)  # the reference scores only the rows drawn
        seconds = (steps * c["step_s"] + plan.validations(steps, t.eval_every) * c["eval_s"]
                   + (drawn + c["val_rows"]) * c["ref_row_s"])
        if method.estimate_seconds is not None:
            seconds = method.estimate_seconds(config, shape, c["rate"], stats, steps)
    cached = not extra or everyday.cached_answers(config.model.name, config.model.allow_pickle) is not None
    if not cached:
        seconds += everyday.generation_seconds(shape["parameters"], c["rate"])
    trained = trained_parameters(shape, m.weights, m.lora_r)
    mismatch = methods.mismatch(m.method, stats.get("kind", ANSWERS))
    if mismatch:
        raise DataError(mismatch)
    memory = training_memory(config, stats.get("longest"))
    verdict, sentence = models.memory_verdict(memory["total"], device)
    disk_needed = disk_needed_bytes(config) / 2**30
    disk_free = shutil.disk_usage(home()).free / 2**30
    return {"steps": steps, "seconds": seconds, "memory": memory, "memory_verdict": verdict,
            "memory_sentence": sentence, "disk_needed_gb": disk_needed, "disk_free_gb": disk_free,
            "disk_ok": disk_needed < disk_free * 0.9, "device": device.describe(), "parameters": shape["parameters"],
            "trained_parameters": trained, "levers": levers.notes, "everyday_rows": extra,
            "everyday_cached": cached, "advice": method.advice(config, stats) if method.advice else [],
            "plan": planned, "train_rows": c["rows"]}


def plan_words(planned: dict) -> list[tuple[str, Message]]:
    """The time plan in words, as the Settings page and `engine check` say it: (level, sentence) pairs, the plan
    ("info"), the rate rule for a small file ("note") and a "warning" when the budget cannot cover one pass."""
    minutes, seconds = divmod(round(planned["seconds"]), 60)
    checks = plan.validations(planned["steps"], planned["eval_every"])
    took = msg("about {minutes} min {seconds:02d} s", minutes=minutes, seconds=seconds) if minutes else msg(
        "about {seconds} s", seconds=seconds)
    if planned["covers_pass"] and planned["passes"] >= 1:
        words = [("info", msg("About {passes} passes over your {rows} examples: {steps} steps, {took} with {checks} "
                              "validations.", passes=round(planned["passes"], 1), rows=planned["rows"],
                              steps=planned["steps"], took=took, checks=checks))]
    else:
        words = [("info", msg("{steps} steps over {share:.0%} of your {rows} examples, {took} with {checks} "
                              "validations.", steps=planned["steps"], share=planned["passes"], rows=planned["rows"],
                              took=took, checks=checks))]
    if planned.get("lr_factor", 1.0) != 1.0:
        words.append(("note", msg("A small file is seen many times: the preset's learning rate is halved, to "
                                  "{lr:g}.", lr=planned["learning_rate"])))
    if not planned["covers_pass"]:
        words.append(("warning", msg("The time budget cannot cover one pass over your examples here: the model will "
                                     "not see all of them. Give it more minutes (about {needed:.0f}), or use fewer, "
                                     "shorter examples.", needed=plan.minutes_for_pass(planned) + 0.5)))
    return words
