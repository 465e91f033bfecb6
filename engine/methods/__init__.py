"""The ways of training, one folder each, registered below on one line each.

A method's folder holds its settings and presets, its trainer builder, its evaluation and its views, and builds
one `Method` (base.py) named METHOD in its __init__.py. Everything outside the folders reads the methods from
METHODS; adding a method is a folder and a line in NAMES. Shared trainer parts are in trainer.py.
"""
from __future__ import annotations

import importlib

from ..sections import METHOD_NAMES
from .base import Method

NAMES = [
    "sft",
    "dpo",
    "kto",
    "grpo",
]
METHODS: dict[str, Method] = {name: importlib.import_module(f".{name}", __name__).METHOD for name in NAMES}
METHOD_NAMES[:] = list(METHODS)  # the choices of method.method


def get(name: str) -> Method:
    """The registered method of that name (a config's method.method is checked against METHODS first)."""
    return METHODS[name]


def for_data(kind: str) -> list[Method]:
    """The methods that read data of this kind (engine.data.ANSWERS, PAIRS, LABELLED or PROMPTS)."""
    return [m for m in METHODS.values() if kind in m.kinds]


def mismatch(name: str, kind: str):
    """A message when the method and the data do not go together, else None."""
    from ..i18n import msg

    method = METHODS[name]
    return None if kind in method.kinds else msg(method.needs)
