"""This machine's measured pace: how far the pre-flight's estimate of a step and of a validation was from the
timed steps of the last run with the same model, method, weights and precision (kept in STUDIO_HOME/pace.json).
The estimate is a formula over the matmul rate (engine/preflight.py); the pace corrects it for what a formula
cannot see (attention, the optimizer, Python), so the Settings page's plan matches what the run then does.
"""
from __future__ import annotations

from .paths import home, read_json, write_json

LIMITS = (0.1, 10.0)  # a factor outside these is a measurement gone wrong (a machine asleep), not a pace


def key(config, device_kind: str, precision: str) -> str:
    return "|".join((config.model.name, config.method.method, config.method.weights, device_kind, precision))


def factors(name: str) -> dict:
    """{"step": f, "eval": f} to multiply the estimates by (1 where nothing was measured yet)."""
    stored = read_json(home() / "pace.json", {}) or {}
    return {"step": 1.0, "eval": 1.0, **stored.get(name, {})}


def remember(estimated: dict, measured: dict) -> None:
    """Store the factors that would have made a plan's estimates (made with its "pace") equal what was measured."""
    applied, name = estimated["pace"], estimated["pace"]["key"]
    path = home() / "pace.json"
    stored = read_json(path, {}) or {}
    new = {}
    for part in ("step", "eval"):
        guess, seen = estimated.get(f"{part}_s"), measured.get(f"{part}_s")
        if guess and seen:
            new[part] = round(min(max(applied.get(part, 1.0) * seen / guess, LIMITS[0]), LIMITS[1]), 3)
    if new:
        stored[name] = {**stored.get(name, {}), **new}
        write_json(path, stored)
