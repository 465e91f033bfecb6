"""A run planned by time: the minutes a person gives become steps, from this machine's speed and the data's rows.

Arithmetic only (no model, no data, no other engine module): engine/preflight.py estimates what a step and a
validation cost and makes the plan shown before Start; the trainer's PlanCallback (engine/methods/planned.py)
corrects it once the first steps are timed, and again halfway. The rule for the number of passes was chosen on
bench/suite.py's tasks (docs/presets.md).
"""
from __future__ import annotations

import math

# Passes over the data: enough to show the model about this many examples, at least MIN and at most MAX passes.
# Few rows need many passes (36 rows: 18 passes), many rows a few; the cap also keeps a fast GPU from repeating a
# small file a hundred times within its minutes.
EXAMPLES_TARGET = 640
# The target holds whatever the budget: raising it in proportion to a longer one (thorough's 20 minutes: 7 passes over 300 rows at
# balanced's rate) spread the learning-rate schedule over more steps, the model overfitted while the rate was
# still high, and stopping early kept a step before the rate came down (bench/suite.py, formal_rewrite: token F1
# 0.66 against balanced's 0.72). A longer budget is for the files one budget cannot cover: many or long rows.
MIN_PASSES, MAX_PASSES = 3, 20
# Validation points after the untrained one; the best is kept. Whatever the budget: eight for thorough's 20 minutes
# stopped formal_rewrite at step 48 of 126 on one noisy validation (patience 2) and kept step 16 (token F1 0.53).
VALIDATIONS = 4
# A preset's rate is for a file of some hundreds of rows seen about once or twice; a small file is seen many times,
# where that rate learned its noise (bench/suite.py, 36 rows: 83% exact match at 1e-3, 50% at 2e-3, while the
# 300-row tickets went from 87% to 100%). Below this many rows the plan halves a preset's rate.
SMALL_FILE_ROWS = 100
WHOLE_PASS_LOSS = 0.15  # round down to whole passes when that drops at most this share of the steps
SAFETY = 0.95  # a correction plans for this share of the budget: later steps are often a little slower


def pass_cap(rows: int) -> int:
    return min(MAX_PASSES, max(MIN_PASSES, math.ceil(EXAMPLES_TARGET / max(rows, 1))))


def whole_passes(steps: int, per_pass: int) -> int:
    """Steps rounded down to whole passes over the data where that costs little."""
    if steps <= per_pass:
        return steps
    whole = steps // per_pass * per_pass
    return whole if whole >= (1 - WHOLE_PASS_LOSS) * steps else steps


def validations(steps: int, eval_every: int) -> int:
    """Validation passes of a run: the untrained model, every eval_every steps and the end."""
    return 1 + math.ceil(steps / max(eval_every, 1))


def make_plan(budget_s: float, rows: int, rows_per_step: int, step_s: float, eval_s: float) -> dict:
    """Steps that fit in budget_s seconds of training and validation, in whole passes where they fit.

    rows: training rows (the everyday mix included); rows_per_step: batch × accumulation × processes;
    step_s, eval_s: estimated seconds of one step and of one validation pass."""
    per_pass = max(1, math.ceil(rows / max(rows_per_step, 1)))
    cap = pass_cap(rows) * per_pass
    fit = max(1, math.floor((budget_s - (VALIDATIONS + 1) * eval_s) / max(step_s, 1e-6)))
    steps = whole_passes(min(fit, cap), per_pass)
    made = finish(budget_s, rows, per_pass, cap, steps, step_s, eval_s, covers_pass=fit >= per_pass)
    return {**made, "lr_factor": 0.5 if rows < SMALL_FILE_ROWS else 1.0}


def finish(budget_s, rows, per_pass, cap, steps, step_s, eval_s, covers_pass, corrected=False) -> dict:
    eval_every = max(1, math.ceil(steps / VALIDATIONS))
    return {"budget_s": round(budget_s, 1), "rows": rows, "per_pass": per_pass, "cap_steps": cap, "steps": steps,
            "passes": round(steps / per_pass, 2), "eval_every": eval_every, "step_s": round(step_s, 3),
            "eval_s": round(eval_s, 2), "covers_pass": covers_pass, "corrected": corrected,
            "seconds": round(steps * step_s + validations(steps, eval_every) * eval_s, 1)}


def correct(plan: dict, done: int, elapsed_s: float, step_s: float, eval_s: float) -> dict:
    """The plan again from what the first `done` steps measured (elapsed_s since training began, validations
    included): the steps that still fit in the budget, never fewer than one more."""
    left = plan["budget_s"] * SAFETY - elapsed_s
    evals_left = max(1, math.ceil((plan["steps"] - done) / plan["eval_every"]))  # as planned so far
    fit = done + max(1, math.floor((left - evals_left * eval_s) / max(step_s, 1e-6)))
    steps = max(done + 1, whole_passes(min(fit, plan["cap_steps"]), plan["per_pass"]))
    made = finish(plan["budget_s"], plan["rows"], plan["per_pass"], plan["cap_steps"], steps, step_s, eval_s,
                  covers_pass=fit >= plan["per_pass"], corrected=True)
    return {**plan, **made}  # what else the plan carries (the pace it was made with) stays


def minutes_for_pass(plan: dict) -> float:
    """The budget one whole pass would need at the plan's pace."""
    return (plan["per_pass"] * plan["step_s"] + (VALIDATIONS + 1) * plan["eval_s"]) / 60
