"""What every data shape shares: the problems found in rows, the loaded file, and reading one cell as text.

Rows are numbered from 1 as a spreadsheet shows data rows (the header is not counted).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..i18n import N_, Message, msg

UNREADABLE = "_unreadable"  # marks a row that could not be read; it counts as a row set aside
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "model": "assistant", "bot": "assistant", "system": "system"}
# The kinds of data: one answer per row, a better and a worse answer, answers marked good or bad, or prompts alone
# (no answer: for methods that write and score their own answers).
ANSWERS, PAIRS, LABELLED, PROMPTS = "answers", "pairs", "labelled", "prompts"


class DataError(ValueError):
    """The file as a whole cannot be used; its one argument, a Message, says why and what to do."""


@dataclass
class Problem:
    row: int | None
    column: str | None
    kind: str  # a msgid ("empty answer"), shown translated
    message: Message

    def text(self) -> Message:
        if self.row and self.column:
            return msg("row {row}, column '{column}': {message}", row=self.row, column=self.column,
                       message=self.message)
        if self.row:
            return msg("row {row}: {message}", row=self.row, message=self.message)
        return self.message

    def __str__(self) -> str:
        return str(self.text())


# What was empty, as the reader's language names it (the {what} of a problem).
EMPTY = {"instruction": N_("empty instruction"), "input": N_("empty input"), "answer": N_("empty answer"),
         "prompt": N_("empty prompt"), "text": N_("empty text"),
         "chosen answer": N_("empty chosen answer"), "rejected answer": N_("empty rejected answer"),  # pairs
         "label": N_("empty label")}  # labelled answers
WHAT = [N_("instruction"), N_("input"), N_("answer"), N_("prompt"), N_("text"), N_("chosen answer"),
        N_("rejected answer")]


@dataclass
class LoadedData:
    file_name: str
    columns: list[str]
    rows: list[dict]
    shape: str
    examples: list[dict]
    problems: list[Problem] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)
    kind: str = ANSWERS  # PAIRS: pairs (prompt, chosen, rejected), see pairs.py; LABELLED: labelled.py; PROMPTS: prompts.py

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def summary(self) -> Message:
        bad = len({p.row for p in self.problems if p.row})
        if not bad:
            return msg("{file}: {usable} usable examples out of {rows} rows.", file=self.file_name,
                       usable=len(self.examples), rows=len(self.rows))
        return msg("{file}: {usable} usable examples out of {rows} rows; {bad} rows set aside ({kinds}).",
                   file=self.file_name, usable=len(self.examples), rows=len(self.rows), bad=bad,
                   kinds=self.kinds())

    def kinds(self) -> Message:
        """'2 × empty answer, 1 × wrong type', each kind in the reader's language (a pattern, not a msgid)."""
        counts = list(self.counts().items())
        text = ", ".join(f"{{n{i}}} × {{kind{i}}}" for i in range(len(counts)))
        return Message(text, {**{f"n{i}": n for i, (_, n) in enumerate(counts)},
                              **{f"kind{i}": msg(kind) for i, (kind, _) in enumerate(counts)}})


def col(columns: list[str], *names: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def text(row: dict, column: str | None, problems: list, what: str, required=True) -> str | None:
    value = row.get(column) if column else None
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(row["_row"], column, EMPTY[what],
                                    msg("the {what} is empty. Fill it in or delete the row; the other rows can "
                                        "still be used.", what=msg(what))))
            return None
        return ""
    if isinstance(value, (int, float, bool)):
        return str(value)
    if not isinstance(value, str):
        problems.append(Problem(row["_row"], column, N_("wrong type"), msg("the {what} is a {kind}, expected text.",
                                                                           what=msg(what),
                                                                           kind=type(value).__name__)))
        return None
    if "\ufffd" in value:
        problems.append(Problem(row["_row"], column, N_("undecodable text"),
                                msg("the {what} has characters that could not be read. Save the file as UTF-8.",
                                    what=msg(what))))
        return None
    return value


def first_problems(problems: list[Problem], count: int = 3) -> Message:
    """The first few problems as one message ("a; b; c"), each still translatable on its own."""
    first = problems[:count]
    return Message("; ".join(f"{{p{i}}}" for i in range(len(first))), {f"p{i}": p.text() for i, p in enumerate(first)})


def is_empty(row: dict) -> bool:
    if row.get(UNREADABLE):
        return False
    return all(v is None or (isinstance(v, str) and not v.strip()) or v == [] for k, v in row.items() if k != "_row")
