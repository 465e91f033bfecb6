"""Data statistics measured with the default model's tokenizer: lengths, cuts, duplicates, overlap, findings."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.data import load_data
from engine.data import compute_stats, plain_findings, render_example, tokenize_example

LONG_ANSWER = " ".join(f"word{i % 10}" for i in range(400))
ROWS = [
    ("Say hi.", "", "Hi"),
    ("Say hi.", "", "Hi"),                   # exact duplicate of row 1
    ("Add 2 and 3.", "", ""),                # empty answer: set aside
    ("Write a long text.", "", LONG_ANSWER),  # very long answer
    ("Name a colour.", "any", "Blue"),
]


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instruction", "input", "output"])
        writer.writerows(rows)
    return path


@pytest.fixture
def small(tmp_path):
    return load_data(write_csv(tmp_path / "small.csv", ROWS))


def _example(prompt, answer, system=None):
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return {"prompt": messages, "completion": [{"role": "assistant", "content": answer}], "row": None}


def test_counts_on_a_known_file(small, tokenizer):
    stats = compute_stats(small, tokenizer, max_length=10**6)
    assert (stats["rows"], stats["usable"], stats["set_aside"]) == (5, 4, 1)
    assert stats["duplicate_rows"] == 1
    assert stats["empty_rows"] == 0
    assert (stats["rows_over_max"], stats["tokens_cut"], stats["answers_cut"], stats["rows_dropped"]) == (0, 0, 0, 0)
    assert stats["mean_cut"] == 0
    lengths = [len(tokenize_example(tokenizer, e)[0]) for e in small.examples]
    assert stats["lengths"] == lengths
    assert lengths[0] == lengths[1]  # the duplicate measures the same
    assert lengths[2] > 400 > max(lengths[0], lengths[1], lengths[3])  # 400 words in the long answer
    assert (stats["longest"], stats["total_tokens"]) == (lengths[2], sum(lengths))


@pytest.mark.parametrize("max_length", [64, 128, 300])
def test_cut_rows_match_the_tokenizer(small, tokenizer, max_length):
    measured = [tokenize_example(tokenizer, e) for e in small.examples]
    lengths = [len(ids) for ids, _ in measured]
    over = [n for n in lengths if n > max_length]
    stats = compute_stats(small, tokenizer, max_length=max_length)
    assert stats["rows_over_max"] == len(over) == 1  # only the long answer is over these limits
    assert stats["tokens_cut"] == sum(n - max_length for n in over) == lengths[2] - max_length
    assert stats["answers_cut"] == 1
    assert stats["rows_dropped"] == 0
    assert stats["answer_lengths"] == [len(ids) - n for ids, n in measured]
    assert stats["mean_cut"] == round(lengths[2] - max_length, 1)


def test_rows_whose_prompt_fills_the_max_length_are_dropped(small, tokenizer):
    measured = [tokenize_example(tokenizer, e) for e in small.examples]
    max_length = min(n for _, n in measured)  # every prompt is at least this long, so no answer fits
    stats = compute_stats(small, tokenizer, max_length=max_length)
    assert stats["rows_over_max"] == 4
    assert stats["rows_dropped"] == sum(n >= max_length for _, n in measured) == 4
    findings = " ".join(plain_findings(stats))
    assert "4 lose the whole answer and are skipped" in findings


def test_empty_rows_are_counted(tmp_path, tokenizer):
    data = load_data(write_csv(tmp_path / "e.csv", [("Say hi.", "", "Hi"), ("", "", ""), ("Bye.", "", "Bye")]))
    stats = compute_stats(data, tokenizer, max_length=256)
    assert (stats["rows"], stats["usable"], stats["set_aside"], stats["empty_rows"]) == (3, 2, 1, 1)


def test_tokenize_example_splits_prompt_and_answer(tokenizer):
    example = _example("What is the capital of France?", "Paris is the capital.", system="Answer briefly.")
    ids, n_prompt = tokenize_example(tokenizer, example)
    prompt_text, answer_text = tokenizer.decode(ids[:n_prompt]), tokenizer.decode(ids[n_prompt:])
    assert prompt_text.startswith("<|im_start|>system\nAnswer briefly.<|im_end|>")
    assert "What is the capital of France?" in prompt_text
    assert prompt_text.endswith("<|im_start|>assistant\n")
    assert answer_text.startswith("Paris is the capital.<|im_end|>")
    assert answer_text[len("Paris is the capital.<|im_end|>"):].strip() == ""


def test_tokenize_example_multi_turn_learns_only_the_last_answer(tokenizer):
    example = {"prompt": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"},
                          {"role": "user", "content": "Your name?"}],
               "completion": [{"role": "assistant", "content": "Smol"}], "row": 1}
    ids, n_prompt = tokenize_example(tokenizer, example)
    prompt_text = tokenizer.decode(ids[:n_prompt])
    assert "Hello there<|im_end|>" in prompt_text
    assert prompt_text.endswith("<|im_start|>assistant\n")
    assert tokenizer.decode(ids[n_prompt:]).startswith("Smol<|im_end|>")


def test_render_example_shows_what_is_cut(tokenizer):
    example = _example("Count.", LONG_ANSWER)
    ids, n_prompt = tokenize_example(tokenizer, example)
    shown = render_example(tokenizer, example, max_length=n_prompt + 5)
    assert (shown["tokens"], shown["prompt_tokens"]) == (len(ids), n_prompt)
    assert shown["prompt_text"].endswith("<|im_start|>assistant\n")
    assert shown["answer_text"] == tokenizer.decode(ids[n_prompt:n_prompt + 5])
    assert shown["cut_text"].endswith("<|im_end|>\n") or shown["cut_text"].endswith("<|im_end|>")
    assert render_example(tokenizer, example)["cut_text"] == ""


def test_overlap_counts_validation_prompts_seen_in_training(tmp_path, tokenizer):
    data = load_data(write_csv(tmp_path / "o.csv", [
        ("Say hi.", "", "Hi"), ("Name a colour.", "", "Blue"), ("Say hi. ", "", "Hello!"), ("Say bye.", "", "Bye"),
    ]))
    train, val = data.examples[:2], data.examples[2:]
    stats = compute_stats(data, tokenizer, max_length=256, train=train, val=val)
    assert (stats["train_rows"], stats["val_rows"], stats["overlap"]) == (2, 2, 1)
    assert any("1 validation rows have the same prompt" in note for note in plain_findings(stats))
    assert "overlap" not in compute_stats(data, tokenizer, max_length=256)


def test_plain_findings_mention_the_max_length_when_rows_are_cut(small, tokenizer):
    cut = plain_findings(compute_stats(small, tokenizer, max_length=100))
    notes = " ".join(cut)
    assert "1 rows are longer than the max length of 100 tokens" in notes
    assert "1 rows have problems and are set aside" in notes
    assert "1 rows repeat an earlier row" in notes
    assert "Only 4 usable examples" in notes
    whole = plain_findings(compute_stats(small, tokenizer, max_length=10**6))
    assert not any("max length" in note for note in whole)


def test_demo_data_has_no_cuts_at_default_length(data_dir, tokenizer):
    data = load_data(data_dir / "ticket_routing" / "test.csv")
    stats = compute_stats(data, tokenizer, max_length=256)
    assert (stats["rows"], stats["usable"], stats["set_aside"], stats["rows_over_max"]) == (60, 60, 0, 0)
    assert plain_findings(stats) == []


def test_set_aside_counts_rows_with_the_wrong_number_of_columns(tmp_path, tokenizer):
    path = tmp_path / "w.csv"
    path.write_text("instruction,input,output\nSay hi.,,Hi\nOops,,a,b\n", encoding="utf-8")
    stats = compute_stats(load_data(path), tokenizer, max_length=256)
    assert (stats["rows"], stats["usable"], stats["set_aside"]) == (2, 1, 1)
