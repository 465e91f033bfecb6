"""Preference pairs: each format detected and mapped, each problem reported with its row and column, token
statistics with the cut counted on each side and the length bias."""
from __future__ import annotations

import json

import pytest

from engine import data, methods
from engine.data import DataError

PROMPT = [{"role": "user", "content": "Where is my parcel?"}]
GOOD, BAD = "Happy to help! It arrives tomorrow.", "Dunno."


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def conv(answer, prompt=PROMPT):
    return [*prompt, {"role": "assistant", "content": answer}]


FORMATS = {
    "preference": {"prompt": "Where is my parcel?", "chosen": GOOD, "rejected": BAD},
    "preference_messages": {"chosen": conv(GOOD), "rejected": conv(BAD)},
    "preference_hosted": {"input": {"messages": PROMPT}, "preferred_output": [{"role": "assistant", "content": GOOD}],
                          "non_preferred_output": [{"role": "assistant", "content": BAD}]},
    "preference (H2O column names)": {"prompt": "Where is my parcel?", "chosen_response": GOOD,
                                      "rejected_response": BAD},
    "preference (message lists)": {"prompt": PROMPT, "chosen": [{"role": "assistant", "content": GOOD}],
                                   "rejected": [{"role": "assistant", "content": BAD}]},
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_preference_format_is_detected_and_mapped(tmp_path, name):
    loaded = data.load_data(write_jsonl(tmp_path / "pairs.jsonl", [FORMATS[name]] * 2), system_prompt="Be kind.")
    assert loaded.kind == data.PAIRS and loaded.shape == name.split(" ")[0]
    assert not loaded.problems and len(loaded.examples) == 2
    e = loaded.examples[0]
    assert e["prompt"] == [{"role": "system", "content": "Be kind."}, *PROMPT]
    assert e["chosen"] == [{"role": "assistant", "content": GOOD}]
    assert e["rejected"] == [{"role": "assistant", "content": BAD}]
    assert e["row"] == 1


def test_csv_with_prompt_chosen_rejected_columns(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(f"prompt,chosen,rejected\nWhere is my parcel?,{GOOD},{BAD}\n", encoding="utf-8")
    loaded = data.load_data(path)
    assert loaded.shape == "preference" and loaded.examples[0]["chosen"][0]["content"] == GOOD


def test_the_demo_preference_set_is_detected(data_dir):
    loaded = data.load_data(data_dir / "polite_replies" / "train.jsonl")
    assert loaded.kind == data.PAIRS and len(loaded.examples) == 300 and not loaded.problems
    held = data.load_data(data_dir / "polite_replies" / "test.jsonl")
    assert len(held.examples) == 60
    train_prompts = {e["prompt"][-1]["content"] for e in loaded.examples}
    assert not train_prompts & {e["prompt"][-1]["content"] for e in held.examples}
    assert all(e["chosen"][0]["content"].startswith("Happy to help!") for e in loaded.examples)


PROBLEMS = [  # (row, expected kind, expected column)
    ({"prompt": "Hi", "chosen": "", "rejected": BAD}, "empty chosen answer", "chosen"),
    ({"prompt": "Hi", "chosen": GOOD, "rejected": "  "}, "empty rejected answer", "rejected"),
    ({"prompt": "Hi", "chosen": GOOD, "rejected": " " + GOOD + " "}, "same answers", "rejected"),
    ({"prompt": "", "chosen": GOOD, "rejected": BAD}, "empty prompt", "prompt"),
    ({"prompt": None, "chosen": GOOD, "rejected": BAD}, "empty prompt", "prompt"),
    ({"prompt": "Hi", "chosen": 12.5, "rejected": ["not", "messages"]}, "wrong type", "rejected"),
]


def test_each_problem_is_reported_with_its_row_and_column(tmp_path):
    rows = [{"prompt": "Fine", "chosen": GOOD, "rejected": BAD}] + [r for r, _, _ in PROBLEMS]
    loaded = data.load_data(write_jsonl(tmp_path / "pairs.jsonl", rows))
    assert len(loaded.examples) == 1 and loaded.examples[0]["row"] == 1
    found = {p.row: p for p in loaded.problems}
    for i, (_, kind, column) in enumerate(PROBLEMS, start=2):
        assert found[i].kind == kind and found[i].column == column, (i, found.get(i))
        assert f"row {i}" in str(found[i]) and found[i].message
    assert "6 rows set aside" in loaded.summary()


def test_conversations_that_do_not_share_a_prompt_are_reported(tmp_path):
    rows = [{"chosen": conv(GOOD), "rejected": conv(BAD)},
            {"chosen": conv(GOOD), "rejected": conv(BAD, [{"role": "user", "content": "Another question"}])},
            {"chosen": [{"role": "assistant", "content": GOOD}], "rejected": [{"role": "assistant", "content": BAD}]},
            {"chosen": conv(GOOD), "rejected": conv(BAD)[:-1]}]
    loaded = data.load_data(write_jsonl(tmp_path / "pairs.jsonl", rows))
    found = {p.row: p for p in loaded.problems}
    assert found[2].kind == "different prompts" and found[2].column == "rejected"
    assert found[3].kind == "empty prompt" and found[3].column == "chosen"
    assert found[4].kind == "ends with the user" and "ends with the user's turn" in found[4].message
    assert [e["row"] for e in loaded.examples] == [1]


def test_hosted_format_problems_name_the_column(tmp_path):
    ok = FORMATS["preference_hosted"]
    rows = [ok, {**ok, "input": {"messages": []}}, {**ok, "preferred_output": []},
            {**ok, "non_preferred_output": ok["preferred_output"]}]
    loaded = data.load_data(write_jsonl(tmp_path / "pairs.jsonl", rows))
    found = {p.row: (p.kind, p.column) for p in loaded.problems}
    assert found == {2: ("empty prompt", "input"), 3: ("empty chosen answer", "preferred_output"),
                     4: ("same answers", "non_preferred_output")}


def test_a_file_with_no_usable_pair_says_why(tmp_path):
    with pytest.raises(DataError, match="none of its 1 pairs can be used.*row 1"):
        data.load_data(write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": "Hi", "chosen": "x", "rejected": "x"}]))


def test_missing_columns_for_a_chosen_shape_are_named(tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [{"question": "Hi", "chosen": GOOD}])
    with pytest.raises(DataError, match="no column for prompt, rejected"):
        data.load_data(path, shape="preference")


def test_statistics_count_the_cut_on_each_side_and_the_length_bias(tmp_path, tokenizer):
    long = "word " * 80
    rows = [{"prompt": "Hi", "chosen": GOOD + " " + long, "rejected": BAD},  # chosen longer, chosen cut
            {"prompt": "Hi there", "chosen": GOOD, "rejected": BAD + " " + long},  # rejected longer, cut
            {"prompt": "Hello", "chosen": GOOD + " More.", "rejected": BAD}]  # chosen longer, nothing cut
    loaded = data.load_data(write_jsonl(tmp_path / "pairs.jsonl", rows))
    s = data.compute_stats(loaded, tokenizer, 64, loaded.examples, [])
    assert s["kind"] == data.PAIRS and s["usable"] == 3
    assert (s["chosen_cut"], s["rejected_cut"], s["rows_dropped"]) == (1, 1, 0)
    assert s["chosen_longer"] == pytest.approx(2 / 3)
    assert s["chosen_lengths"][0] > 80 > s["rejected_lengths"][0]
    assert all(p > 5 for p in s["prompt_lengths"])  # the chat template's prompt, as DPOTrainer tokenizes it
    findings = " ".join(data.plain_findings(s))
    assert "cuts the chosen answer in 1 pairs and the rejected one in 1" in findings
    rows = [{"prompt": f"Q{i}", "chosen": GOOD + " extra words here", "rejected": BAD} for i in range(10)]
    loaded = data.load_data(write_jsonl(tmp_path / "biased.jsonl", rows))
    s = data.compute_stats(loaded, tokenizer, 256)
    assert s["chosen_longer"] == 1.0
    assert any("longer one in 100% of pairs" in f for f in data.plain_findings(s))


def test_the_demo_set_has_no_length_bias_worth_a_warning(data_dir, tokenizer):
    loaded = data.load_data(data_dir / "polite_replies" / "train.jsonl")
    s = data.compute_stats(loaded, tokenizer, 256)
    assert 0.3 < s["chosen_longer"] < 0.7 and s["chosen_cut"] == s["rejected_cut"] == 0
    assert not any("longer one" in f for f in data.plain_findings(s))


def test_method_and_data_must_go_together():
    assert "DPO learns from pairs" in methods.mismatch("dpo", data.ANSWERS)
    assert "learns from one answer per row" in methods.mismatch("sft", data.PAIRS)
    assert methods.mismatch("dpo", data.PAIRS) is None and methods.mismatch("sft", data.ANSWERS) is None
