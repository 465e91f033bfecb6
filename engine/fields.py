"""The machinery of settings: a field with its help text, bounds and choices, and the checks every value passes.

Setting dataclasses (engine/sections.py, and each method's own in engine/methods/<name>/settings.py) are made of
`setting(...)` fields; engine/settings.py gathers them into one RunConfig, from which the forms, YAML files and
CLI flags are generated. Labels and help texts are English msgids, translated where they are shown.
"""
from __future__ import annotations

import math
import typing
from dataclasses import field

from .i18n import msg


def setting(default, help: str, *, min=None, max=None, choices=None, advanced=False, label=None):
    """A field of a settings dataclass. `choices` may be a list that is filled later (the methods' names)."""
    meta = {"help": help, "min": min, "max": max, "choices": choices, "advanced": advanced, "label": label}
    return field(default=default, metadata=meta)


class SettingsError(ValueError):
    """A setting is missing, of the wrong type or out of its allowed range (its argument is a Message)."""


def field_type(klass, f) -> type:
    return typing.get_type_hints(klass)[f.name]


def coerce(name: str, klass, f, value):
    """Turn a value from YAML, a form or a CLI string into the field's type, or say why not."""
    kind = field_type(klass, f)
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "yes", "1", "on"):
                    return True
                if low in ("false", "no", "0", "off"):
                    return False
                raise ValueError
            if isinstance(value, (bool, int)) and value in (0, 1):
                return bool(value)
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if isinstance(value, (str, float)) else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError  # 2.5 steps is a mistake, not 2
            return int(number)
        if kind is float:
            if isinstance(value, bool) or not math.isfinite(float(value)):
                raise ValueError
            return float(value)
        if value is None:
            return ""
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(msg("{name}: {value} is not a valid {kind}. {allowed}", name=name, value=repr(value),
                                kind=kind.__name__, allowed=allowed(klass, f))) from None


def check_value(name: str, klass, f, value) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(msg("{name}: {value} is not allowed. {allowed}", name=name, value=repr(value),
                                allowed=allowed(klass, f)))
    if meta.get("min") is not None and value < meta["min"]:
        raise SettingsError(msg("{name}: {value} is below the minimum. {allowed}", name=name, value=str(value),
                                allowed=allowed(klass, f)))
    if meta.get("max") is not None and value > meta["max"]:
        raise SettingsError(msg("{name}: {value} is above the maximum. {allowed}", name=name, value=str(value),
                                allowed=allowed(klass, f)))


def allowed(klass, f):
    meta = f.metadata
    if meta.get("choices"):
        return msg("Allowed: {choices}.", choices=", ".join(map(str, meta["choices"])))
    if meta.get("min") is not None or meta.get("max") is not None:
        return msg("Allowed range: {min} to {max}.", min=str(meta.get("min")), max=str(meta.get("max")))
    return msg("Expected a {kind}.", kind=field_type(klass, f).__name__)
