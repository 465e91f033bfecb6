"""What a person should know about their data before training, measured with the model's own tokenizer.

Token counts use the same recipe as TRL's SFTTrainer for conversational prompt-completion rows: the chat
template applied to the prompt (with the generation prompt) and to prompt + answer; the answer starts where
the two diverge. So "rows cut by the max length" here is exactly what training will cut.
"""
from __future__ import annotations

import statistics

from .data import LoadedData
from .i18n import Message, msg


def _ids(tokenizer, messages, add_generation_prompt=False) -> list[int]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=add_generation_prompt)
    if hasattr(out, "keys"):
        out = out["input_ids"]
    return list(out)


def tokenize_example(tokenizer, example: dict) -> tuple[list[int], int]:
    """(token ids of the whole example, number of leading prompt tokens the model does not learn from)."""
    prompt = _ids(tokenizer, example["prompt"], add_generation_prompt=True)
    full = _ids(tokenizer, example["prompt"] + example["completion"])
    n = 0
    while n < min(len(prompt), len(full)) and prompt[n] == full[n]:
        n += 1
    return full, n


def render_example(tokenizer, example: dict, max_length: int | None = None) -> dict:
    """The example exactly as the model sees it: the prompt part, the learned part, and what is cut."""
    if "chosen" in example:  # a preference pair: the chosen side, as DPO raises it
        example = {"prompt": example["prompt"], "completion": example["chosen"]}
    ids, n_prompt = tokenize_example(tokenizer, example)
    kept = ids[:max_length] if max_length else ids
    return {"prompt_text": tokenizer.decode(kept[:n_prompt]), "answer_text": tokenizer.decode(kept[n_prompt:]),
            "cut_text": tokenizer.decode(ids[len(kept):]), "tokens": len(ids), "prompt_tokens": n_prompt}


def _is_empty(row: dict) -> bool:
    if row.get("_unreadable"):
        return False
    return all(v is None or (isinstance(v, str) and not v.strip()) or v == [] for k, v in row.items() if k != "_row")


def _key(example: dict) -> str:
    return repr([(m["role"], m["content"].strip()) for m in example["prompt"] + example["completion"]])


def _prompt_key(example: dict) -> str:
    return repr([(m["role"], m["content"].strip()) for m in example["prompt"]])


def compute_stats(data: LoadedData, tokenizer, max_length: int, train: list[dict] | None = None,
                  val: list[dict] | None = None) -> dict:
    if data.kind == "preference":
        from . import preference

        return preference.compute_stats(data, tokenizer, max_length, train, val)
    examples = data.examples
    seen, duplicates = set(), 0
    for e in examples:
        k = _key(e)
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
        "rows": len(data.rows), "usable": len(examples), "set_aside": len(data.rows) - len(examples),
        "empty_rows": sum(_is_empty(r) for r in data.rows), "duplicate_rows": duplicates,
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
        train_prompts = {_prompt_key(e) for e in train}
        stats["train_rows"], stats["val_rows"] = len(train), len(val)
        stats["overlap"] = sum(_prompt_key(e) in train_prompts for e in val)
    return stats


def plain_findings(stats: dict) -> list[Message]:
    """Messages for the things worth a person's attention."""
    if stats.get("kind") == "preference":
        from . import preference

        return preference.plain_findings(stats)
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
