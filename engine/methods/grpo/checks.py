"""The checks a reward is built from: each looks at one answer (and at the expected answer, for those that compare
with it) and passes or fails. Plain Python on the text; no check runs code from a config.

A check is a mapping of data (`{kind: json_field, field: city, weight: 2}`): its kind, that kind's settings and a
weight. The reward of an answer is the sum of the weights of the checks it passes (a negative weight is a penalty).
Patterns run in the `regex` package with a time limit, so a pattern that backtracks without end (`(a|aa)+$`)
stops and counts as failed instead of hanging training.
"""
from __future__ import annotations

import json
import math
import re

import regex

from ...fields import Items, ItemKind, Param, SettingsError
from ...i18n import N_, msg, number, t

PATTERN_SECONDS = 0.1  # time limit of one pattern on one answer
NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")  # linear: no nested repetition
UNITS = {"words": N_("words"), "characters": N_("characters"), "tokens": N_("tokens")}


# ---------------------------------------------------------------- reading answers

def parse_json(text: str):
    """(True, value) when the whole answer is JSON, else (False, None); deep or huge input fails, never raises."""
    try:
        return True, json.loads(text.strip())
    except (ValueError, RecursionError):
        return False, None


def fold(text: str) -> str:
    """Text compared as people read it: case and runs of white space do not matter."""
    return " ".join(text.casefold().split())


def canonical(value):
    """A JSON value compared as people read it: strings folded, 2 equal to 2.0, key order ignored (dicts)."""
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {fold(str(k)): canonical(v) for k, v in value.items()}
    return value


def same(a, b) -> bool:
    try:
        return canonical(a) == canonical(b)
    except RecursionError:
        return False


def field_value(value, path: str):
    """The value at a dotted path ('customer.city') of a JSON object, or a marker when there is none."""
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


_MISSING = object()


def numbers(text: str) -> list[float]:
    found = []
    for match in NUMBER.finditer(text):
        try:
            found.append(float(match.group().replace(",", "")))
        except (ValueError, OverflowError):
            continue
    return [n for n in found if math.isfinite(n)]


def length(answer: str, unit: str, tokens: int | None) -> int:
    if unit == "characters":
        return len(answer.strip())
    if unit == "tokens" and tokens is not None:
        return tokens
    return len(answer.split())


# ---------------------------------------------------------------- the checks: (item, answer, reference, tokens)

def valid_json(item, answer, reference, tokens):
    return parse_json(answer)[0]


def json_keys(item, answer, reference, tokens):
    ok, value = parse_json(answer)
    return ok and isinstance(value, dict) and all(field_value(value, k) is not _MISSING for k in item["keys"])


def json_field(item, answer, reference, tokens):
    ok, value = parse_json(answer)
    ref_ok, expected = parse_json(reference)
    if not (ok and ref_ok):
        return False
    got, want = field_value(value, item["field"]), field_value(expected, item["field"])
    return got is not _MISSING and want is not _MISSING and same(got, want)


def equals(item, answer, reference, tokens):
    ok, value = parse_json(answer)
    ref_ok, expected = parse_json(reference)
    if ok and ref_ok and isinstance(expected, (dict, list)):
        return same(value, expected)
    return fold(answer) == fold(reference)


def number_equals(item, answer, reference, tokens):
    got, want = numbers(answer), numbers(reference)
    if not got or not want:
        return False
    pick = 0 if item.get("which") == "first" else -1
    return math.isclose(got[pick], want[pick], rel_tol=1e-9, abs_tol=1e-9)


def contains(item, answer, reference, tokens):
    text = answer.casefold()
    found = [w.casefold() in text for w in item["words"]]
    return all(found) if item.get("all") else any(found)


def not_contains(item, answer, reference, tokens):
    text = answer.casefold()
    return not any(w.casefold() in text for w in item["words"])


def pattern(item, answer, reference, tokens):
    """None when the pattern ran out of time on this answer (it counts as failed)."""
    try:
        return regex.search(item["pattern"], answer, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        return None


def length_between(item, answer, reference, tokens):
    n = length(answer, item.get("unit", "words"), tokens)
    return item.get("min", 0) <= n <= item.get("max", math.inf)


def starts_with(item, answer, reference, tokens):
    return answer.strip().casefold().startswith(item["text"].strip().casefold())


def ends_with(item, answer, reference, tokens):
    return answer.strip().casefold().endswith(item["text"].strip().casefold())


RUN = {"valid_json": valid_json, "json_keys": json_keys, "json_field": json_field, "equals": equals,
       "number": number_equals, "contains": contains, "not_contains": not_contains, "pattern": pattern,
       "length": length_between, "starts_with": starts_with, "ends_with": ends_with}
NEEDS_REFERENCE = {"json_field", "equals", "number"}


def passes(item: dict, answer: str, reference: str = "", tokens: int | None = None) -> bool | None:
    """Whether an answer passes one check; None when a pattern ran out of time (counted as failed)."""
    return RUN[item["kind"]](item, answer or "", reference or "", tokens)


def reward(items: list[dict], answer: str, reference: str = "", tokens: int | None = None) -> tuple[float, list]:
    """(the weighted sum, each check's result) for one answer."""
    results = [passes(item, answer, reference, tokens) for item in items]
    return sum(item.get("weight", 1.0) for item, ok in zip(items, results) if ok), results


# ---------------------------------------------------------------- the checks' settings, as data

def _pattern_compiles(item, where):
    try:
        regex.compile(item["pattern"])
    except (regex.error, ValueError, TypeError) as err:
        raise SettingsError(msg("{where}: the pattern {pattern} is not a valid regular expression ({error}).",
                                where=where, pattern=repr(item["pattern"]), error=str(err))) from None


def _bounds(item, where):
    low, high = item.get("min"), item.get("max")
    if low is None and high is None:
        raise SettingsError(msg("{where}: a length check needs a min, a max or both.", where=where))
    if (low is not None and low < 0) or (high is not None and high < 0) or \
            (low is not None and high is not None and low > high):
        raise SettingsError(msg("{where}: the length bounds {low} to {high} are not a range (0 or more, min not "
                                "above max).", where=where, low=str(low), high=str(high)))


WEIGHT = Param("weight", float, N_("weight"), default=1.0)
KINDS = {
    "valid_json": ItemKind("valid_json", N_("the answer is valid JSON")),
    "json_keys": ItemKind("json_keys", N_("the JSON has these keys"),
                          (Param("keys", list, N_("keys (comma-separated)"), required=True),)),
    "json_field": ItemKind("json_field", N_("a JSON field equals the expected answer's"),
                           (Param("field", str, N_("field"), required=True),)),
    "equals": ItemKind("equals", N_("the answer equals the expected answer")),
    "number": ItemKind("number", N_("a number equals the expected answer's"),
                       (Param("which", str, N_("which number"), default="last", choices=("last", "first")),)),
    "contains": ItemKind("contains", N_("the answer contains words"),
                         (Param("words", list, N_("words (comma-separated)"), required=True),
                          Param("all", bool, N_("all of them"), default=False))),
    "not_contains": ItemKind("not_contains", N_("the answer avoids words"),
                             (Param("words", list, N_("words (comma-separated)"), required=True),)),
    "pattern": ItemKind("pattern", N_("the answer matches a pattern"),
                        (Param("pattern", str, N_("regular expression"), required=True),), check=_pattern_compiles),
    "length": ItemKind("length", N_("the length is between two bounds"),
                       (Param("min", int, N_("at least")), Param("max", int, N_("at most")),
                        Param("unit", str, N_("unit"), default="words", choices=tuple(UNITS))), check=_bounds),
    "starts_with": ItemKind("starts_with", N_("the answer starts with a text"),
                            (Param("text", str, N_("text"), required=True),)),
    "ends_with": ItemKind("ends_with", N_("the answer ends with a text"),
                          (Param("text", str, N_("text"), required=True),)),
}


# ---------------------------------------------------------------- the checks in words

def _quoted(words) -> str:
    return ", ".join(f"'{w}'" for w in words)


def condition(item: dict) -> str:
    """What a check asks, in the current language ('it is valid JSON')."""
    kind = item["kind"]
    if kind == "valid_json":
        return t("valid JSON")
    if kind == "json_keys":
        return t("the JSON has the keys {keys}", keys=_quoted(item["keys"]))
    if kind == "json_field":
        return t("'{field}' matches the expected one", field=item["field"])
    if kind == "equals":
        return t("the answer equals the expected one")
    if kind == "number":
        return t("the first number equals the expected one") if item.get("which") == "first" else \
            t("the last number equals the expected one")
    if kind == "contains":
        words = _quoted(item["words"])
        return t("it contains all of {words}", words=words) if item.get("all") else \
            t("it contains {words}", words=words) if len(item["words"]) == 1 else \
            t("it contains one of {words}", words=words)
    if kind == "not_contains":
        return t("it avoids {words}", words=_quoted(item["words"]))
    if kind == "pattern":
        return t("it matches the pattern {pattern}", pattern=item["pattern"])
    if kind == "length":
        unit, low, high = t(UNITS[item.get("unit", "words")]), item.get("min"), item.get("max")
        if low is not None and high is not None:
            return t("it is {low} to {high} {unit} long", low=low, high=high, unit=unit)
        if high is not None:
            return t("it is at most {high} {unit} long", high=high, unit=unit)
        return t("it is longer than {n} {unit}", n=low - 1, unit=unit) if low else \
            t("it is at least {low} {unit} long", low=low, unit=unit)
    if kind == "starts_with":
        return t("it starts with '{text}'", text=item["text"])
    return t("it ends with '{text}'", text=item["text"])


def signed(weight: float) -> str:
    """+1, +2, −0.5: a weight as a reward sentence writes it (the language's decimal mark)."""
    return ("−" if weight < 0 else "+") + number(abs(weight))


def sentence(items: list[dict]) -> str:
    """The reward in words: '+1 if valid JSON, +2 if 'category' matches the expected one, −0.5 if ...'."""
    if not items:
        return t("no check yet: add at least one")
    return ", ".join(t("{weight} if {condition}", weight=signed(i.get("weight", 1.0)), condition=condition(i))
                     for i in items)


ITEMS = Items(kinds=KINDS, common=(WEIGHT,), example="[{kind: valid_json, weight: 1}, {kind: json_field, field: city, "
                                                     "weight: 2}]", text=sentence, min_items=1)
