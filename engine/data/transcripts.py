"""Whole conversations written as one text with speaker markers, as in Anthropic's HH-RLHF preference file:

    "\\n\\nHuman: Where is my parcel?\\n\\nAssistant: It left yesterday.\\n\\nHuman: When will it arrive?\\n\\nAssistant: ..."

and the common variants `User:` / `Assistant:` and `### Human:` / `### Assistant:` (a `System:` turn too).

A marker starts a turn only at the start of the text or of a line after a blank line (HH's own form), or, for the
`### ` markers, at the start of any line: so "Human:" inside an answer's text is part of that answer, not a turn.
Text before the first marker (other than blank lines) is not a turn either: such a text is reported, not guessed.
"""
from __future__ import annotations

import re

ROLES = {"human": "user", "user": "user", "assistant": "assistant", "system": "system"}
_NAMES = "Human|User|Assistant|System"
# A marker at the very start, after a blank line, or ("### " markers) after any line break.
MARKER = re.compile(rf"(?:\A\s*|\n\s*\n[ \t]*)(?:### ?)?({_NAMES}):[ \t]?|\n[ \t]*### ?({_NAMES}):[ \t]?")
# Anything that looks like a transcript: a marker at the start (after blank lines).
START = re.compile(rf"\A\s*(?:### ?)?(?:{_NAMES}):")


def looks_like(value) -> bool:
    """A text that starts with a speaker marker (after blank lines)."""
    return isinstance(value, str) and bool(START.match(value))


def parse(text: str) -> list[dict] | None:
    """The turns of a transcript as [{"role", "content"}] (contents stripped; a last turn may be empty), or None
    when the text does not start with a speaker marker."""
    matches = list(MARKER.finditer(text))
    if not matches or matches[0].start() != 0:
        return None
    turns = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        name = (m.group(1) or m.group(2)).lower()
        turns.append({"role": ROLES[name], "content": text[m.end():end].strip()})
    return turns
