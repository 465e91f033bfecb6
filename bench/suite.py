"""The presets on a broad bench: each task of bench/suite trained with each preset through the engine, then
scored on its 30 held-out rows (phrased differently from the training rows). Appends every run to
bench/results/suite.json (keyed label / task / preset, earlier entries kept) and prints a Markdown table.

Usage: python bench/suite.py --presets quick balanced --tasks all --rows 30 [--set training.learning_rate=5e-4 ...]
                             [--label NAME] [--model default] [--out bench/results/suite.json]
       python bench/suite.py --table            # the table of the saved results only
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", str(ROOT / ".studio" / "bench-home"))
OUT = ROOT / "bench" / "results" / "suite.json"


def load_tasks() -> dict:
    """bench/suite/tasks.py by its path: `bench.suite` would name this file, not the folder."""
    spec = importlib.util.spec_from_file_location("suite_tasks", ROOT / "bench" / "suite" / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TASKS


def parse_sets(items: list[str]) -> dict[str, str]:
    sets = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--set {item}: write section.setting=value, e.g. training.learning_rate=5e-4")
        sets[key.strip()] = value.strip()
    return sets


def check_sets(sets: dict) -> None:
    """A mistyped --set stops the bench before the first run, not after it."""
    from engine.settings import RunConfig, SettingsError, set_value

    config = RunConfig()
    for key, value in sets.items():
        try:
            set_value(config, key, value)
        except SettingsError as err:
            sys.exit(f"--set {key}={value}: {err}")


def run_one(task: str, spec: dict, preset: str, model: str, sets: dict, rows: int) -> dict:
    """Train one task with one preset, evaluate it, and return the figures worth keeping."""
    from engine import runs, train
    from engine.evaluate import evaluate_run
    from engine.settings import RunConfig, set_value

    config = RunConfig.from_dict({"name": f"suite-{task}-{preset}",
                                  "data": {"train_file": str(ROOT / spec["train"]),
                                           "eval_file": str(ROOT / spec["test"])},
                                  "model": {"name": model}, "method": {"method": "sft"},
                                  "training": {"preset": preset, "save_every": 10**5}})
    for key, value in sets.items():
        set_value(config, key, value)
    run = runs.create_run(config.validate())
    t = time.time()
    status = train.train_run(run)
    seconds = time.time() - t
    final = status.get("final", {})
    entry = {"run": run.path.name, "state": status["state"], "steps": status.get("step"),
             "train_seconds": round(seconds, 1), "kept_step": final.get("kept_step"),
             "kept_reason": final.get("kept_reason"), "runtime_s": final.get("runtime_s"),
             "passes": (run.status().get("plan") or {}).get("passes"),
             "val_loss_before": final.get("first_eval_loss"), "val_loss_after": final.get("eval_loss"),
             "metric": spec["metric"], "rows": spec["rows"],
             "settings": {k: getattr(config.training, k) for k in
                          ("max_steps", "epochs", "learning_rate", "batch_size", "grad_accum")}}
    if status["state"] != "finished":
        entry["message"] = str(status.get("message", ""))
        return entry
    try:
        results = evaluate_run(run, rows=rows)
    except Exception as err:  # one task's failed evaluation must not stop the others
        entry["message"] = f"evaluation failed: {type(err).__name__}: {err}"
        return entry
    entry.update(score_base=results["base"][spec["metric"]], score_tuned=results["tuned"][spec["metric"]],
                 everyday_base=results["general"]["base"], everyday_tuned=results["general"]["tuned"],
                 eval_rows=results["rows"])
    return entry


def load(out: Path) -> dict:
    return json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def save(out: Path, results: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out)


def line(label: str, task: str, preset: str, r: dict) -> str:
    text = f"[{label}] {task} / {preset}: {r['state']}, {r['steps']} steps, {r['train_seconds']:.0f} s"
    if r.get("score_tuned") is not None:
        text += (f", {r['metric']} {r['score_base']:.2f} -> {r['score_tuned']:.2f}, everyday "
                 f"{r['everyday_base']:.0%} -> {r['everyday_tuned']:.0%}, val loss {r['val_loss_before']} -> "
                 f"{r['val_loss_after']}")
    return text + (f" ({r['message']})" if r.get("message") else "")


def number(value) -> str:
    return f"{value:.2g}" if isinstance(value, float) else str(value)


def table(results: dict) -> str:
    out = []
    for label, tasks in results.items():
        out += [f"\n### {label}\n", "| task | rows | preset | steps (passes) | step kept | training + validation | "
                "score base → tuned (metric) | everyday base → tuned |", "|---|---|---|---|---|---|---|---|"]
        for task, presets in tasks.items():
            for preset, r in presets.items():
                steps = f"{r['steps']} ({number(r['passes'])})" if r.get("passes") is not None else str(r["steps"])
                kept = ("–" if r.get("kept_step") is None else
                        f"{r['kept_step']}" + (f" ({r['kept_reason']})" if r.get("kept_reason") else ""))
                secs = round(r.get("runtime_s") or r["train_seconds"])  # training and validation: the budget
                score = (f"{r['score_base']:.2f} → {r['score_tuned']:.2f} ({r['metric'].replace('_', ' ')})"
                         if r.get("score_tuned") is not None else r["state"])
                everyday = (f"{r['everyday_base']:.0%} → {r['everyday_tuned']:.0%}"
                            if r.get("everyday_tuned") is not None else "–")
                out.append(f"| {task} | {r['rows']} | {preset} | {steps} | {kept} | {secs // 60}m{secs % 60:02d}s | "
                           f"{score} | {everyday} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["quick", "balanced", "thorough"])
    parser.add_argument("--tasks", nargs="+", default=["all"], help="task names from bench/suite/tasks.py, or all")
    parser.add_argument("--rows", type=int, default=30, help="held-out rows answered per run")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.SETTING=VALUE",
                        help="a setting applied after the preset (repeatable)")
    parser.add_argument("--label", help="name of this set of runs (default: the --set values, or 'as shipped')")
    parser.add_argument("--model", default="default", help="'default' (the embedded model) or a model folder")
    parser.add_argument("--out", type=Path, default=OUT, help="results file (default bench/results/suite.json)")
    parser.add_argument("--table", action="store_true", help="only print the table of the saved results")
    args = parser.parse_args()
    if args.table:
        print(table(load(args.out)))
        return
    tasks = load_tasks()
    names = list(tasks) if args.tasks == ["all"] else args.tasks
    unknown = [n for n in names if n not in tasks]
    if unknown:
        sys.exit(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(tasks)}")
    sets = parse_sets(args.sets)
    check_sets(sets)
    label = args.label or (" ".join(args.sets) if args.sets else "as shipped")
    for task in names:
        for preset in args.presets:
            entry = run_one(task, tasks[task], preset, args.model, sets, args.rows)
            results = load(args.out)  # read again: another run of this script may have added entries meanwhile
            results.setdefault(label, {}).setdefault(task, {})[preset] = entry
            save(args.out, results)
            print(line(label, task, preset, entry), flush=True)
    print(table({label: results[label]}))


if __name__ == "__main__":
    main()
