"""Evaluation, prompting baseline, chat and the stakeholder report, on the tiny model."""
from __future__ import annotations

import json
import re

import pytest

from engine import evaluate, report, scoring
from engine.methods.sft import evaluate as sft_evaluate
from engine.runs import load_results
from engine.chat import ChatModels
from engine.settings import GenerationSettings


@pytest.mark.parametrize("prediction, reference, em, f1", [
    ("team: billing | priority: high", "team: billing | priority: high", 1.0, 1.0),
    ("  team: billing |\n priority: high ", "team: billing | priority: high", 1.0, 1.0),  # white space folded
    ("Team: billing | priority: high", "team: billing | priority: high", 0.0, 1.0),  # case counts for EM only
    # pred words: team billing priority low; ref: team billing priority high -> 3 common
    ("team: billing | priority: low", "team: billing | priority: high", 0.0, 0.75),
    # pred: the cat (2), ref: the cat sat down (4): common 2, P=1, R=0.5, F1=2/3
    ("the cat", "the cat sat down", 0.0, 2 / 3),
    ("", "something", 0.0, 0.0),
    ("", "", 1.0, 1.0),
])
def test_exact_match_and_token_f1_by_hand(prediction, reference, em, f1):
    assert scoring.exact_match(prediction, reference) == em
    assert scoring.token_f1(prediction, reference) == pytest.approx(f1)


def test_score_averages_over_rows():
    scores = scoring.score(["a b", "x", "c"], ["a b", "y", "c d"])
    assert scores["exact_match"] == pytest.approx(1 / 3)
    assert scores["token_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)


def example(prompt, answer, system=None):
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return {"prompt": msgs, "completion": [{"role": "assistant", "content": answer}], "row": 1}


def test_few_shot_prompt_puts_training_rows_before_the_question():
    shots = [example("q1", "a1", "sys"), example("q2", "a2", "sys")]
    prompt = scoring.few_shot_prompt(shots, example("held-out question", "secret answer", "sys"))
    assert [m["role"] for m in prompt] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in prompt] == ["sys", "q1", "a1", "q2", "a2", "held-out question"]
    assert "secret answer" not in json.dumps(prompt)


def test_prompting_baseline_uses_training_rows_only(finished_tiny_run, monkeypatch):
    from engine import data

    config = finished_tiny_run.config()
    _, train_rows, val_rows, _ = data.prepare(config.data)
    train_texts = {e["prompt"][-1]["content"] for e in train_rows} | {e["completion"][0]["content"] for e in train_rows}
    val_prompts = {e["prompt"][-1]["content"] for e in val_rows}
    seen = []
    real_generate = sft_evaluate.generate

    def spy(model, tokenizer, prompts, settings, **kw):
        seen.append(prompts)
        return real_generate(model, tokenizer, prompts, settings, **kw)

    monkeypatch.setattr(sft_evaluate, "generate", spy)
    results = evaluate.evaluate_run(finished_tiny_run, rows=4)
    few_shot = seen[1]  # base, prompting baseline, general check, tuned, general check
    assert len(few_shot) == 4
    for prompt, row in zip(few_shot, val_rows[:4]):
        shots, question = prompt[:-1], prompt[-1]
        assert question["content"] == row["prompt"][-1]["content"]
        assert len(shots) == 6 and all(m["content"] in train_texts for m in shots)
        assert not any(m["content"] in val_prompts for m in shots)
    assert results["rows"] == 4 and results["shots"] == 3
    for key in ("base", "prompted", "tuned"):
        assert 0 <= results[key]["exact_match"] <= 1
    assert results["base"]["loss"] > 0 and results["tuned"]["perplexity"] > 1
    assert len(results["general_table"]) == 12
    saved = load_results(finished_tiny_run)
    assert saved["rows"] == 4 and len(saved["table"]) == 4 and saved["table"][0]["expected"]


def test_evaluation_can_be_cancelled(finished_tiny_run):
    import threading

    stop = threading.Event()
    stop.set()
    with pytest.raises(evaluate.Cancelled):
        evaluate.evaluate_run(finished_tiny_run, rows=4, stop=stop)


def test_chat_streams_and_the_base_answer_is_the_base_models(finished_tiny_run, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from engine import models

    pair = ChatModels(finished_tiny_run)
    settings = GenerationSettings(max_new_tokens=8)
    messages = [{"role": "user", "content": "My parcel is late."}]
    pieces = list(pair.stream(messages, settings, "tuned"))
    assert len(pieces) >= 1 and "".join(pieces).strip()
    base_answer = pair.answer(messages, settings, "base")
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    expected = scoring.generate(plain, models.load_tokenizer(tiny_model_dir), [messages], settings)[0]
    assert base_answer == expected


def test_report_is_self_contained_with_the_charts_data_and_examples(finished_tiny_run):
    evaluate.evaluate_run(finished_tiny_run, rows=4)
    path = report.save(finished_tiny_run)
    text = path.read_text(encoding="utf-8")
    # No network: no external scripts, styles, fonts or images. (The inlined plotly.js bundle mentions URLs in
    # its code, e.g. map tiles; nothing loads them for these charts, so only the page's own markup is checked.)
    assert not re.search(r"<script[^>]+src=", text)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert "<link" not in markup and "@import" not in markup and "url(" not in markup
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", markup)
    assert text.count("Plotly.newPlot") >= 2  # the loss curves and the length histogram, interactive
    losses = [r["loss"] for r in finished_tiny_run.metrics() if "loss" in r]
    assert json.dumps(losses[0])[:8] in text  # the chart carries the logged values
    table = load_results(finished_tiny_run)["table"]
    assert any(row["prompt"][:30].replace("'", "&#x27;") in text for row in table)
    assert "prompting baseline" in text and "exact match" in text


def test_report_escapes_html_from_the_data(finished_tiny_run, monkeypatch):
    results = load_results(finished_tiny_run) or {}
    if not results:
        evaluate.evaluate_run(finished_tiny_run, rows=4)
    real = load_results

    def hostile(run):
        results = real(run)
        results["table"][0]["prompt"] = "<script>alert('x')</script>"
        return results

    monkeypatch.setattr(report, "load_results", hostile)
    text = report.build(finished_tiny_run)
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
