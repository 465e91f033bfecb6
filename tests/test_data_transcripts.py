"""Preference pairs in the forms people download: Anthropic's HH-RLHF transcripts ("\\n\\nHuman: ...\\n\\nAssistant:
..." strings, multi-turn, the two sides sharing all but the last answer) and its common variants, and the
UltraFeedback forms (prompt with chosen/rejected message lists, with or without scores, and the binarized
variants). Every row written here in the published layouts; each is parsed or reported by row and column."""
from __future__ import annotations

import json

import pytest

from engine import data
from engine.data import transcripts


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def hh(*turns: str) -> str:
    """A transcript in HH-RLHF's own form: every turn after a blank line, Human and Assistant alternating."""
    return "".join(f"\n\n{'Human' if i % 2 == 0 else 'Assistant'}: {turn}" for i, turn in enumerate(turns))


SHARED = ["What can I do about a noisy neighbour?", "Have you tried talking to them?", "Yes, twice. It didn't help."]
CHOSEN = "You could write to your landlord, or ask the council about mediation."
REJECTED = "Play louder music than them."


def test_hh_rows_are_read_as_conversations_with_the_shared_beginning_as_the_prompt(tmp_path):
    rows = [{"chosen": hh(*SHARED, CHOSEN), "rejected": hh(*SHARED, REJECTED)},  # multi-turn
            {"chosen": hh("Hi", "Hello! How can I help?"), "rejected": hh("Hi", "What.")}]
    loaded = data.load_data(write_jsonl(tmp_path / "hh.jsonl", rows))
    assert loaded.kind == data.PAIRS and loaded.shape == "preference_transcripts" and not loaded.problems
    first = loaded.examples[0]
    assert first["prompt"] == [{"role": "user", "content": SHARED[0]}, {"role": "assistant", "content": SHARED[1]},
                               {"role": "user", "content": SHARED[2]}]
    assert first["chosen"] == [{"role": "assistant", "content": CHOSEN}]
    assert first["rejected"] == [{"role": "assistant", "content": REJECTED}]
    assert rows[0]["chosen"].startswith("\n\nHuman: ")  # the leading blank line of the published form
    assert loaded.examples[1]["prompt"] == [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("human, assistant, sep", [("User", "Assistant", "\n\n"), ("### Human", "### Assistant", "\n"),
                                                   ("### Human", "### Assistant", "\n\n"), ("Human", "Assistant", "")])
def test_the_common_marker_variants_are_read(tmp_path, human, assistant, sep):
    def text(answer):
        return f"{sep}{human}: {SHARED[0]}{sep or chr(10) * 2}{assistant}: {answer}"
    loaded = data.load_data(write_jsonl(tmp_path / "v.jsonl", [{"chosen": text(CHOSEN), "rejected": text(REJECTED)}]))
    assert loaded.examples[0]["prompt"] == [{"role": "user", "content": SHARED[0]}]
    assert loaded.examples[0]["chosen"][0]["content"] == CHOSEN


def test_a_marker_inside_an_answers_text_is_not_a_turn():
    answer = ("Label the lines like this:\nHuman: the person\nAssistant: the bot\nand the words Human: or "
              "Assistant: mid-sentence stay text.")
    turns = transcripts.parse(hh("How do I write a dialogue?", answer))
    assert [t["role"] for t in turns] == ["user", "assistant"] and turns[1]["content"] == answer
    # A blank line inside an answer is fine too, as long as the next line is not a speaker.
    turns = transcripts.parse(hh("List three", "One.\n\nTwo.\n\nThree."))
    assert turns[1]["content"] == "One.\n\nTwo.\n\nThree."
    assert transcripts.parse("Some preface\n\nHuman: hi\n\nAssistant: hello") is None
    assert transcripts.parse("\r\n\r\nHuman: hi\r\n\r\nAssistant: hello") == [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


HH_PROBLEMS = [  # (row, expected kind, expected column, words the message says)
    ({"chosen": hh("Hi", "Hello"), "rejected": hh("Hey there", "What")}, "different prompts", "rejected",
     "differ at message 1"),
    ({"chosen": hh(*SHARED, CHOSEN), "rejected": hh(SHARED[0], "Something else", SHARED[2], REJECTED)},
     "different prompts", "rejected", "differ at message 2"),
    ({"chosen": hh("Hi", "Hello", "Are you there?"), "rejected": hh("Hi", "What")}, "ends with the user", "chosen",
     "ends with the user's turn"),
    ({"chosen": hh("Hi", "Hello"), "rejected": hh("Hi", "Hello", "Bye")}, "ends with the user", "rejected",
     "ends with the user's turn"),
    ({"chosen": hh("Hi", "Hello"), "rejected": hh("Hi", "")}, "empty rejected", "rejected", "non-empty"),
    ({"chosen": hh("Hi", "Hello"), "rejected": hh("Hi", "Hello")}, "same answers", "rejected", "are the same"),
    ({"chosen": "Hi, hello", "rejected": hh("Hi", "What")}, "no speaker markers", "chosen", "'Human:'"),
    ({"chosen": hh("", "Hello"), "rejected": hh("", "What")}, "empty prompt", "chosen", "no user message"),
]


def test_each_hh_problem_is_reported_with_its_row_and_column(tmp_path):
    rows = [{"chosen": hh("Hi", "Hello"), "rejected": hh("Hi", "What")}] + [r for r, *_ in HH_PROBLEMS]
    loaded = data.load_data(write_jsonl(tmp_path / "hh.jsonl", rows))
    assert [e["row"] for e in loaded.examples] == [1]
    found = {p.row: p for p in loaded.problems}
    for i, (_, kind, column, words) in enumerate(HH_PROBLEMS, start=2):
        assert found[i].kind == kind and found[i].column == column, (i, found.get(i))
        assert f"row {i}, column '{column}'" in str(found[i]) and words in str(found[i]), str(found[i])
    assert f"{len(HH_PROBLEMS)} rows set aside" in loaded.summary()


def test_a_prompt_column_in_transcript_form_gives_the_turns(tmp_path):
    """Processed HH variants: prompt "\\n\\nHuman: ...\\n\\nAssistant:" with the answers as plain texts."""
    row = {"prompt": hh(*SHARED) + "\n\nAssistant:", "chosen": " " + CHOSEN, "rejected": " " + REJECTED}
    loaded = data.load_data(write_jsonl(tmp_path / "p.jsonl", [row]))
    e = loaded.examples[0]
    assert loaded.shape == "preference" and [m["content"] for m in e["prompt"]] == SHARED
    assert e["chosen"][0]["content"].strip() == CHOSEN


# ---------------------------------------------------------------- UltraFeedback forms

def conversation(prompt, answer):
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


Q = "Write a haiku about rain."
GOOD, BAD = "Soft rain on the roof / the garden drinks its fill / puddles hold the sky", "Rain is wet."


def test_ultrafeedback_binarized_rows_are_read(tmp_path):
    """HuggingFaceH4/ultrafeedback_binarized: prompt, prompt_id, chosen and rejected as whole conversations,
    messages, score_chosen, score_rejected."""
    row = {"prompt": Q, "prompt_id": "abc", "chosen": conversation(Q, GOOD), "rejected": conversation(Q, BAD),
           "messages": conversation(Q, GOOD), "score_chosen": 8.5, "score_rejected": 3.0}
    loaded = data.load_data(write_jsonl(tmp_path / "uf.jsonl", [row]))
    assert loaded.kind == data.PAIRS and loaded.shape == "preference" and not loaded.problems
    e = loaded.examples[0]
    assert e["prompt"] == [{"role": "user", "content": Q}] and e["chosen"][0]["content"] == GOOD
    assert e["rejected"][0]["content"] == BAD


def test_ultrafeedback_without_a_prompt_column_and_without_scores(tmp_path):
    """trl-lib/ultrafeedback_binarized: chosen and rejected conversations only (TRL's implicit prompt)."""
    loaded = data.load_data(write_jsonl(tmp_path / "uf.jsonl", [{"chosen": conversation(Q, GOOD),
                                                                 "rejected": conversation(Q, BAD)}]))
    assert loaded.shape == "preference_messages" and loaded.examples[0]["prompt"][-1]["content"] == Q


def test_argilla_binarized_preferences_are_read(tmp_path):
    """argilla/ultrafeedback-binarized-preferences: instruction, chosen_response, rejected_response and ratings;
    the cleaned variant: prompt, chosen and rejected conversations, chosen-rating and rejected-rating."""
    row = {"source": "evol", "instruction": Q, "chosen_response": GOOD, "chosen_avg_rating": 4.5,
           "chosen_model": "a", "rejected_response": BAD, "rejected_avg_rating": 2.0, "rejected_model": "b"}
    loaded = data.load_data(write_jsonl(tmp_path / "a.jsonl", [row]))
    assert loaded.shape == "preference" and loaded.examples[0]["prompt"][0]["content"] == Q
    cleaned = {"source": "evol", "prompt": Q, "chosen": conversation(Q, GOOD), "chosen-rating": 5,
               "rejected": conversation(Q, BAD), "rejected-rating": 1}
    loaded = data.load_data(write_jsonl(tmp_path / "c.jsonl", [cleaned]))
    assert loaded.examples[0]["chosen"][0]["content"] == GOOD and not loaded.problems


def test_scores_that_disagree_with_the_pair_are_reported(tmp_path):
    ok = {"prompt": Q, "chosen": conversation(Q, GOOD), "rejected": conversation(Q, BAD), "score_chosen": 9,
          "score_rejected": 2}
    rows = [ok, {**ok, "score_chosen": 5, "score_rejected": 5}, {**ok, "score_chosen": 2, "score_rejected": 9},
            {**ok, "score_chosen": None, "score_rejected": None}]
    loaded = data.load_data(write_jsonl(tmp_path / "s.jsonl", rows))
    found = {p.row: p for p in loaded.problems}
    assert found[2].kind == "tied scores" and found[2].column == "score_rejected" and "score 5" in str(found[2])
    assert found[3].kind == "scores disagree" and "look swapped" in str(found[3])
    assert [e["row"] for e in loaded.examples] == [1, 4]  # a row without scores is taken as it is


def test_conversations_that_differ_before_the_answer_in_a_prompt_file_are_reported(tmp_path):
    row = {"prompt": Q, "chosen": conversation(Q, GOOD), "rejected": conversation("Another question", BAD)}
    loaded = data.load_data(write_jsonl(tmp_path / "d.jsonl", [row, {**row, "rejected": conversation(Q, BAD)}]))
    assert loaded.problems[0].row == 1 and loaded.problems[0].kind == "different prompts"


def test_an_hh_pair_renders_both_sides_as_the_model_reads_them(tmp_path, tokenizer):
    loaded = data.load_data(write_jsonl(tmp_path / "hh.jsonl", [{"chosen": hh(*SHARED, CHOSEN),
                                                                 "rejected": hh(*SHARED, REJECTED)}]))
    sides = data.render_sides(loaded, tokenizer, loaded.examples[0], 256)
    assert [label for label, _ in sides] == ["chosen (preferred)", "rejected"]
    (_, chosen), (_, rejected) = sides
    assert chosen["prompt_text"] == rejected["prompt_text"]  # the same prompt, read twice
    assert all(turn in chosen["prompt_text"] for turn in SHARED) and "Human:" not in chosen["prompt_text"]
    assert CHOSEN in chosen["answer_text"] and REJECTED in rejected["answer_text"]
