"""GRPO on a CPU: where a step's time goes, and the measurements behind the GRPO presets and the demo.

A GRPO step writes (prompts x group size) answers, scores them with the checks, then trains on them: generation is
the cost. Three parts, each printing its figures and writing bench/results/grpo_<part>.json:

  python bench/grpo_speed.py generation  # seconds to write the answers of one step: group size, answer length,
                                         # prompts per step, precision (bf16 autocast or fp32), torch threads
  python bench/grpo_speed.py steps       # whole GRPO steps of the embedded model on order extraction, by setting:
                                         # seconds per step and the share spent writing answers
  python bench/grpo_speed.py demo [--start RUN] [--rows 30] [--steps N]
                                         # the demo config (assets/configs/order_extraction_grpo.yaml) on the quick
                                         # preset, from the base model or a finished run; then held-out prompts
                                         # scored check by check, start vs tuned, and the everyday check

The machine is shared: each part prints the load average before and after; compare figures measured together.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", str(ROOT / ".studio" / "bench-home"))
RESULTS = ROOT / "bench" / "results"
DEMO = ROOT / "assets" / "configs" / "order_extraction_grpo.yaml"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_seconds() -> float:
    """CPU time this process has used: on a shared machine, closer to what an idle one would take than the wall."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def save(name: str, rows) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"grpo_{name}.json").write_text(json.dumps(rows, indent=1))


def demo_config(**overrides):
    from engine.settings import RunConfig, set_value

    config = RunConfig.load(DEMO)
    for attr in ("train_file", "eval_file"):
        setattr(config.data, attr, str(ROOT / getattr(config.data, attr)))
    for key, value in overrides.items():
        set_value(config, key, value)
    return config.validate()


def generation(args) -> list[dict]:
    """Seconds to write one step's answers with the embedded model, as GRPO samples them (temperature 1, forced to
    the full length so every setting writes the same number of tokens)."""
    import torch

    from engine import models
    from engine.data import prepare

    config = demo_config()
    prompts = [e["prompt"] for e in prepare(config.data)[1][:8]]
    rows = []
    print(f"load {load()}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for precision in ("bf16", "fp32"):
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            model, tokenizer, _ = models.load("default", dtype=dtype, attn_implementation="eager")
            tokenizer.padding_side = "left"
            for n_prompts, group, length in args.grid:
                texts = [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                         for p in prompts[:n_prompts] for _ in range(group)]
                batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
                start = time.perf_counter()
                with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    model.generate(**batch, max_new_tokens=length, min_new_tokens=length, do_sample=True,
                                   temperature=1.0, top_p=1.0, top_k=0, pad_token_id=tokenizer.pad_token_id)
                seconds = time.perf_counter() - start
                row = {"threads": threads, "precision": precision, "prompts": n_prompts, "group": group,
                       "length": length, "answers": n_prompts * group, "seconds": round(seconds, 2),
                       "ms_per_answer_token": round(1000 * seconds / (n_prompts * group * length), 1)}
                rows.append(row)
                print(row, flush=True)
    print(f"load {load()}")
    save("generation", rows)
    return rows


# (label, overrides): the settings the quick preset was chosen from.
STEP_CANDIDATES = [
    ("2 prompts x 4 answers, 48 tokens (quick)", {}),
    ("2 prompts x 2 answers, 48 tokens", {"grpo.num_generations": 2}),
    ("2 prompts x 8 answers, 48 tokens", {"grpo.num_generations": 8}),
    ("1 prompt x 8 answers, 48 tokens", {"training.batch_size": 1, "grpo.num_generations": 8}),
    ("4 prompts x 4 answers, 48 tokens", {"training.batch_size": 4}),
    ("2 prompts x 4 answers, 32 tokens", {"grpo.max_completion_length": 32}),
    ("2 prompts x 4 answers, 64 tokens", {"grpo.max_completion_length": 64}),
    ("2 prompts x 4 answers, 48 tokens, beta 0 (no reference pass)", {"grpo.beta": 0.0}),
]


def steps(args) -> list[dict]:
    """Whole GRPO steps: seconds per step and the share spent writing answers (generation timed inside TRL)."""
    from engine import runs, train
    from engine.methods.grpo import trainer as grpo_trainer

    spent = {"generate": 0.0}
    cls = grpo_trainer.trainer_class()
    original = cls._generate_single_turn

    def timed(self, *a, **kw):
        start = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            spent["generate"] += time.perf_counter() - start

    cls._generate_single_turn = timed
    rows = []
    chosen = [c for c in STEP_CANDIDATES if not args.only or any(o in c[0] for o in args.only)]
    for label, overrides in chosen:
        config = demo_config(**{"training.max_steps": args.steps, "training.eval_every": 1000,
                                "training.save_every": 1000, "data.eval_file": "", "data.val_fraction": 0.0,
                                **overrides})
        run = runs.create_run(config)
        spent["generate"] = 0.0
        before, cpu = load(), cpu_seconds()
        status = train.train_run(run)
        cpu = cpu_seconds() - cpu
        final = status.get("final", {})
        records = [r for r in run.metrics() if "loss" in r]
        row = {"label": label, "state": status["state"], "steps": final.get("steps"),
               "seconds_per_step": round(final.get("runtime_s", 0) / max(final.get("steps") or 1, 1), 1),
               "cpu_s_per_step": round(cpu / max(final.get("steps") or 1, 1), 1),
               "generation_share": round(spent["generate"] / max(final.get("runtime_s", 1), 1e-9), 2),
               "mean_length": round(sum(r.get("completions/mean_length", 0) for r in records) / max(len(records), 1),
                                    1),
               "load_before": before, "load_after": load()}
        rows.append(row)
        print(row, flush=True)
    save("steps", rows)
    return rows


def demo(args) -> dict:
    """The demo on the quick preset (from the base model or a finished run), then its held-out evaluation."""
    from engine import runs, train
    from engine.evaluate import evaluate_run
    from engine.methods.grpo.evaluate import pass_rates

    overrides = {"method.start_from": args.start} if args.start else {}
    if args.steps:
        overrides["training.max_steps"] = args.steps
    import yaml

    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = yaml.safe_load(value)
    config = demo_config(**overrides)
    run = runs.create_run(config)
    print(f"run {run.id}; load {load()}", flush=True)
    start, cpu = time.time(), cpu_seconds()
    status = train.train_run(run, on_record=lambda record, state: print(
        {k: round(v, 3) if isinstance(v, float) else v for k, v in record.items()
         if k in ("step", "reward", "eval_reward", "loss", "completions/mean_length", "elapsed_s")}, flush=True))
    wall, cpu = time.time() - start, cpu_seconds() - cpu
    print(status["state"], status.get("final"), f"load {load()}", flush=True)
    results = evaluate_run(run, rows=args.rows)
    evals = [r for r in run.metrics() if "eval_reward" in r]
    figures = {
        "run": run.id, "start": args.start or "base model", "settings": args.set, "state": status["state"],
        "final": status.get("final"),
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "threads": __import__("torch").get_num_threads(),
        "validation_reward": [(r["step"], round(r["eval_reward"], 3)) for r in evals],
        "held_out": {who: {"reward": round(results[who]["reward"], 3), "all_pass": results[who]["all_pass"],
                           "pass_rates": pass_rates(results, who)} for who in ("base", "tuned")},
        "everyday": results["general"], "rows": results["rows"], "load_after": load(),
    }
    print(json.dumps(figures, indent=1))
    save(f"demo_{'from_run' if args.start else 'base'}{'_' + args.tag if args.tag else ''}", figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["generation", "steps", "demo"])
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--steps", type=int, default=0, help="steps: per candidate (default 3); demo: override")
    parser.add_argument("--only", nargs="*", help="steps: only the candidates whose label contains one of these")
    parser.add_argument("--start", default="", help="demo: a finished LoRA run to start from")
    parser.add_argument("--rows", type=int, default=30, help="demo: held-out prompts to evaluate")
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE",
                        help="demo: other settings (YAML values), e.g. grpo.temperature=0.7 training.seed=2")
    parser.add_argument("--tag", default="", help="demo: added to the results file's name")
    parser.add_argument("--grid", nargs="+", default=["2,4,48", "2,2,48", "2,8,48", "1,8,48", "4,4,48", "2,4,32",
                                                      "2,4,64"], help="generation: prompts,group,length ...")
    args = parser.parse_args()
    args.grid = [tuple(int(x) for x in g.split(",")) for g in args.grid]
    if args.part == "steps":
        args.steps = args.steps or 3
    {"generation": generation, "steps": steps, "demo": demo}[args.part](args)


if __name__ == "__main__":
    main()
