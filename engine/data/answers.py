"""Data with one answer per row: the shapes people have (Alpaca, chat messages, ShareGPT, prompt/completion,
question/answer, two chosen columns), each row turned into one chat example, and what to know before training.

Internal form of one example: {"prompt": [messages...], "completion": [assistant message], "row": n},
which TRL reads as a conversational prompt-completion dataset (loss on the answer only).
"""
from __future__ import annotations

import statistics

from ..i18n import N_, Message, msg
from .rows import ANSWERS, SHAREGPT_ROLES, UNREADABLE, DataError, LoadedData, Problem, col, first_problems, \
    is_empty, text
from .tokens import example_key, prompt_key, tokenize_example

SHAPES = ["alpaca", "messages", "sharegpt", "prompt_completion", "question_answer", "columns"]
SHAPE_NAMES = {"alpaca": N_("instruction / input / output"), "messages": N_("chat messages"),
               "sharegpt": N_("ShareGPT conversations"), "prompt_completion": N_("prompt / completion"),
               "question_answer": N_("question / answer"), "columns": N_("two columns chosen by hand")}


def detect_shape(columns: list[str]) -> str | None:
    cols = {c.lower() for c in columns}
    if "messages" in cols:
        return "messages"
    if "conversations" in cols:
        return "sharegpt"
    if "instruction" in cols and cols & {"output", "response"}:
        return "alpaca"
    if {"prompt", "completion"} <= cols:
        return "prompt_completion"
    if {"question", "answer"} <= cols:
        return "question_answer"
    return None


def required_columns(shape: str, columns: list[str], prompt_column="", answer_column="") -> dict[str, str | None]:
    if shape == "alpaca":
        return {"instruction": col(columns, "instruction"), "input": col(columns, "input"),
                "output": col(columns, "output", "response")}
    if shape == "messages":
        return {"messages": col(columns, "messages")}
    if shape == "sharegpt":
        return {"conversations": col(columns, "conversations")}
    if shape == "prompt_completion":
        return {"prompt": col(columns, "prompt"), "completion": col(columns, "completion")}
    if shape == "question_answer":
        return {"question": col(columns, "question"), "answer": col(columns, "answer")}
    return {"prompt": prompt_column if prompt_column in columns else None,
            "answer": answer_column if answer_column in columns else None}


def _from_turns(row: dict, column: str, problems: list, role_key: str, text_key: str, roles: dict):
    turns = row.get(column)
    if not isinstance(turns, list) or not turns:
        kind = N_("empty conversation") if not turns else N_("wrong type")
        problems.append(Problem(row["_row"], column, kind, msg("expected a list of messages (each with '{role}' "
                                                               "and '{text}').", role=role_key, text=text_key)))
        return None
    messages = []
    for i, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or roles.get(str(turn.get(role_key, "")).lower()) is None:
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("message {number} needs a '{role}' of {roles} and a '{text}'.", number=i,
                                        role=role_key, roles=", ".join(sorted(set(roles))), text=text_key)))
            return None
        content = text({"_row": row["_row"], "t": turn.get(text_key)}, "t", [], "text", required=False)
        if content is None or not isinstance(turn.get(text_key), (str, int, float)):
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("message {number}'s '{text}' is not text.", number=i, text=text_key)))
            return None
        messages.append({"role": roles[str(turn[role_key]).lower()], "content": content})
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        problems.append(Problem(row["_row"], column, N_("empty answer"),
                                msg("the conversation must end with a non-empty assistant message (the answer "
                                    "to learn).")))
        return None
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        problems.append(Problem(row["_row"], column, N_("empty prompt"),
                                msg("the conversation has no user message.")))
        return None
    return messages


def row_to_messages(row: dict, shape: str, cols: dict, problems: list) -> list[dict] | None:
    """One row as a list of chat messages ending with the assistant's answer, or None (problem recorded)."""
    if shape in ("messages", "sharegpt"):
        column = cols["messages" if shape == "messages" else "conversations"]
        if shape == "messages":
            return _from_turns(row, column, problems, "role", "content",
                               {"system": "system", "user": "user", "assistant": "assistant"})
        return _from_turns(row, column, problems, "from", "value", SHAREGPT_ROLES)
    if shape == "alpaca":
        instruction = text(row, cols["instruction"], problems, "instruction")
        extra = text(row, cols["input"], problems, "input", required=False) if cols["input"] else ""
        answer = text(row, cols["output"], problems, "answer")
        if instruction is None or extra is None:
            return None
        prompt = f"{instruction}\n\n{extra}" if extra else instruction
    else:
        keys = list(cols)
        prompt = text(row, cols[keys[0]], problems, "prompt")
        answer = text(row, cols[keys[1]], problems, "answer")
    if prompt is None or answer is None:
        return None
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def to_example(messages: list[dict], system_prompt: str = "", row: int | None = None) -> dict:
    if system_prompt and messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system_prompt}, *messages]
    return {"prompt": messages[:-1], "completion": messages[-1:], "row": row}


def load(name: str, columns: list[str], rows: list[dict], problems: list, notes: list, shape: str,
         prompt_column: str = "", answer_column: str = "", system_prompt: str = "") -> LoadedData:
    """The examples of a file already read by files.read_table. Raises DataError when no row can be used."""
    if shape == "auto":
        shape = detect_shape(columns)
        if shape is None:
            raise DataError(msg("{file}: could not tell which column is the prompt and which the answer "
                                "(columns: {columns}). Choose the two columns by hand (shape 'columns'), or "
                                "rename them to instruction/output or prompt/completion.", file=name,
                                columns=", ".join(columns)))
    cols = required_columns(shape, columns, prompt_column, answer_column)
    missing = [role for role, col in cols.items() if col is None and role != "input"]
    if missing:
        raise DataError(msg("{file}: no column for {missing} (shape '{shape}'; the file has {columns}). Pick the "
                            "right columns or rename them.", file=name, missing=", ".join(missing), shape=shape,
                            columns=", ".join(columns)))
    examples = []
    for row in rows:
        if row.get(UNREADABLE):
            continue
        messages = row_to_messages(row, shape, cols, problems)
        if messages:
            examples.append(to_example(messages, system_prompt, row["_row"]))
    problems.sort(key=lambda p: (p.row or 0))
    data = LoadedData(name, columns, rows, shape, examples, problems, notes, kind=ANSWERS)
    if not examples:
        raise DataError(msg("{file}: none of its {rows} rows can be used ({first}). Fix the rows listed and "
                            "upload the file again.", file=name, rows=len(rows), first=first_problems(problems)))
    return data


def preview_rows(examples: list[dict]) -> list[dict]:
    return [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "answer": e["completion"][0]["content"],
             "system": next((m["content"] for m in e["prompt"] if m["role"] == "system"), "")} for e in examples]


def sides(example: dict) -> list[tuple[str, dict]]:
    return [(N_("answer"), example)]


def to_hf(examples: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])


def compute_stats(data: LoadedData, tokenizer, max_length: int, train: list[dict] | None = None,
                  val: list[dict] | None = None) -> dict:
    examples = data.examples
    seen, duplicates = set(), 0
    for e in examples:
        k = example_key(e)
        duplicates += k in seen
        seen.add(k)
    lengths, answer_lengths, over, cut_tokens, answers_cut, dropped = [], [], 0, 0, 0, 0
    for e in examples:
        ids, n_prompt = tokenize_example(tokenizer, e)
        lengths.append(len(ids))
        answer_lengths.append(len(ids) - n_prompt)
        if len(ids) > max_length:
            over += 1
            cut_tokens += len(ids) - max_length
            answers_cut += 1
            dropped += n_prompt >= max_length  # nothing of the answer left: training skips the row
    stats = {
        "kind": ANSWERS, "rows": len(data.rows), "usable": len(examples), "set_aside": len(data.rows) - len(examples),
        "empty_rows": sum(is_empty(r) for r in data.rows), "duplicate_rows": duplicates,
        "lengths": lengths, "answer_lengths": answer_lengths, "max_length": max_length,
        "rows_over_max": over, "tokens_cut": cut_tokens, "answers_cut": answers_cut, "rows_dropped": dropped,
        "mean_cut": round(cut_tokens / over, 1) if over else 0,
    }
    if lengths:
        ordered = sorted(lengths)
        stats.update(mean=round(statistics.fmean(lengths), 1), median=statistics.median(lengths),
                     p90=ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], longest=ordered[-1],
                     total_tokens=sum(lengths))
    if train is not None and val is not None:
        train_prompts = {prompt_key(e) for e in train}
        stats["train_rows"], stats["val_rows"] = len(train), len(val)
        stats["overlap"] = sum(prompt_key(e) in train_prompts for e in val)
    return stats


def plain_findings(stats: dict) -> list[Message]:
    """Messages for the things worth a person's attention."""
    notes = []
    if stats["set_aside"]:
        notes.append(msg("{rows} rows have problems and are set aside (see the list of problems).",
                         rows=stats["set_aside"]))
    if stats["duplicate_rows"]:
        notes.append(msg("{rows} rows repeat an earlier row; duplicates weigh more in training.",
                         rows=stats["duplicate_rows"]))
    if stats["rows_over_max"] and stats["rows_dropped"]:
        notes.append(msg("{rows} rows are longer than the max length of {max_length} tokens and lose {mean_cut} "
                         "tokens each on average from the end of the answer; {dropped} lose the whole answer and "
                         "are skipped. Raise the max length to keep them whole.", rows=stats["rows_over_max"],
                         max_length=stats["max_length"], mean_cut=stats["mean_cut"], dropped=stats["rows_dropped"]))
    elif stats["rows_over_max"]:
        notes.append(msg("{rows} rows are longer than the max length of {max_length} tokens and lose {mean_cut} "
                         "tokens each on average from the end of the answer. Raise the max length to keep them "
                         "whole.", rows=stats["rows_over_max"], max_length=stats["max_length"],
                         mean_cut=stats["mean_cut"]))
    if stats.get("overlap"):
        notes.append(msg("{rows} validation rows have the same prompt as a training row, so the validation loss "
                         "will look better than it really is.", rows=stats["overlap"]))
    if stats["usable"] < 50:
        notes.append(msg("Only {usable} usable examples: results will be fragile; a few hundred is better.",
                         usable=stats["usable"]))
    return notes
