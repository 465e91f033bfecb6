"""Did it work? The evaluation shell: held-out rows of a finished run, answered and scored by its method.

The method's folder does the scoring (engine/methods/<name>/evaluate.py); this shell loads the held-out rows,
checks that the run has a model, reports progress to eval/progress.json, adds the everyday-questions figures and
writes eval/ atomically. Scores are in engine/scoring.py, answers in engine/generation.py.
"""
from __future__ import annotations

import json
import threading
import time

from . import data as data_mod
from . import methods, runs, warm
from .generation import Cancelled  # noqa: F401 (what a cancelled evaluation raises, for its callers)
from .i18n import msg
from .paths import write_atomic, write_json
from .runs import Run


def progress_reporter(run: Run, total: int, progress=None):
    """report(phase, offset) -> a callback(count, n) that writes eval/progress.json and tells the caller, for
    an evaluation made of several passes adding up to `total` items."""
    def report(phase, offset):
        def callback(count, _n):
            state = {"done": offset + count, "total": total, "phase": phase, "time": time.time()}
            write_json(run.eval_dir / "progress.json", state)
            if progress:
                progress(state["done"], state["total"], phase)
        return callback
    return report


def evaluate_run(run: Run, rows: int | None = None, progress=None, stop: threading.Event | None = None) -> dict:
    """The run's method scores the held-out rows with the starting and the tuned model; saved to eval/."""
    warm.ready()  # see engine/warm.py
    config = run.config()
    method = config.method_info
    loaded, train_rows, val_rows, _ = data_mod.prepare(config.data)
    problem = methods.mismatch(method.name, loaded.kind)
    if problem:
        raise data_mod.DataError(problem)
    examples = val_rows[: rows or config.generation.eval_rows]
    if not examples:
        raise data_mod.DataError(msg("There are no held-out rows to evaluate on. Set a validation share above 0 "
                                     "or give a held-out file."))
    if run.final_dir() is None:
        raise FileNotFoundError(msg("This run has no trained model yet: let it finish first."))
    start = runs.start_adapter(config) if config.method.start_from else None
    config.generation = runs.answer_settings(run, config)  # the length recorded at training start
    results, table, base_general, tuned_general = method.evaluate(
        run, config, examples, train_rows, lambda total: progress_reporter(run, total, progress), stop, start=start)
    results["method"] = method.name
    results["general"] = {"base": sum(g["passed"] for g in base_general) / len(base_general),
                          "tuned": sum(g["passed"] for g in tuned_general) / len(tuned_general)}
    return save_results(run, results, table, base_general, tuned_general)


def save_results(run: Run, results: dict, table: list[dict], base_general: list[dict],
                 tuned_general: list[dict]) -> dict:
    """Write eval/ (results, rows side by side, the everyday questions) and return it all, as load_results does."""
    general = [{"prompt": b["prompt"], "base": b["answer"], "base_passed": b["passed"], "tuned": t["answer"],
                "tuned_passed": t["passed"]} for b, t in zip(base_general, tuned_general)]
    write_atomic(run.eval_dir / "rows.json", json.dumps(table, indent=1))
    write_atomic(run.eval_dir / "general.json", json.dumps(general, indent=1))
    write_json(run.eval_dir / "results.json", results)
    (run.eval_dir / "progress.json").unlink(missing_ok=True)
    return {**results, "table": table, "general_table": general}


def preview_method(config, prompts: int | None = None, stop: threading.Event | None = None) -> dict:
    """The method's preview (Method.preview) on a few training rows, with the model training would start from."""
    warm.ready()  # see engine/warm.py
    method = config.method_info
    if method.preview is None:
        raise ValueError(msg("This method has no preview."))
    loaded, train_rows, _, _ = data_mod.prepare(config.data)
    problem = methods.mismatch(method.name, loaded.kind)
    if problem:
        raise data_mod.DataError(problem)
    start = runs.start_adapter(config) if config.method.start_from else None
    kwargs = {"prompts": prompts} if prompts else {}
    return {**method.preview.run(config, train_rows, start, stop, **kwargs), "method": method.name}
