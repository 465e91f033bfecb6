"""Answers marked good or bad, one per row and not in pairs: the thumbs up/down of a feedback button.

Internal form of one example: {"prompt": [messages...], "completion": [assistant message], "label": True (good)
or False (bad), "row": n}, which TRL reads as an unpaired preference dataset (prompt, completion, label).

Shape `labelled`, detected from the column names: a prompt (`prompt`, `question` or `instruction`), an answer
(`completion`, `response`, `answer` or `output`) and a label (`label`, `thumbs`, `feedback` or `desirable`), the
prompt and answer as texts or message lists. Labels: true/false, 1/0 (or -1), yes/no, good/bad, up/down,
positive/negative, like/dislike, 👍/👎 (any skin tone), :+1:/:-1:.

Pairs can be read as labelled answers too (`from_pairs`): the chosen answer good, the rejected one bad, as TRL's
unpair_preference_dataset does.
"""
from __future__ import annotations

import statistics

from ..i18n import N_, Message, msg
from . import answers, transcripts
from .rows import LABELLED, SHAREGPT_ROLES, UNREADABLE, DataError, LoadedData, Problem, col, first_problems, text
from .tokens import example_key

SHAPES = ["labelled"]
SHAPE_NAMES = {"labelled": N_("prompt / completion / label (answers marked good or bad)")}
PROMPT = ("prompt", "question", "instruction")
ANSWER = ("completion", "response", "answer", "output")
LABEL = ("label", "thumbs", "feedback", "desirable")
GOOD = {"true", "1", "+1", "yes", "y", "good", "up", "thumbs up", "thumbsup", "positive", "desirable", "like",
        "👍", ":+1:", ":thumbsup:"}
BAD = {"false", "0", "-1", "no", "n", "bad", "down", "thumbs down", "thumbsdown", "negative", "undesirable",
       "dislike", "👎", ":-1:", ":thumbsdown:"}
# Emoji variation selector and skin tones: 👍🏽 is 👍.
MODIFIERS = dict.fromkeys([0xFE0F, *range(0x1F3FB, 0x1F400)])
WHAT = [N_("label")]  # the {what} of an empty label (the others are in rows.WHAT)


def detect_shape(columns: list[str]) -> str | None:
    if col(columns, *PROMPT) and col(columns, *ANSWER) and col(columns, *LABEL):
        return "labelled"
    return None


def required_columns(columns: list[str]) -> dict[str, str | None]:
    return {"prompt": col(columns, *PROMPT), "completion": col(columns, *ANSWER), "label": col(columns, *LABEL)}


def read_label(value) -> bool | None:
    """True for a good answer, False for a bad one, None when the value is not a label the studio reads."""
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy value from Parquet
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value in (0, -1) else None
    if isinstance(value, str):
        word = " ".join(value.translate(MODIFIERS).strip().lower().replace("_", " ").split())
        return True if word in GOOD else False if word in BAD else None
    return None


def _label(row: dict, column: str, problems: list) -> bool | None:
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(Problem(row["_row"], column, N_("empty label"),
                                msg("the label is empty: say whether the answer is good or bad (true/false, 1/0, "
                                    "good/bad, 👍/👎), or delete the row.")))
        return None
    label = read_label(value)
    if label is None:
        problems.append(Problem(row["_row"], column, N_("unknown label"),
                                msg("the label {value} is not one the studio reads: use true/false, 1/0, good/bad, "
                                    "up/down or 👍/👎.", value=repr(value))))
    return label


def _part(row: dict, column: str, problems: list, what: str, role: str) -> list[dict] | None:
    """The prompt (messages before the answer) or the answer ([assistant message]): a text or a message list."""
    value = row.get(column)
    if isinstance(value, list) and value:
        turns = [{"role": SHAREGPT_ROLES.get(str(m.get("role", m.get("from"))).lower()),
                  "content": m.get("content", m.get("value"))} if isinstance(m, dict) else {} for m in value]
        if any(m.get("role") is None or not isinstance(m.get("content"), str) for m in turns):
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("every message of the {what} needs a 'role' (system, user or assistant) and "
                                        "a text 'content'.", what=msg(what))))
            return None
        if role == "assistant":
            turns = turns[-1:]
            value = turns[0]["content"] if turns[0]["role"] == "assistant" else ""
        elif any(m["role"] == "user" and m["content"].strip() for m in turns):
            return turns
        else:
            value = ""
    elif role == "user" and transcripts.looks_like(value):  # "\n\nHuman: ...\n\nAssistant:"
        turns = transcripts.parse(value)
        turns = turns[:-1] if turns[-1]["role"] == "assistant" and not turns[-1]["content"] else turns
        if any(m["role"] == "user" and m["content"].strip() for m in turns):
            return turns
        value = ""
    content = text({**row, column: value}, column, problems, what)
    return [{"role": role, "content": content}] if content is not None else None


def row_to_example(row: dict, cols: dict, problems: list) -> dict | None:
    prompt = _part(row, cols["prompt"], problems, "prompt", "user")
    completion = _part(row, cols["completion"], problems, "answer", "assistant")
    label = _label(row, cols["label"], problems)
    if prompt is None or completion is None or label is None:
        return None
    return {"prompt": prompt, "completion": completion, "label": label, "row": row["_row"]}


def load(name: str, columns: list[str], rows: list[dict], problems: list, notes: list, shape: str = "labelled",
         system_prompt: str = "") -> LoadedData:
    """The labelled answers of a file already read by files.read_table. Raises DataError when no row can be used."""
    cols = required_columns(columns)
    missing = [role for role, c in cols.items() if c is None]
    if missing:
        raise DataError(msg("{file}: no column for {missing} (shape '{shape}'; the file has {columns}). Name the "
                            "columns prompt, completion and label.", file=name, missing=", ".join(missing),
                            shape=shape, columns=", ".join(columns)))
    examples = []
    for row in rows:
        if row.get(UNREADABLE):
            continue
        example = row_to_example(row, cols, problems)
        if example:
            if system_prompt and example["prompt"][0]["role"] != "system":
                example["prompt"] = [{"role": "system", "content": system_prompt}, *example["prompt"]]
            examples.append(example)
    problems.sort(key=lambda p: (p.row or 0))
    if not examples:
        raise DataError(msg("{file}: none of its {rows} rows can be used ({first}). Fix the rows listed and "
                            "upload the file again.", file=name, rows=len(rows), first=first_problems(problems)))
    return LoadedData(name, columns, rows, shape, examples, problems, notes, kind=LABELLED)


def from_pairs(examples: list[dict]) -> list[dict]:
    """Pairs as labelled answers: each pair's chosen answer good and its rejected one bad."""
    return [{"prompt": e["prompt"], "completion": e[side], "label": side == "chosen", "row": e.get("row")}
            for e in examples for side in ("chosen", "rejected")]


def to_hf(examples: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"], "label": e["label"]}
                              for e in examples])


def sides(example: dict) -> list[tuple[str, dict]]:
    return [(N_("good answer 👍") if example["label"] else N_("bad answer 👎"), example)]


def compute_stats(data: LoadedData, tokenizer, max_length: int, train: list[dict] | None = None,
                  val: list[dict] | None = None) -> dict:
    """The one-answer statistics (lengths, cuts, duplicates, overlap), and how many answers are good and bad."""
    stats = {**answers.compute_stats(data, tokenizer, max_length, train, val), "kind": LABELLED}
    counted = train if train is not None else data.examples
    good = sum(e["label"] for e in counted)
    labels: dict[str, set] = {}
    for e in data.examples:
        labels.setdefault(example_key(e), set()).add(e["label"])
    lengths = {True: [], False: []}
    for e, n in zip(data.examples, stats["answer_lengths"]):
        lengths[e["label"]].append(n)
    stats.update(good=good, bad=len(counted) - good, good_share=good / len(counted) if counted else 0.0,
                 conflicts=sum(len(v) == 2 for v in labels.values()),
                 good_median=statistics.median(lengths[True]) if lengths[True] else 0,
                 bad_median=statistics.median(lengths[False]) if lengths[False] else 0)
    return stats


LENGTH_BIAS = 1.5  # good answers this many times longer (or shorter) than bad ones: length alone tells them apart


def plain_findings(stats: dict) -> list[Message]:
    notes = answers.plain_findings(stats)
    good, bad = stats["good"], stats["bad"]
    if not bad:
        notes.append(msg("All {good} answers are marked good: the model learns what to say more, never what to avoid. "
                         "Add answers marked bad.", good=good))
    elif not good:
        notes.append(msg("All {bad} answers are marked bad: the model learns what to avoid, never what to say "
                         "instead. Add answers marked good.", bad=bad))
    elif not 0.4 <= stats["good_share"] <= 0.6:
        notes.append(msg("{good} answers are marked good and {bad} bad ({share:.0%} good): the smaller side needs "
                         "a larger weight in training so that both count (the method's settings say how).",
                         good=good, bad=bad, share=stats["good_share"]))
    if stats["conflicts"]:
        notes.append(msg("{answers} answers are marked both good and bad (same prompt and answer): the model cannot "
                         "learn from both. Keep one label each.", answers=stats["conflicts"]))
    g, b = stats["good_median"], stats["bad_median"]
    if good and bad and min(g, b) and max(g, b) / min(g, b) >= LENGTH_BIAS:
        notes.append(msg("Good answers are {longer} than bad ones (median {good_tokens} against {bad_tokens} tokens): "
                         "the model may learn the length rather than what you meant.",
                         longer=msg("longer") if g > b else msg("shorter"), good_tokens=g, bad_tokens=b))
    return notes


def preview_rows(examples: list[dict]) -> list[dict]:
    return [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "answer": e["completion"][0]["content"],
             "label": "👍" if e["label"] else "👎",
             "system": next((m["content"] for m in e["prompt"] if m["role"] == "system"), "")} for e in examples]
