"""An example as tokens, measured with the model's own tokenizer.

Token counts use the same recipe as TRL's SFTTrainer for conversational prompt-completion rows: the chat
template applied to the prompt (with the generation prompt) and to prompt + answer; the answer starts where
the two diverge. So "rows cut by the max length" here is exactly what training will cut.
"""
from __future__ import annotations


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
    if "chosen" in example:  # a pair: its chosen side, as a pair trainer raises it
        example = {"prompt": example["prompt"], "completion": example["chosen"]}
    ids, n_prompt = tokenize_example(tokenizer, example)
    kept = ids[:max_length] if max_length else ids
    return {"prompt_text": tokenizer.decode(kept[:n_prompt]), "answer_text": tokenizer.decode(kept[n_prompt:]),
            "cut_text": tokenizer.decode(ids[len(kept):]), "tokens": len(ids), "prompt_tokens": n_prompt}


def example_key(example: dict) -> str:
    return repr([(m["role"], m["content"].strip()) for m in example["prompt"] + example["completion"]])


def prompt_key(example: dict) -> str:
    return repr([(m["role"], m["content"].strip()) for m in example["prompt"]])


