"""The machinery of settings: a field with its help text, bounds and choices, and the checks every value passes.

Setting dataclasses (engine/sections.py, and each method's own in engine/methods/<name>/settings.py) are made of
`setting(...)` fields; engine/settings.py gathers them into one RunConfig, from which the forms, YAML files and
CLI flags are generated. Labels and help texts are English msgids, translated where they are shown.
"""
from __future__ import annotations

import copy
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from .i18n import msg


def setting(default, help: str, *, min=None, max=None, choices=None, advanced=False, label=None, items=None):
    """A field of a settings dataclass. `choices` may be a list that is filled later (the methods' names).
    A list setting (type `list`) holds mappings as plain data; `items` (an Items) says which kinds it accepts."""
    meta = {"help": help, "min": min, "max": max, "choices": choices, "advanced": advanced, "label": label,
            "items": items}
    if isinstance(default, list):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


class SettingsError(ValueError):
    """A setting is missing, of the wrong type or out of its allowed range (its argument is a Message)."""


def field_type(klass, f) -> type:
    return typing.get_type_hints(klass)[f.name]


def coerce(name: str, klass, f, value):
    """Turn a value from YAML, a form or a CLI string into the field's type, or say why not."""
    kind = field_type(klass, f)
    if kind is list:
        return coerce_items(name, value, f.metadata.get("items"))
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


# ---------------------------------------------------------------- list settings: mappings given as plain data

@dataclass(frozen=True)
class Param:
    """One setting of an item in a list setting; type is str, int, float, bool or list (a list of texts)."""

    name: str
    type: type
    label: str  # msgid
    default: Any = None  # None with required=False: the item may leave it out
    required: bool = False
    choices: tuple = ()


@dataclass(frozen=True)
class ItemKind:
    name: str
    label: str  # msgid
    params: tuple[Param, ...] = ()
    check: Callable | None = None  # (item, where) -> None, raises SettingsError: the owner's own rules


@dataclass(frozen=True)
class Items:
    """What a list setting holds: mappings, each with a `kind` among `kinds`, that kind's parameters and the
    parameters every item has (`common`). Only data passes: text, numbers, true/false and lists of texts."""

    kinds: dict[str, ItemKind]
    common: tuple[Param, ...] = ()
    example: str = ""  # one item as YAML, quoted in messages
    text: Callable | None = None  # (items) -> str: the list in words, in the current language
    min_items: int = 0

    def params(self, kind: str) -> tuple[Param, ...]:
        return self.kinds[kind].params + self.common


def coerce_items(name: str, value, items: Items | None) -> list[dict]:
    """A list setting from YAML, a form or a CLI string (YAML or JSON text), checked item by item."""
    import yaml

    if isinstance(value, str):
        try:
            value = yaml.safe_load(value) if value.strip() else []
        except yaml.YAMLError as err:
            raise SettingsError(msg("{name}: this text is not a YAML or JSON list ({error}).", name=name,
                                    error=str(err).splitlines()[0])) from None
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)):
        raise SettingsError(msg("{name}: expected a list of mappings, one per item, such as {example}; got {kind}. "
                                "Only data is accepted, never code.", name=name, kind=type(value).__name__,
                                example=items.example if items else "[{kind: ...}]"))
    if items and len(value) < items.min_items:
        raise SettingsError(msg("{name}: needs at least {count} item(s), such as {example}.", name=name,
                                count=items.min_items, example=items.example))
    return [clean_item(name, number, item, items) for number, item in enumerate(value, start=1)]


def clean_item(name: str, number: int, item, items: Items | None) -> dict:
    where = msg("{name}, item {number}", name=name, number=number)
    if not isinstance(item, dict):
        raise SettingsError(msg("{where}: expected a mapping such as {example}, not {kind}. Only data is accepted, "
                                "never code.", where=where, kind=type(item).__name__,
                                example=items.example if items else "{kind: ...}"))
    if items is None:
        return {str(k): _plain(where, k, v) for k, v in item.items()}
    kind = item.get("kind")
    if kind not in items.kinds:
        raise SettingsError(msg("{where}: unknown kind {kind}. Known kinds: {known}.", where=where, kind=repr(kind),
                                known=", ".join(items.kinds)))
    params = {p.name: p for p in items.params(kind)}
    unknown = sorted(str(k) for k in item if k != "kind" and k not in params)
    if unknown:
        raise SettingsError(msg("{where}: a {kind} item has no setting {unknown}; it takes {known}.", where=where,
                                kind=kind, unknown=", ".join(unknown), known=", ".join(params) or "–"))
    cleaned = {"kind": kind}
    for p in params.values():
        value = item.get(p.name, p.default)
        blank = isinstance(value, str) and not value.strip() and (p.type is not str or p.required)
        if value is None or blank or (p.required and p.type is list and not _param_value(where, p, value)):
            if p.required:
                raise SettingsError(msg("{where}: a {kind} item needs {param} ({label}).", where=where, kind=kind,
                                        param=p.name, label=msg(p.label)))
            continue
        cleaned[p.name] = _param_value(where, p, value)
    if items.kinds[kind].check:
        items.kinds[kind].check(cleaned, where)
    return cleaned


def _param_value(where, p: Param, value):
    """One item parameter in its type; anything but text, numbers, true/false or a list of texts is refused."""
    try:
        if p.type is list:
            if isinstance(value, str):
                value = [w.strip() for w in value.split(",")]
            if not isinstance(value, (list, tuple)) or not all(isinstance(w, (str, int, float)) and
                                                               not isinstance(w, bool) for w in value):
                raise ValueError
            value = [str(w) for w in value if str(w).strip()]
        elif p.type is bool:
            if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on", "false", "no", "0",
                                                                     "off"):
                value = value.strip().lower() in ("true", "yes", "1", "on")
            elif not isinstance(value, bool):
                raise ValueError
        elif p.type in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError
            number = float(value)
            if not math.isfinite(number) or (p.type is int and not number.is_integer()):
                raise ValueError
            value = int(number) if p.type is int else number
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise SettingsError(msg("{where}: {param} = {value} is not a valid {kind}.", where=where, param=p.name,
                                value=repr(value)[:80], kind=p.type.__name__)) from None
    if p.choices and value not in p.choices:
        raise SettingsError(msg("{where}: {param} = {value} is not allowed. Allowed: {choices}.", where=where,
                                param=p.name, value=repr(value), choices=", ".join(map(str, p.choices))))
    return value


def _plain(where, key, value):
    """Values of a list setting without a schema: plain data only (text, numbers, true/false, lists, mappings)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(where, key, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(where, k, v) for k, v in value.items()}
    raise SettingsError(msg("{where}: {param} is a {kind}; only data is accepted, never code.", where=where,
                            param=str(key), kind=type(value).__name__))
