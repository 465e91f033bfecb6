"""Every word a person reads, in their language: a gettext catalogue with the English text as the key.

- `t("Start training")` translates now, in the current language; `t("{n} rows", n=300)` fills placeholders
  (str.format names) with numbers written the language's way (1 234,5 and 12 % in French).
- `N_("...")` only marks a string defined at import time (a table of descriptions); translate it with `t()`
  where it is shown.
- `msg("...", **params)` is a message for later: the engine raises, stores and returns these (keys plus
  values), and the page, the report or the CLI turns them into text with `render()`. `str()` of one is
  English, for logs; `to_dict()` / `from_dict()` keep one in a JSON file (a run's status).

The current language lives in a ContextVar: Streamlit runs each browser session's script in its own thread,
so one tab in French and one in English never see each other's choice; threads started by the engine
(training, evaluation) start from English. English is complete by construction (the keys); another language
is one file, assets/locales/<lang>/LC_MESSAGES/studio.po, and falls back to English key by key.
`python -m engine.i18n check` lists what is missing, unused or has the wrong placeholders.
"""
from __future__ import annotations

import contextlib
import functools
import locale as _locale
import os
import re
import string
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "assets" / "locales"
DOMAIN = "studio"
LANGUAGES = {"en": "English", "fr": "Français"}  # a new language: add it here and its .po file
DEFAULT = "en"

_current: ContextVar[str | None] = ContextVar("studio_language", default=None)
_source = None  # where a thread that was given no language looks (the studio: the browser session's choice)


# ---------------------------------------------------------------- the current language

def pick(wanted: str | None) -> str:
    """A supported language code from 'fr', 'fr-FR', 'fr_CA.UTF-8', or the default."""
    code = (wanted or "").replace("_", "-").split(".")[0].split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT


def set_language(lang: str | None) -> str:
    lang = pick(lang)
    _current.set(lang)
    return lang


def language() -> str:
    lang = _current.get()
    if lang is None and _source is not None:
        lang = pick(_source())
    return lang or DEFAULT


def follow(source) -> None:
    """Read the language from source() where none was set in this thread; the studio passes the session's choice
    (Streamlit runs each script run and each fragment rerun in a fresh thread)."""
    global _source
    _source = source


@contextlib.contextmanager
def using(lang: str):
    token = _current.set(pick(lang))
    try:
        yield
    finally:
        _current.reset(token)


def from_environment() -> str:
    """The CLI's language: STUDIO_LANG, else the system locale (LC_ALL, LC_MESSAGES, LANG)."""
    wanted = os.environ.get("STUDIO_LANG")
    if not wanted:
        for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            if os.environ.get(name):
                wanted = os.environ[name]
                break
        else:
            wanted = (_locale.getlocale()[0] or "") if hasattr(_locale, "getlocale") else ""
    return pick(wanted)


# ---------------------------------------------------------------- the catalogue

def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation for one language; fuzzy and empty entries count as missing (English shows)."""
    if lang == DEFAULT or not po_path(lang).exists():
        return {}
    from babel.messages.pofile import read_po

    with open(po_path(lang), "rb") as fh:
        read = read_po(fh, locale=lang)
    return {m.id: m.string for m in read if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def N_(msgid: str) -> str:
    """Mark a string for the catalogue without translating it yet (gettext_noop)."""
    return msgid


def t(msgid: str, **params) -> str:
    """The text in the current language, placeholders filled with values written the language's way."""
    lang = language()
    text = catalogue(lang).get(msgid, msgid)
    return _fill(text, msgid, params, lang) if params else text


def _fill(text: str, msgid: str, params: dict, lang: str) -> str:
    values = {k: _localised(v, lang) for k, v in params.items()}
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation must not hide the message
        return msgid.format(**values)


class Message(str):
    """A message for later: its English key and its values, turned into text where it is shown.

    It is also the English text itself (a str), so logs, the CLI's fallbacks and plain comparisons keep working;
    `.text()` or `render()` give it in the current language."""

    def __new__(cls, msgid: str, params: dict | None = None):
        params = dict(params or {})
        with using(DEFAULT):
            english = _fill(msgid, msgid, params, DEFAULT)
        obj = super().__new__(cls, english)
        obj.msgid, obj.params = msgid, params
        return obj

    def __reduce__(self):  # pickled by st.cache_data: keep the key and values, not only the English
        return (Message, (self.msgid, self.params))

    def text(self) -> str:
        return t(self.msgid, **self.params)

    def to_dict(self) -> dict:
        return {"msgid": self.msgid, "params": {k: v.to_dict() if isinstance(v, Message) else v
                                                 for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "Message":
        params = {k: cls.from_dict(v) if isinstance(v, dict) and "msgid" in v else v
                  for k, v in (data.get("params") or {}).items()}
        return cls(data["msgid"], params)


def msg(msgid: str, **params) -> Message:
    return Message(msgid, params)


def render(value) -> str:
    """Any message as text now: a Message, its dict form (status.json), an exception carrying one, or a
    plain string (old runs stored English sentences: translated when the catalogue knows them)."""
    if isinstance(value, BaseException):
        value = value.args[0] if len(value.args) == 1 else str(value)
    if isinstance(value, Message):
        return value.text()
    if isinstance(value, dict) and "msgid" in value:
        return Message.from_dict(value).text()
    if value is None:
        return ""
    return t(value) if isinstance(value, str) else str(value)


# ---------------------------------------------------------------- numbers, percentages and dates

def _babel_locale(lang: str) -> str:
    return "en_US" if lang == "en" else lang


def number(value, digits: int | None = None) -> str:
    """1,234.5 in English, 1 234,5 in French; digits fixes the decimals (None: up to 3, as needed)."""
    from babel.numbers import format_decimal

    if value is None:
        return "–"
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_babel_locale(language()))


def percent(value, digits: int = 0) -> str:
    """12% in English, 12 % in French, from a share (0.12)."""
    from babel import Locale
    from babel.numbers import format_percent

    if value is None:
        return "–"
    loc = _babel_locale(language())
    pattern = Locale.parse(loc).percent_formats[None].pattern.split(";")[0]  # '#,##0%' or '#,##0\xa0%'
    if digits:
        pattern = pattern.replace("0", "0." + "0" * digits, 1)
    return format_percent(value, format=pattern, locale=loc)


def date(when: float | datetime | None = None) -> str:
    """A date and time as the language writes it (21 Nov 2026, 17:07 / 21 nov. 2026, 17:07)."""
    from babel.dates import format_datetime

    when = datetime.fromtimestamp(when) if isinstance(when, (int, float)) else (when or datetime.now())
    return format_datetime(when, "medium", locale=_babel_locale(language()))


def separators() -> str:
    """Plotly's `separators` for the language: decimal mark then thousands mark ('.,' or ', ')."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    loc = _babel_locale(language())
    return get_decimal_symbol(loc) + get_group_symbol(loc)


class _Number:
    """A number inside a message: format specs such as {x:.1f} or {x:.0%} work and follow the language."""

    def __init__(self, value, lang: str):
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        from babel.numbers import get_decimal_symbol, get_group_symbol

        if not spec and not isinstance(self.value, float):
            return number(self.value, 0)
        if re.fullmatch(r"\.\d+[f%]", spec):
            spec = "," + spec  # group thousands: 1,234.5 / 1 234,5
        english = format(self.value, spec)
        if self.lang == DEFAULT:
            return english
        loc = _babel_locale(self.lang)
        text = english.translate({ord(","): "\0", ord("."): get_decimal_symbol(loc)}).replace(
            "\0", get_group_symbol(loc))
        if text.endswith("%"):
            text = percent(0, 0).replace("0", text[:-1], 1)  # the language's way of writing the % sign
        return text


def _localised(value, lang: str):
    if isinstance(value, Message):
        return value.text()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return _Number(value, lang)


# ---------------------------------------------------------------- the check (tests and translators)

# Babel's extractor: the first argument is the msgid; a setting's second argument is its help text (its label
# is marked with N_).
KEYWORDS = {"t": None, "N_": None, "msg": None, "setting": (2,)}
SOURCES = ("studio.py", "pages", "engine")


def placeholders(text: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def used_msgids() -> dict[str, list[str]]:
    """Every msgid the code uses -> where ('pages/train.py:12'): the marked strings found by Babel's extractor,
    the settings' help texts and labels included (tests/test_i18n.py checks that none is missed)."""
    from babel.messages.extract import extract_from_file

    found: dict[str, list[str]] = {}
    files = [ROOT / "studio.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "engine").rglob("*.py"))]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        for lineno, message, _comments, _context in extract_from_file("python", path, keywords=KEYWORDS):
            if isinstance(message, str):
                found.setdefault(message, []).append(f"{rel}:{lineno}")
    return found


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def problems(lang: str) -> list[str]:
    """What a language's file lacks or gets wrong, one plain line each (empty: complete)."""
    used = used_msgids()
    if not po_path(lang).exists():
        return [f"{_shown(po_path(lang))} does not exist"]
    from babel.messages.pofile import read_po

    with open(po_path(lang), "rb") as fh:
        entries = {m.id: m for m in read_po(fh, locale=lang) if m.id}
    out = []
    for msgid, where in sorted(used.items()):
        entry = entries.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            out.append(f"msgid {msgid!r} used in {where[0]} has no {LANGUAGES.get(lang, lang)} translation")
        elif placeholders(entry.string) != placeholders(msgid):
            out.append(f"msgid {msgid!r} ({where[0]}): the translation has placeholders "
                       f"{sorted(placeholders(entry.string))}, the English {sorted(placeholders(msgid))}")
    for msgid in sorted(set(entries) - set(used)):
        out.append(f"msgid {msgid!r} in {_shown(po_path(lang))} is not used by the code any more")
    return out


def update_po(lang: str) -> int:
    """Add the code's new msgids to a language's file (empty, for the translator) and mark unused ones
    obsolete; returns how many were added. Existing translations are kept."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    path = po_path(lang)
    if path.exists():
        with open(path, "rb") as fh:
            old = read_po(fh, locale=lang)
    else:
        old = Catalog(locale=lang, domain=DOMAIN)
    new = Catalog(locale=lang, domain=DOMAIN, project="Fine-tuning studio", header_comment=old.header_comment)
    added = 0
    for msgid, where in sorted(used_msgids().items(), key=lambda kv: kv[1][0]):
        previous = old.get(msgid)
        added += previous is None
        locations = [(w.split(":")[0], int(w.split(":")[1])) if ":" in w else (w, 0) for w in where]
        new.add(msgid, previous.string if previous else "", locations=locations,
                flags=("python-brace-format",) if placeholders(msgid) else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        write_po(fh, new, width=110, sort_output=False)
    catalogue.cache_clear()
    return added


def main(argv: list[str] | None = None) -> int:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "check"
    langs = [lang for lang in LANGUAGES if lang != DEFAULT]
    if command == "update":
        for lang in langs:
            print(f"{lang}: {update_po(lang)} new msgids added to {_shown(po_path(lang))}")
        return 0
    failed = False
    for lang in langs:
        found = problems(lang)
        failed |= bool(found)
        print(f"{lang}: {'complete' if not found else f'{len(found)} problem(s)'}")
        for line in found:
            print("  " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
