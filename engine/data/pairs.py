"""Data with a better and a worse answer per row (preference pairs): shapes, row problems and token statistics.

Internal form of one pair: {"prompt": [messages...], "chosen": [assistant message], "rejected": [assistant
message], "row": n}, which TRL's preference trainers read as a conversational preference dataset.

Shapes, detected from the column names like the others (engine.data.load_data hands pair files over here):
- preference: `prompt`, `chosen`, `rejected` (texts, or message lists); H2O's `chosen_response` /
  `rejected_response` are read as chosen / rejected.
  With `instruction` for `prompt` (Argilla's binarized UltraFeedback), and chosen/rejected as whole conversations
  (HuggingFaceH4's ultrafeedback_binarized: the user's message then the answer) the prompt is their shared beginning.
- preference_messages: `chosen` and `rejected` hold whole conversations; the prompt is their shared beginning
  (TRL's implicit prompt).
- preference_transcripts: the same as one text each with speaker markers, as in Anthropic's HH-RLHF
  ("\\n\\nHuman: ...\\n\\nAssistant: ..."; transcripts.py).
- preference_hosted: the JSONL of hosted fine-tuning services: `input` ({"messages": [...]}),
  `preferred_output` and `non_preferred_output` (lists holding the assistant's message).
Score columns beside the pair (UltraFeedback's score_chosen/score_rejected and the like) are checked: a pair whose
chosen answer scores below or the same as the rejected one is reported, not trained on.
"""
from __future__ import annotations

import statistics

from ..i18n import N_, Message, msg
from . import transcripts
from .rows import PAIRS, SHAREGPT_ROLES, UNREADABLE, DataError, LoadedData, Problem, first_problems, is_empty
from .rows import col as _col
from .rows import text as _text
from .tokens import prompt_key, tokenize_example

SHAPES = ["preference", "preference_messages", "preference_transcripts", "preference_hosted"]

SHAPE_NAMES = {"preference": N_("prompt / chosen / rejected"),
               "preference_messages": N_("chosen / rejected conversations"),
               "preference_transcripts": N_("chosen / rejected transcripts (Human: … Assistant: …)"),
               "preference_hosted": N_("input / preferred_output / non_preferred_output (hosted services' JSONL)")}
ROLES = {**SHAREGPT_ROLES, "system": "system", "user": "user", "assistant": "assistant"}
CHOSEN, REJECTED = ("chosen", "chosen_response"), ("rejected", "rejected_response")
PROMPT = ("prompt", "instruction")
# Scores of the two answers (UltraFeedback and its binarized variants), when the file has them.
SCORES = [("score_chosen", "score_rejected"), ("chosen_score", "rejected_score"), ("chosen-rating", "rejected-rating"),
          ("chosen_rating", "rejected_rating"), ("chosen_avg_rating", "rejected_avg_rating")]
# What was empty or wrong in a pair (the {what} of a problem, and the problem's kind), as msgids.
EMPTY = {"prompt": N_("empty prompt"), "chosen answer": N_("empty chosen answer"),
         "rejected answer": N_("empty rejected answer"), "chosen conversation": N_("empty chosen conversation"),
         "rejected conversation": N_("empty rejected conversation")}
WHAT = [N_("chosen conversation"), N_("rejected conversation")]  # the others are in rows.WHAT
NO_ANSWER = {"chosen": N_("empty chosen"), "rejected": N_("empty rejected")}
HINTS = {"preference": N_("Name the columns prompt, chosen and rejected."),
         "preference_messages": N_("Name the columns chosen and rejected."),
         "preference_transcripts": N_("Name the columns chosen and rejected."),
         "preference_hosted": N_("Give every line input, preferred_output and non_preferred_output.")}


def detect_shape(columns: list[str], rows: list[dict] = ()) -> str | None:
    """The pair shape from the column names; without a prompt column, the first rows tell transcripts (texts)
    from conversations (message lists)."""
    cols = {c.lower() for c in columns}
    if {"preferred_output", "non_preferred_output"} <= cols:
        return "preference_hosted"
    if cols & set(CHOSEN) and cols & set(REJECTED):
        if cols & set(PROMPT):
            return "preference"
        chosen = _col(columns, *CHOSEN)
        values = [r.get(chosen) for r in rows[:20] if r.get(chosen) not in (None, "", [])]
        texts = sum(isinstance(v, str) for v in values)
        return "preference_transcripts" if values and texts * 2 > len(values) else "preference_messages"
    return None


def required_columns(shape: str, columns: list[str]) -> dict[str, str | None]:
    if shape == "preference_hosted":
        return {"input": _col(columns, "input"), "chosen": _col(columns, "preferred_output"),
                "rejected": _col(columns, "non_preferred_output")}
    cols = {"chosen": _col(columns, *CHOSEN), "rejected": _col(columns, *REJECTED)}
    return {"prompt": _col(columns, *PROMPT), **cols} if shape == "preference" else cols


def score_columns(columns: list[str]) -> tuple[str, str] | None:
    return next(((_col(columns, c), _col(columns, r)) for c, r in SCORES if _col(columns, c) and _col(columns, r)),
                None)


def _messages(row: dict, column: str, value, problems: list, what: str) -> list[dict] | None:
    """A list of {"role", "content"} (or {"from", "value"}) messages, checked; None with a problem recorded."""
    if not isinstance(value, list) or not value:
        kind = EMPTY[what] if not value else N_("wrong type")
        problems.append(Problem(row["_row"], column, kind, msg("the {what} should be a list of messages, each with "
                                                               "'role' and 'content'.", what=msg(what))))
        return None
    out = []
    for i, turn in enumerate(value, start=1):
        role = turn.get("role", turn.get("from")) if isinstance(turn, dict) else None
        content = turn.get("content", turn.get("value")) if isinstance(turn, dict) else None
        if ROLES.get(str(role).lower()) is None or not isinstance(content, (str, int, float)):
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("message {number} of the {what} needs a 'role' (system, user or assistant) "
                                        "and a text 'content'.", number=i, what=msg(what))))
            return None
        out.append({"role": ROLES[str(role).lower()], "content": str(content)})
    return out


def _conversation(row: dict, column: str, problems: list, what: str) -> list[dict] | None:
    """One side as a whole conversation: a list of messages, or a transcript with speaker markers."""
    value = row.get(column)
    if not isinstance(value, str) or not value.strip():
        return _messages(row, column, value, problems, what)
    turns = transcripts.parse(value)
    if turns is None:
        problems.append(Problem(row["_row"], column, N_("no speaker markers"),
                                msg("the {what} should be a list of messages with 'role' and 'content', or a "
                                    "transcript whose turns start with 'Human:' and 'Assistant:' "
                                    "(or 'User:', '### Human:') at the start of a line after a blank line; this text "
                                    "does not start with one.", what=msg(what))))
    return turns


def _is_conversation(value) -> bool:
    return (isinstance(value, list) and len(value) > 1) or transcripts.looks_like(value)


def _answer(row: dict, column: str, problems: list, what: str) -> list[dict] | None:
    """One side of the pair as [assistant message]: a text, or a message list ending with the assistant."""
    value = row.get(column)
    if isinstance(value, list):
        turns = _messages(row, column, value, problems, f"{what} answer")
        if turns is None:
            return None
        value = turns[-1]["content"] if turns[-1]["role"] == "assistant" else ""
        row = {**row, column: value}
    text = _text(row, column, problems, f"{what} answer")
    return [{"role": "assistant", "content": text}] if text is not None else None


def _shared_prompt(row: dict, cols: dict, problems: list):
    """preference_messages: (prompt, chosen, rejected) from two whole conversations that share their beginning."""
    sides = []
    for what in ("chosen", "rejected"):
        turns = _conversation(row, cols[what], problems, f"{what} conversation")
        if turns is None:
            return None
        if turns[-1]["role"] != "assistant":
            problems.append(Problem(row["_row"], cols[what], N_("ends with the user"),
                                    msg("the {what} ends with the user's turn, not with an answer: there is nothing "
                                        "to learn. End it with the assistant's answer, or delete the row.",
                                        what=msg(f"{what} conversation"))))
            return None
        if not turns[-1]["content"].strip():
            problems.append(Problem(row["_row"], cols[what], NO_ANSWER[what],
                                    msg("the {what} must end with a non-empty assistant message (the answer).",
                                        what=msg(f"{what} conversation"))))
            return None
        sides.append(turns)
    prompt, other = sides[0][:-1], sides[1][:-1]
    if not any(m["role"] == "user" and m["content"].strip() for m in prompt):
        problems.append(Problem(row["_row"], cols["chosen"], N_("empty prompt"),
                                msg("the conversation has no user message before the answer: there is no prompt.")))
        return None
    if _norm(prompt) != _norm(other):
        turn = next((i for i, (a, b) in enumerate(zip(_norm(prompt), _norm(other)), start=1) if a != b),
                    min(len(prompt), len(other)) + 1)
        problems.append(Problem(row["_row"], cols["rejected"], N_("different prompts"),
                                msg("the chosen and rejected conversations must be the same up to their last "
                                    "answer; here they differ at message {turn}. Put both answers after the same "
                                    "messages.", turn=turn)))
        return None
    return prompt, sides[0][-1:], sides[1][-1:]


def _norm(messages: list[dict]) -> list[tuple[str, str]]:
    return [(m["role"], " ".join(m["content"].split())) for m in messages]


def row_to_pair(row: dict, shape: str, cols: dict, problems: list) -> tuple | None:
    """(prompt messages, [chosen], [rejected]) for one row, or None with the row's problems recorded."""
    whole = shape == "preference" and all(_is_conversation(row.get(cols[k])) for k in ("chosen", "rejected"))
    if shape in ("preference_messages", "preference_transcripts") or whole:
        found = _shared_prompt(row, cols, problems)  # whole conversations: the prompt is their shared beginning
        if found is None:
            return None
        prompt, chosen, rejected = found
    else:
        if shape == "preference_hosted":
            value = row.get(cols["input"])
            value = value.get("messages") if isinstance(value, dict) else None
            column = cols["input"]
        else:
            value, column = row.get(cols["prompt"]), cols["prompt"]
        if isinstance(value, list):
            prompt = _messages(row, column, value, problems, "prompt")
        elif transcripts.looks_like(value):  # "\n\nHuman: ...\n\nAssistant:": the turns before the answer
            prompt = transcripts.parse(value)
            prompt = prompt[:-1] if prompt[-1]["role"] == "assistant" and not prompt[-1]["content"] else prompt
        else:
            text = _text({**row, column: value}, column, problems, "prompt")
            prompt = [{"role": "user", "content": text}] if text is not None else None
        if prompt is not None and not any(m["role"] == "user" and m["content"].strip() for m in prompt):
            problems.append(Problem(row["_row"], column, N_("empty prompt"), msg("the prompt has no user message.")))
            prompt = None
        chosen = _answer(row, cols["chosen"], problems, "chosen")
        rejected = _answer(row, cols["rejected"], problems, "rejected")
        if prompt is None or chosen is None or rejected is None:
            return None
    if _norm(chosen) == _norm(rejected):
        problems.append(Problem(row["_row"], cols["rejected"], N_("same answers"),
                                msg("the chosen and the rejected answers are the same, so there is no preference "
                                    "to learn. Write a worse answer as rejected, or delete the row.")))
        return None
    return prompt, chosen, rejected


def _scores_disagree(row: dict, scores: tuple[str, str], problems: list) -> bool:
    """A pair whose chosen answer does not score above the rejected one (when the file gives scores)."""
    try:
        chosen, rejected = float(row.get(scores[0])), float(row.get(scores[1]))
    except (TypeError, ValueError):
        return False  # no scores on this row: the pair is taken as it is
    if chosen > rejected:
        return False
    if chosen == rejected:
        problems.append(Problem(row["_row"], scores[1], N_("tied scores"),
                                msg("both answers have the score {score}: there is no preference to learn. Delete "
                                    "the row, or keep only pairs whose scores differ.", score=f"{chosen:g}")))
    else:
        problems.append(Problem(row["_row"], scores[1], N_("scores disagree"),
                                msg("the rejected answer scores {rejected}, above the chosen one's {chosen}: the two "
                                    "look swapped. Swap them or delete the row.", rejected=f"{rejected:g}",
                                    chosen=f"{chosen:g}")))
    return True


def load(name: str, columns: list[str], rows: list[dict], problems: list, notes: list, shape: str,
         system_prompt: str = "") -> LoadedData:
    """The pairs of a file already read by files.read_table. Raises DataError when no row can be used."""
    cols = required_columns(shape, columns)
    missing = [role for role, col in cols.items() if col is None]
    if missing:
        raise DataError(msg("{file}: no column for {missing} (shape '{shape}'; the file has {columns}). "
                            "{what_to_do}", file=name, missing=", ".join(missing), shape=shape,
                            columns=", ".join(columns), what_to_do=msg(HINTS[shape])))
    examples, scores = [], score_columns(columns)
    for row in rows:
        if row.get(UNREADABLE):
            continue
        pair = row_to_pair(row, shape, cols, problems)
        if pair and scores and _scores_disagree(row, scores, problems):
            continue
        if pair:
            prompt, chosen, rejected = pair
            if system_prompt and prompt[0]["role"] != "system":
                prompt = [{"role": "system", "content": system_prompt}, *prompt]
            examples.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "row": row["_row"]})
    problems.sort(key=lambda p: (p.row or 0))
    data = LoadedData(name, columns, rows, shape, examples, problems, notes, kind=PAIRS)
    if not examples:
        raise DataError(msg("{file}: none of its {rows} pairs can be used ({first}). Fix the rows listed and upload "
                            "the file again.", file=name, rows=len(rows), first=first_problems(problems)))
    return data


def as_answer(example: dict, side: str = "chosen") -> dict:
    """One side of a pair as a prompt/completion example (token counts, rendering, generation)."""
    return {"prompt": example["prompt"], "completion": example[side], "row": example.get("row")}


def sides(example: dict) -> list[tuple[str, dict]]:
    return [(N_("chosen (preferred)"), as_answer(example, "chosen")), (N_("rejected"), as_answer(example, "rejected"))]


def to_hf(examples: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": e["prompt"], "chosen": e["chosen"], "rejected": e["rejected"]}
                              for e in examples])


def compute_stats(data: LoadedData, tokenizer, max_length: int, train: list[dict] | None = None,
                  val: list[dict] | None = None) -> dict:
    """Token lengths of prompt, chosen and rejected (the same recipe as TRL's preference trainers), the max-length cut counted
    on each side, and how often the chosen answer is the longer one."""
    prompts, chosen, rejected, lengths = [], [], [], []
    chosen_cut = rejected_cut = dropped = chosen_longer = ties = 0
    seen, duplicates = set(), 0
    for e in data.examples:
        key = repr(_norm(e["prompt"] + e["chosen"] + e["rejected"]))
        duplicates += key in seen
        seen.add(key)
        c_ids, n_prompt = tokenize_example(tokenizer, as_answer(e, "chosen"))
        r_ids, r_prompt = tokenize_example(tokenizer, as_answer(e, "rejected"))
        n_prompt = min(n_prompt, r_prompt)
        n_c, n_r = len(c_ids) - n_prompt, len(r_ids) - n_prompt
        prompts.append(n_prompt)
        chosen.append(n_c)
        rejected.append(n_r)
        lengths.append(max(len(c_ids), len(r_ids)))
        dropped += n_prompt >= max_length  # nothing of either answer left: the trainer drops the pair
        chosen_cut += len(c_ids) > max_length
        rejected_cut += len(r_ids) > max_length
        chosen_longer += n_c > n_r
        ties += n_c == n_r
    n = len(data.examples)
    stats = {
        "kind": PAIRS, "rows": len(data.rows), "usable": n, "set_aside": len(data.rows) - n,
        "empty_rows": sum(is_empty(r) for r in data.rows), "duplicate_rows": duplicates,
        "lengths": lengths, "answer_lengths": chosen, "prompt_lengths": prompts, "chosen_lengths": chosen,
        "rejected_lengths": rejected, "max_length": max_length,
        "rows_over_max": sum(max(p + c, p + r) > max_length for p, c, r in zip(prompts, chosen, rejected)),
        "chosen_cut": chosen_cut, "rejected_cut": rejected_cut, "rows_dropped": dropped,
        "answers_cut": chosen_cut + rejected_cut, "tokens_cut": 0, "mean_cut": 0,
        "chosen_longer": chosen_longer / n if n else 0.0, "same_length": ties / n if n else 0.0,
    }
    if lengths:
        ordered = sorted(lengths)
        stats.update(mean=round(statistics.fmean(lengths), 1), median=statistics.median(lengths),
                     p90=ordered[min(n - 1, int(0.9 * n))], longest=ordered[-1], total_tokens=sum(lengths))
        for side in ("prompt", "chosen", "rejected"):
            stats[f"{side}_median"] = statistics.median(stats[f"{side}_lengths"])
    if train is not None and val is not None:
        train_prompts = {prompt_key(e) for e in train}
        stats["train_rows"], stats["val_rows"] = len(train), len(val)
        stats["overlap"] = sum(prompt_key(e) in train_prompts for e in val)
    return stats


LENGTH_BIAS = 0.7  # above this share (or below 1 - it) the chosen answer's length alone predicts the preference


def plain_findings(stats: dict) -> list[Message]:
    """Messages for what a person should know about their pairs before training."""
    notes = []
    if stats["set_aside"]:
        notes.append(msg("{rows} rows have problems and are set aside (see the list of problems).",
                         rows=stats["set_aside"]))
    if stats["duplicate_rows"]:
        notes.append(msg("{pairs} pairs repeat an earlier pair; duplicates weigh more in training.",
                         pairs=stats["duplicate_rows"]))
    if (stats["chosen_cut"] or stats["rejected_cut"]) and stats["rows_dropped"]:
        notes.append(msg("The max length of {max_length} tokens cuts the chosen answer in {chosen} pairs and the "
                         "rejected one in {rejected}; {dropped} pairs have a prompt that fills it alone and are "
                         "skipped. Raise the max length to keep them whole.", max_length=stats["max_length"],
                         chosen=stats["chosen_cut"], rejected=stats["rejected_cut"], dropped=stats["rows_dropped"]))
    elif stats["chosen_cut"] or stats["rejected_cut"]:
        notes.append(msg("The max length of {max_length} tokens cuts the chosen answer in {chosen} pairs and the "
                         "rejected one in {rejected}. Raise the max length to keep them whole.",
                         max_length=stats["max_length"], chosen=stats["chosen_cut"], rejected=stats["rejected_cut"]))
    share = stats["chosen_longer"]
    if share >= LENGTH_BIAS:
        notes.append(msg("The chosen answer is the longer one in {share:.0%} of pairs: the model may learn to prefer "
                         "long answers rather than what you meant. Add pairs where the better answer is the shorter "
                         "one.", share=share))
    elif share <= 1 - LENGTH_BIAS:
        notes.append(msg("The chosen answer is the longer one in {share:.0%} of pairs: the model may learn to prefer "
                         "short answers rather than what you meant. Add pairs where the better answer is the longer "
                         "one.", share=share))
    if stats.get("overlap"):
        notes.append(msg("{pairs} validation pairs have the same prompt as a training pair, so the validation "
                         "figures will look better than they really are.", pairs=stats["overlap"]))
    if stats["usable"] < 50:
        notes.append(msg("Only {usable} usable pairs: results will be fragile; a few hundred is better.",
                         usable=stats["usable"]))
    return notes


def preview_rows(examples: list[dict]) -> list[dict]:
    return [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "chosen": e["chosen"][0]["content"],
             "rejected": e["rejected"][0]["content"],
             "system": next((m["content"] for m in e["prompt"] if m["role"] == "system"), "")} for e in examples]
