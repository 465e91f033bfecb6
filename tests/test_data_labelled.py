"""Answers marked good or bad (thumbs up/down, unpaired): the label forms people export, detected like the other
shapes, problems by row and column, the balance of the two sides and what the statistics say about it."""
from __future__ import annotations

import json

import pytest

from engine import data
from engine.data import DataError, labelled


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD_FORMS = [True, 1, 1.0, "true", "True", "1", "+1", "yes", "good", "Good", "up", "thumbs up", "thumbs_up",
              "positive", "like", "👍", "👍🏽", "👍️", ":+1:", ":thumbsup:"]
BAD_FORMS = [False, 0, -1, "false", "FALSE", "0", "-1", "no", "bad", "down", "thumbs down", "negative", "dislike",
             "👎", "👎🏿", ":-1:"]


@pytest.mark.parametrize("value", GOOD_FORMS + BAD_FORMS)
def test_every_label_form_is_read(value):
    assert labelled.read_label(value) is (value in GOOD_FORMS)


def test_labels_that_are_not_labels_are_not_guessed():
    for value in (2, 0.5, "maybe", "👌", "", [True], "thumbs sideways"):
        assert labelled.read_label(value) is None, value


def test_a_thumbs_file_is_detected_and_mapped(tmp_path):
    rows = [{"prompt": "Where is my parcel?", "completion": "It arrives tomorrow.", "label": "👍"},
            {"prompt": "Where is my parcel?", "completion": "Dunno.", "label": "👎"},
            {"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}],
             "label": True}]
    loaded = data.load_data(write_jsonl(tmp_path / "thumbs.jsonl", rows), system_prompt="Be kind.")
    assert loaded.kind == data.LABELLED and loaded.shape == "labelled" and not loaded.problems
    first = loaded.examples[0]
    assert first["prompt"] == [{"role": "system", "content": "Be kind."},
                               {"role": "user", "content": "Where is my parcel?"}]
    assert first["completion"] == [{"role": "assistant", "content": "It arrives tomorrow."}]
    assert [e["label"] for e in loaded.examples] == [True, False, True]
    assert data.preview_rows(loaded)[1] == {"row": 2, "prompt": "Where is my parcel?", "answer": "Dunno.",
                                            "label": "👎", "system": "Be kind."}


def test_other_column_names_and_a_csv_export(tmp_path):
    path = tmp_path / "feedback.csv"
    path.write_text("question,response,thumbs\nHow do I reset?,Use the link.,up\nHow do I reset?,No idea,down\n",
                    encoding="utf-8")
    loaded = data.load_data(path)
    assert loaded.kind == data.LABELLED and [e["label"] for e in loaded.examples] == [True, False]
    path = tmp_path / "plain.csv"  # no label column: one answer per row, as before
    path.write_text("prompt,completion\nHi,Hello\n", encoding="utf-8")
    assert data.load_data(path).kind == data.ANSWERS


def test_each_problem_is_reported_with_its_row_and_column(tmp_path):
    ok = {"prompt": "Hi", "completion": "Hello", "label": "good"}
    rows = [ok, {**ok, "label": "maybe"}, {**ok, "label": None}, {**ok, "label": "  "}, {**ok, "completion": ""},
            {**ok, "prompt": ""}, {**ok, "completion": 3.5, "label": 7}]
    loaded = data.load_data(write_jsonl(tmp_path / "bad.jsonl", rows))
    assert [e["row"] for e in loaded.examples] == [1]
    found = {(p.row, p.column): p.kind for p in loaded.problems}
    assert found == {(2, "label"): "unknown label", (3, "label"): "empty label", (4, "label"): "empty label",
                     (5, "completion"): "empty answer", (6, "prompt"): "empty prompt", (7, "label"): "unknown label"}
    assert "row 2, column 'label': the label 'maybe' is not one the studio reads" in str(loaded.problems[0])
    with pytest.raises(DataError, match="none of its 1 rows can be used.*row 1, column 'label'"):
        data.load_data(write_jsonl(tmp_path / "none.jsonl", [{**ok, "label": "?"}]))


def test_pairs_read_as_labelled_answers():
    pair = {"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}],
            "rejected": [{"role": "assistant", "content": "What."}], "row": 4}
    good, bad = labelled.from_pairs([pair])
    assert good == {"prompt": pair["prompt"], "completion": pair["chosen"], "label": True, "row": 4}
    assert bad["completion"] == pair["rejected"] and bad["label"] is False


def rows_of(good: int, bad: int, good_text="Happy to help, it arrives tomorrow.", bad_text="No idea, sorry."):
    return ([{"prompt": f"Question {i}", "completion": good_text, "label": 1} for i in range(good)] +
            [{"prompt": f"Question {good + i}", "completion": bad_text, "label": 0} for i in range(bad)])


def test_statistics_count_the_two_sides_on_the_training_rows(tmp_path, tokenizer):
    loaded = data.load_data(write_jsonl(tmp_path / "a.jsonl", rows_of(30, 10)))
    s = data.compute_stats(loaded, tokenizer, 256, loaded.examples[:36], loaded.examples[36:])
    assert s["kind"] == data.LABELLED and (s["good"], s["bad"]) == (30, 6)  # the training rows only
    assert s["good_share"] == pytest.approx(30 / 36) and s["good_median"] > 0 and s["bad_median"] > 0
    findings = [str(f) for f in data.plain_findings(s)]
    assert any("30 answers are marked good and 6 bad (83% good): the smaller side needs a larger weight" in f
               for f in findings)
    s = data.compute_stats(loaded, tokenizer, 256)  # no split: every row counts
    assert (s["good"], s["bad"]) == (30, 10)


def test_findings_name_a_missing_side_conflicts_and_a_length_bias(tmp_path, tokenizer):
    only_good = data.load_data(write_jsonl(tmp_path / "g.jsonl", rows_of(60, 0)))
    findings = " ".join(str(f) for f in data.plain_findings(data.compute_stats(only_good, tokenizer, 256)))
    assert "All 60 answers are marked good" in findings
    same = {"prompt": "Question 1", "completion": "Happy to help, it arrives tomorrow."}
    rows = rows_of(30, 30, bad_text="Whatever.") + [{**same, "label": 0}]
    loaded = data.load_data(write_jsonl(tmp_path / "c.jsonl", rows))
    s = data.compute_stats(loaded, tokenizer, 256)
    findings = " ".join(str(f) for f in data.plain_findings(s))
    assert s["conflicts"] == 1 and "1 answers are marked both good and bad" in findings
    assert "Good answers are longer than bad ones" in findings
    balanced = data.load_data(write_jsonl(tmp_path / "b.jsonl", rows_of(30, 30)))
    findings = " ".join(str(f) for f in data.plain_findings(data.compute_stats(balanced, tokenizer, 256)))
    assert "weight" not in findings and "longer" not in findings


def test_a_labelled_answer_renders_as_the_model_reads_it(tmp_path, tokenizer):
    loaded = data.load_data(write_jsonl(tmp_path / "a.jsonl", rows_of(1, 1)))
    (label, shown), = data.render_sides(loaded, tokenizer, loaded.examples[1], 256)
    assert label == "bad answer 👎" and "No idea, sorry." in shown["answer_text"]
    assert "Question 1" in shown["prompt_text"]


def test_the_demo_answers_are_detected(data_dir):
    train = data.load_data(data_dir / "support_feedback" / "train.jsonl")
    held = data.load_data(data_dir / "support_feedback" / "test.jsonl")
    assert train.kind == held.kind == data.LABELLED and not train.problems and not held.problems
    assert (len(train.examples), len(held.examples)) == (300, 80)
    assert 0.55 < sum(e["label"] for e in train.examples) / 300 < 0.75  # imbalanced, as real feedback is
    assert all(e["completion"][0]["content"].startswith(("Sorry", "I'm sorry")) for e in train.examples if e["label"])

    def question(e):
        text = e["prompt"][-1]["content"]
        return text.split(", ", 1)[-1].split(". ", 1)[-1].split(": ", 1)[-1].lower()

    assert not {question(e) for e in train.examples} & {question(e) for e in held.examples}
