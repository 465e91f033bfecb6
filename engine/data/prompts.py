"""Data with prompts alone: a `prompt` (or `question`, or `instruction` with an optional `input`) column and no
answer column, for methods that write their own answers and score them. Methods that learn given answers refuse
it (its kind is PROMPTS, not ANSWERS).

Each row becomes a one-answer example whose answer is empty, so the tokens, the preview and the statistics of
answers.py apply unchanged.
"""
from __future__ import annotations

from ..i18n import N_, msg
from . import answers
from .rows import PROMPTS, UNREADABLE, DataError, LoadedData, col, first_problems, text

SHAPES = ["prompt_only"]
SHAPE_NAMES = {"prompt_only": N_("prompts alone (no answers)")}
PROMPT_COLUMNS = ("prompt", "question", "instruction")


# Columns a prompt-only file may have besides its prompt. Any other column may be an answer under a name the
# one-answer shapes do not know (question/reply): such a file goes to answers.py, which asks for the two columns.
SIDE_COLUMNS = ("input", "system", "id")


def detect_shape(columns: list[str]) -> str | None:
    """A prompt column, nothing a one-answer or pair shape would read, and no other column that could hold an
    answer (shape 'prompt_only' chosen by hand reads any such file)."""
    prompt = col(columns, *PROMPT_COLUMNS)
    if answers.detect_shape(columns) is not None or prompt is None:
        return None
    others = [c for c in columns if c != prompt and c.lower() not in SIDE_COLUMNS]
    return None if others else "prompt_only"


def load(name: str, columns: list[str], rows: list[dict], problems: list, notes: list,
         system_prompt: str = "") -> LoadedData:
    prompt_col = col(columns, *PROMPT_COLUMNS)
    if prompt_col is None:
        raise DataError(msg("{file}: no prompt column (shape 'prompt_only' reads a column named prompt, question or "
                            "instruction; the file has {columns}).", file=name, columns=", ".join(columns)))
    extra_col = col(columns, "input") if prompt_col.lower() == "instruction" else None
    examples = []
    for row in rows:
        if row.get(UNREADABLE):
            continue
        prompt = text(row, prompt_col, problems, "prompt")
        extra = text(row, extra_col, problems, "input", required=False) if extra_col else ""
        if prompt is None or extra is None:
            continue
        messages = [{"role": "user", "content": f"{prompt}\n\n{extra}" if extra else prompt},
                    {"role": "assistant", "content": ""}]
        examples.append(answers.to_example(messages, system_prompt, row["_row"]))
    problems.sort(key=lambda p: (p.row or 0))
    if not examples:
        raise DataError(msg("{file}: none of its {rows} rows can be used ({first}). Fix the rows listed and "
                            "upload the file again.", file=name, rows=len(rows), first=first_problems(problems)))
    return LoadedData(name, columns, rows, "prompt_only", examples, problems, notes, kind=PROMPTS)


def preview_rows(examples: list[dict]) -> list[dict]:
    return answers.preview_rows(examples)


def to_hf(examples: list[dict]):
    return answers.to_hf(examples)


def compute_stats(data: LoadedData, tokenizer, max_length: int, train=None, val=None) -> dict:
    return {**answers.compute_stats(data, tokenizer, max_length, train, val), "kind": PROMPTS}


def plain_findings(stats: dict) -> list:
    return answers.plain_findings(stats)
