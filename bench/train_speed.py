"""Training speed of the studio's engine against a plain SFTTrainer (or DPOTrainer) script with library defaults.

Each trainer runs in its own process (so peak memory is its own) on the same data, model, LoRA settings, batch,
learning rate and steps. Prints real (non-padding) tokens/s, seconds per step (median of the timed steps, so a
busy neighbour on a shared machine moves it less), final training loss, peak memory (RSS), the share of the
machine's measured matmul rate reached, and the ratios.

    python bench/train_speed.py                 # plain (library defaults), plain without checkpointing, engine
    python bench/train_speed.py --levers        # also each lever of the engine alone and combined
    python bench/train_speed.py --steps 16 --config assets/configs/order_extraction.yaml
    python bench/train_speed.py --method dpo    # preference tuning on the demo pairs: plain DPOTrainer vs engine
    python bench/train_speed.py --method dpo --levers
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

from shared import build_plain, build_plain_pairs, count_tokens, timing_callback  # noqa: E402 (bench/shared.py)
CONFIG = ROOT / "assets/configs/ticket_routing.yaml"
PAIRS_CONFIG = ROOT / "assets/configs/polite_replies.yaml"
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


# Preference tuning (--method dpo): name -> what it is
DPO_TRAINERS = {
    "plain": "plain DPOTrainer, library defaults (activation checkpointing on, full-vocabulary head, fp32, "
             "reference at every step)",
    "plain_no_ckpt": "plain DPOTrainer, library defaults but activation checkpointing off",
    "engine": "studio engine with its defaults for this device (reference scored once, before training)",
    "engine_fp32": "studio engine at plain's precision (fp32): the loss to compare at equal settings",
    "engine_fp32_every_step": "the same, the reference at every step as TRL does: equal losses with and without",
    "engine_fp32_two_rows": "the same as engine_fp32, each answer in its own row with its prompt (TRL's layout): "
                            "equal losses with and without the shared prompt",
}
DPO_LEVERS = {  # engine with one lever at a time: (reference once, shared prompt, compact head, precision, attention)
    "engine, no levers": (False, False, False, "fp32", "sdpa"),
    "+ reference once": (True, False, False, "fp32", "sdpa"),
    "+ shared prompt": (False, True, False, "fp32", "sdpa"),
    "+ compact head": (False, False, True, "fp32", "sdpa"),
    "+ bf16 autocast": (False, False, False, "bf16", "sdpa"),
    "+ eager attention": (False, False, False, "fp32", "auto"),
    "all five": (True, True, True, "bf16", "auto"),
}


def load_config(path, steps: int, dropout: float | None, method: str = "lora"):
    from engine.settings import RunConfig

    config = RunConfig.load(path)
    config.method.weights = method  # lora or full
    config.training.max_steps, config.training.save_every = steps, 10**5
    config.training.minutes = 0.0  # the steps asked for, not a time budget
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
    """Train one trainer for the given steps; return step times, tokens, losses and peak memory."""
    config = load_config(spec["config"], spec["steps"], spec.get("dropout"), spec.get("method", "lora"))
    config.training.batch_size = spec.get("batch", config.training.batch_size)
    from engine import speed

    choose = speed.choose
    speed.choose = lambda *a, **k: _override(choose(*a, **k), spec)
    reference_s = []  # the engine's one-off reference pass (preference tuning)
    shared_widths = []  # the width of each batch of shared-prompt rows (one row per pair)
    if spec.get("pairs"):
        _reference_once(spec.get("once", True), reference_s)
        from engine.methods.dpo import trainer as dpo_trainer

        dpo_trainer.SHARED_PROMPT = spec.get("shared", True)
        _count_shared_rows(shared_widths)
    started = time.perf_counter()
    if spec["kind"] == "engine":
        trainer = build_engine(config, spec.get("compact"), spec.get("precision"))
    elif spec.get("pairs"):
        trainer = build_plain_pairs(config, checkpointing=spec["kind"] == "plain")
    else:
        trainer = build_plain(config, checkpointing=spec["kind"] == "plain")
    build_s = time.perf_counter() - started
    clock, tokens, lengths, step_losses = timing_callback(), [], [], []
    trainer.add_callback(clock)
    count_tokens(trainer, tokens, lengths, step_losses)
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    timed = clock.times[WARMUP:]
    return {"step_s": statistics.median(timed), "tokens_per_s": sum(tokens[WARMUP:]) / sum(timed),
            "tokens_per_step": statistics.mean(tokens), "train_loss": result.training_loss,
            "last_loss": losses[-1] if losses else None, "step_losses": step_losses,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "precision": "bf16" if trainer.args.bf16 else "fp32", "longest_batch": max(lengths),
            "padded_tokens_per_step": _padded_tokens(lengths, shared_widths, config.training.batch_size),
            "compact": _compact_on(), "build_s": build_s, "reference_s": sum(reference_s),
            "rows": len(trainer.train_dataset),
            "pairs_per_step": config.training.batch_size * config.training.grad_accum}


def _override(levers, spec):
    """The levers of a measured variant: the model's own attention (as before the levers), compact head on/off."""
    if spec.get("attention") == "sdpa":
        levers.attention = None
    if spec.get("compact") is not None:
        levers.compact_head = spec["compact"]
    return levers


def _reference_once(on: bool, seconds: list) -> None:
    """Switch the engine's one-off reference pass on or off, and time it when it runs."""
    from engine.methods.dpo import reference, trainer

    trainer.REFERENCE_ONCE = on
    cls = reference.trainer_class()
    original = cls._precompute_ref_logps

    def timed(self, *args, **kwargs):
        t = time.perf_counter()
        out = original(self, *args, **kwargs)
        seconds.append(time.perf_counter() - t)
        return out

    cls._precompute_ref_logps = timed


def _count_shared_rows(widths: list) -> None:
    """Note the width of every batch the engine runs as shared-prompt rows (the reference pass's and validations'
    included: the figure is their mean)."""
    from engine.methods.dpo import shared_prompt

    pack = shared_prompt.pack

    def counted(*args):
        packed = pack(*args)
        if packed is not None:
            widths.append(packed["input_ids"].shape[1])
        return packed

    shared_prompt.pack = counted


def _padded_tokens(lengths: list, shared_widths: list, batch: int) -> float:
    """Tokens a step puts through the model, padding included: two rows a pair, or one with a shared prompt."""
    if shared_widths:
        return statistics.mean(shared_widths) * batch
    return statistics.mean(lengths) * 2 * batch


def _compact_on() -> bool:
    from trl.trainer import utils as trl_utils

    import torch

    return bool(trl_utils._use_triton(torch.device("cpu")))


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
    parser.add_argument("--steps", type=int, default=None, help="Steps per trainer (12; DPO: 8).")
    parser.add_argument("--config", default=None, help="The run config (the demo of the method).")
    parser.add_argument("--method", choices=["sft", "dpo"], default="sft",
                        help="sft: plain SFTTrainer vs engine; dpo: plain DPOTrainer vs engine on preference pairs.")
    parser.add_argument("--levers", action="store_true", help="Also measure each lever alone and combined.")
    parser.add_argument("--memory", action="store_true", help="Only the memory table: measured peak vs estimate.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    pairs = args.method == "dpo"
    args.config = args.config or str(PAIRS_CONFIG if pairs else CONFIG)
    args.steps = args.steps or (8 if pairs else 12)
    import torch

    from engine import models, preflight, speed

    print(f"load average (1, 5, 15 min) at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
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
    if pairs:
        pairs_table(args, flops_per_token, peaks)
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


def pairs_table(args, flops_per_token: float, peaks: dict) -> None:
    """Preference tuning: plain DPOTrainer (library defaults) against the engine, then the losses at equal settings
    with and without the one-off reference pass, and with --levers each lever alone."""
    spec = {"config": args.config, "steps": args.steps, "pairs": True}
    results = {}
    for kind, label in DPO_TRAINERS.items():
        variant = {"kind": "engine" if kind.startswith("engine") else kind}
        if kind.startswith("engine_fp32"):
            variant.update(precision="fp32", once=kind != "engine_fp32_every_step",
                           shared=kind != "engine_fp32_two_rows")
        results[kind] = run_worker({**spec, **variant})
        print(row(kind, results[kind], flops_per_token, peaks, results.get("plain")), f" ({label})", flush=True)
    plain, engine = results["plain"], results["engine"]
    ratio = engine["tokens_per_s"] / plain["tokens_per_s"]
    print(f"\nratio engine / plain DPOTrainer (library defaults), per step: {ratio:.2f}x")
    print(f"ratio engine / plain without activation checkpointing: "
          f"{engine['tokens_per_s'] / results['plain_no_ckpt']['tokens_per_s']:.2f}x")
    # The pass scores only the pairs the run draws (steps x batch), so its cost per step is the same for any number
    # of steps: per pair scored, times the pairs a step draws.
    once, batch = engine["reference_s"], engine["pairs_per_step"]
    scored = min(engine["rows"], args.steps * batch)
    spread = engine["step_s"] + once / scored * batch
    print(f"the engine's one-off reference pass: {once:.1f} s for the {scored} pairs this run draws "
          f"({once / scored:.2f} s a pair); per step of {batch} pairs: {engine['step_s']:.2f} + "
          f"{once / scored * batch:.2f} s, ratio {plain['step_s'] / spread:.2f}x in seconds per step with the pass "
          f"(the same real tokens)")
    same, every, rows = results["engine_fp32"], results["engine_fp32_every_step"], results["engine_fp32_two_rows"]
    print(f"padded/real tokens per step: plain {plain['padded_tokens_per_step'] / plain['tokens_per_step']:.2f}, "
          f"engine {engine['padded_tokens_per_step'] / engine['tokens_per_step']:.2f}")
    print("\nlosses at equal settings (fp32, step by step):")
    for label, r in (("plain DPOTrainer", plain), ("engine, reference once", same),
                     ("engine, reference every step", every), ("engine, one row per answer", rows),
                     (f"engine, {engine['precision']}", engine)):
        print(f"  {label:30} " + " ".join(f"{x:.6f}" for x in r["step_losses"]))
    print(f"largest difference per step: engine (reference once) vs plain {_largest(same, plain):.2e}; "
          f"reference once vs every step {_largest(same, every):.2e}; shared prompt vs one row per answer "
          f"{_largest(same, rows):.2e}; engine {engine['precision']} vs plain "
          f"{_largest(engine, plain):.2e}")
    if args.levers:
        print("\nlevers, one at a time and combined (engine, ratio to 'engine, no levers'; seconds per step exclude "
              "the one-off reference pass, shown apart):")
        base = None
        for label, (once, shared, compact, precision, attention) in DPO_LEVERS.items():
            r = run_worker({**spec, "kind": "engine", "once": once, "shared": shared, "compact": compact,
                            "precision": precision, "attention": attention})
            base = base or r
            extra = f"  + reference pass {r['reference_s']:.1f} s" if once else ""
            print(row(label, r, flops_per_token, peaks, base) + extra, flush=True)


def _largest(a: dict, b: dict) -> float:
    return max(abs(x - y) for x, y in zip(a["step_losses"], b["step_losses"]))


if __name__ == "__main__":
    main()
