"""Training speed of the studio's engine against a plain SFTTrainer script with library defaults, in one run.

Each trainer runs in its own process (so peak memory is its own) on the same data, model, LoRA settings, batch,
learning rate and steps. Prints real (non-padding) tokens/s, seconds per step (median of the timed steps, so a
busy neighbour on a shared machine moves it less), final training loss, peak memory (RSS), the share of the
machine's measured matmul rate reached, and the ratios.

    python bench/train_speed.py                 # plain (library defaults), plain without checkpointing, engine
    python bench/train_speed.py --levers        # also each lever of the engine alone and combined
    python bench/train_speed.py --steps 16 --config assets/configs/order_extraction.yaml
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", str(ROOT / ".studio" / "bench-home"))

from shared import build_plain, count_tokens, timing_callback  # noqa: E402 (bench/shared.py)
CONFIG = ROOT / "assets/configs/ticket_routing.yaml"
WARMUP = 2  # steps not timed (first allocations, oneDNN kernel selection)

# name -> (what it is, how it is built)
TRAINERS = {
    "plain": "plain SFTTrainer, library defaults (activation checkpointing on, full-vocabulary loss, fp32)",
    "plain_no_ckpt": "plain SFTTrainer, library defaults but activation checkpointing off",
    "engine": "studio engine with its defaults for this device",
    "engine_fp32": "studio engine at plain's precision (fp32): the loss to compare at equal settings",
}
LEVERS = {  # engine with one lever at a time: (compact head, LoRA dropout, precision, attention)
    "engine, no levers": (False, 0.05, "fp32", "sdpa"),
    "+ compact loss": (True, 0.05, "fp32", "sdpa"),
    "+ LoRA dropout 0": (False, 0.0, "fp32", "sdpa"),
    "+ bf16 autocast": (False, 0.05, "bf16", "sdpa"),
    "+ eager attention": (False, 0.05, "fp32", "auto"),
    "all but bf16 (an AVX2-only CPU)": (True, 0.0, "fp32", "auto"),
    "all four": (True, 0.0, "bf16", "auto"),
}


def load_config(path, steps: int, dropout: float | None, method: str = "lora"):
    from engine.settings import RunConfig

    config = RunConfig.load(path)
    config.method.weights = method  # lora or full
    config.training.max_steps, config.training.save_every = steps, 10**5
    config.data.eval_file, config.data.val_fraction = "", 0.0  # time training only
    if dropout is not None:
        config.method.lora_dropout = dropout
    return config


def build_engine(config, compact: bool | None, precision: str | None):
    from engine import runs, speed, train

    if precision:
        config.training.precision = precision
    trainer, _ = train.build_trainer(runs.create_run(config))
    if compact is not None:
        speed.set_compact_head(compact)
    return trainer


MEMORY = {  # label -> (method, batch, before the speed changes?)
    "LoRA, before": ("lora", 8, True), "LoRA, after": ("lora", 8, False), "LoRA, after, batch 16": ("lora", 16, False),
    "full, before": ("full", 8, True), "full, after": ("full", 8, False), "full, after, batch 4": ("full", 4, False),
}


def memory_table(args) -> None:
    """Peak memory measured (RSS) against the studio's one estimate, before and after the speed levers."""
    from engine import models, preflight, speed

    device = models.device_info()
    shape = preflight.model_shape("default")
    print(f"\n{'memory':24} {'measured':>9} {'estimate':>9}  error")
    for label, (method, batch, before) in MEMORY.items():
        spec = {"config": args.config, "steps": 3, "kind": "engine", "method": method, "batch": batch}
        if before:
            spec.update(compact=False, precision="fp32", dropout=0.05, attention="sdpa")
        r = run_worker(spec)
        levers = speed.choose(device, "fp32" if before else "auto", r["longest_batch"])
        if before:
            levers.compact_head, levers.attention = False, None
        est = preflight.memory_estimate(shape, method, batch, r["longest_batch"], 16, levers, device)["total"]
        print(f"{label:24} {r['peak_gb']:8.2f}G {est:8.2f}G  {est / r['peak_gb'] - 1:+.0%}", flush=True)


def worker(spec: dict) -> dict:
    """Train one trainer for the given steps; return step times, tokens, final loss and peak memory."""
    config = load_config(spec["config"], spec["steps"], spec.get("dropout"), spec.get("method", "lora"))
    config.training.batch_size = spec.get("batch", config.training.batch_size)
    if spec.get("attention") == "sdpa":  # the levers as they were before: the model's own attention
        from engine import speed

        choose = speed.choose
        speed.choose = lambda *a, **k: _without_attention(choose(*a, **k))
    if spec["kind"] == "engine":
        trainer = build_engine(config, spec.get("compact"), spec.get("precision"))
    else:
        trainer = build_plain(config, checkpointing=spec["kind"] == "plain")
    clock, tokens, lengths = timing_callback(), [], []
    trainer.add_callback(clock)
    count_tokens(trainer, tokens, lengths)
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    timed = clock.times[WARMUP:]
    return {"step_s": statistics.median(timed), "tokens_per_s": sum(tokens[WARMUP:]) / sum(timed),
            "tokens_per_step": statistics.mean(tokens), "train_loss": result.training_loss,
            "last_loss": losses[-1] if losses else None,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "precision": "bf16" if trainer.args.bf16 else "fp32", "longest_batch": max(lengths),
            "compact": _compact_on()}


def _compact_on() -> bool:
    from trl.trainer import utils as trl_utils

    import torch

    return bool(trl_utils._use_triton(torch.device("cpu")))


def _without_attention(levers):
    levers.attention = None
    return levers


def run_worker(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"worker {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def matmul_rate(dtype_name: str = "float32", n: int = 2048, repeats: int = 10) -> float:
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times)


def row(label: str, r: dict, flops_per_token: float, peaks: dict, base: dict | None = None) -> str:
    share = r["tokens_per_s"] * flops_per_token / peaks[r["precision"]]
    ratio = f"{r['tokens_per_s'] / base['tokens_per_s']:5.2f}x" if base else "     "
    return (f"{label:34} {r['step_s']:6.2f} s/step {r['tokens_per_s']:7.1f} tok/s {ratio}  loss "
            f"{r['train_loss']:.4f}  peak {r['peak_gb']:.2f} GB  {r['precision']} {share:6.1%} of peak")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--levers", action="store_true", help="Also measure each lever alone and combined.")
    parser.add_argument("--memory", action="store_true", help="Only the memory table: measured peak vs estimate.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    import torch

    from engine import models, preflight, speed

    device = models.device_info()
    shape = preflight.model_shape("default")
    peaks = {"fp32": matmul_rate("float32"), "bf16": matmul_rate("bfloat16")}
    flops_per_token = 4 * shape["parameters"]  # LoRA: forward 2N + backward through activations 2N
    print(f"device: {device.describe()}; torch {torch.__version__}, {torch.get_num_threads()} threads, CPU "
          f"capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"measured matmul rate: fp32 {peaks['fp32'] / 1e9:.1f} GFLOP/s, bf16 {peaks['bf16'] / 1e9:.1f} GFLOP/s")
    print("engine levers here: " + " ".join(speed.choose(device).notes))
    print(f"{Path(args.config).name}: {shape['parameters'] / 1e6:.1f}M parameters, {args.steps} steps "
          f"(first {WARMUP} not timed), same data, LoRA, batch and learning rate for all\n")
    if args.memory:
        memory_table(args)
        return
    spec = {"config": args.config, "steps": args.steps}
    results = {}
    for kind, label in TRAINERS.items():
        fp32 = kind == "engine_fp32"
        results[kind] = run_worker({**spec, "kind": "engine" if fp32 else kind, **({"precision": "fp32"} if fp32 else {})})
        print(row(kind, results[kind], flops_per_token, peaks, results.get("plain")), f" ({label})", flush=True)
    plain, engine = results["plain"], results["engine"]
    print(f"\nratio engine / plain (library defaults): {engine['tokens_per_s'] / plain['tokens_per_s']:.2f}x")
    print(f"ratio engine / plain without activation checkpointing: "
          f"{engine['tokens_per_s'] / results['plain_no_ckpt']['tokens_per_s']:.2f}x")
    same = results["engine_fp32"]
    print(f"final training loss at equal settings (fp32): engine {same['train_loss']:.4f}, plain "
          f"{plain['train_loss']:.4f} ({same['train_loss'] / plain['train_loss'] - 1:+.2%}); with this device's "
          f"{engine['precision']}: {engine['train_loss']:.4f} ({engine['train_loss'] / plain['train_loss'] - 1:+.1%})")
    if args.levers:
        print("\nlevers, one at a time and combined (engine, ratio to 'engine, no levers'):")
        base = None
        for label, (compact, dropout, precision, attention) in LEVERS.items():
            r = run_worker({**spec, "kind": "engine", "compact": compact, "dropout": dropout,
                            "precision": precision, "attention": attention})
            base = base or r
            print(row(label, r, flops_per_token, peaks, base), flush=True)


if __name__ == "__main__":
    main()
