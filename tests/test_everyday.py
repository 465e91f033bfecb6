"""Keep everyday skills: the starting model's own answers to everyday questions mixed into training."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, tiny_config
from engine import everyday, preflight, runs, train


def test_the_practice_questions_are_not_the_checks_questions():
    check = {p["prompt"].lower() for p in json.loads((ROOT / "assets/eval/general.json").read_text())["prompts"]}
    practice = [p.lower() for p in everyday.prompts()]
    assert len(practice) == len(set(practice)) == 40
    assert not check & set(practice)


def test_how_many_rows_are_mixed_in():
    assert everyday.rows_to_add(0.1, 300) == 30
    assert everyday.rows_to_add(0.1, 3) == 1  # at least one when on
    assert everyday.rows_to_add(0.5, 10_000) == 40  # at most one per practice question
    assert everyday.rows_to_add(0.0, 300) == 0
    assert everyday.rows_to_add(0.1, 300, applies=False) == 0  # a method that learns pairs


def test_the_shipped_answers_are_the_embedded_models_own(default_dir):
    """Greedy answers are what the model finds likeliest: their loss under the embedded model is low, and much
    lower than the same answers given to the wrong questions."""
    from engine import models
    from engine.scoring import answer_loss

    shipped = json.loads(everyday.SHIPPED_FILE.read_text())
    assert shipped["prompts"] == everyday.prompts() and all(a.strip() for a in shipped["answers"])
    assert everyday.cached_answers("default") == shipped["answers"]
    model, tokenizer, _ = models.load("default")

    def loss(answers):
        return answer_loss(model, tokenizer, [{"prompt": [{"role": "user", "content": p}],
                                               "completion": [{"role": "assistant", "content": a}]}
                                              for p, a in zip(everyday.prompts(), answers)])

    own = loss(shipped["answers"])
    mismatched = loss(shipped["answers"][1:] + shipped["answers"][:1])
    assert own < 1.2 and mismatched > 1.5 * own, (own, mismatched)  # measured 0.91 and 1.98


def test_a_run_mixes_them_in_caches_them_and_resumes_on_the_same_ones(tmp_path, tiny_model_dir, monkeypatch):
    """The tiny model's own answers are mostly empty, so generation is stood in for by known answers here; the
    real answers of the embedded model are checked above."""
    import threading

    from test_train import AtStep

    answers = [f"Everyday answer {i}." for i in range(40)]
    calls = []
    monkeypatch.setattr(everyday, "generate_answers", lambda model, tokenizer: calls.append(1) or answers)
    everyday.cache_file(str(tiny_model_dir)).unlink(missing_ok=True)
    seen = {}
    from engine import data

    real_to_hf = data.to_hf

    def to_hf(rows):  # the first call gets the training rows, the second the validation rows
        seen.setdefault("rows", rows)
        return real_to_hf(rows)

    monkeypatch.setattr(data, "to_hf", to_hf)
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, everyday_share=0.25, save_every=100))
    stop = threading.Event()
    status = train.train_run(run, stop, callbacks=[AtStep(3, lambda model: stop.set())])
    assert status["state"] == "stopped", status
    mixed = [r for r in seen["rows"] if r.get("everyday")]
    assert len(mixed) == 8 and len(seen["rows"]) == 32 + 8  # 40 rows, 20% held out, a quarter of 32 added
    assert [(r["prompt"][0]["content"], r["completion"][0]["content"]) for r in mixed] == \
        list(zip(everyday.prompts(), answers))[:8]
    assert json.loads((run.path / everyday.RUN_FILE).read_text()) == mixed
    assert everyday.cached_answers(str(tiny_model_dir)) == answers and calls == [1]

    # Another run of the same model reads the cache; the resume reads its own folder, even with the cache gone.
    assert train.train_run(runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=1)))["state"] == "finished"
    assert calls == [1]
    everyday.cache_file(str(tiny_model_dir)).unlink()
    seen.clear()
    assert train.train_run(run, resume=True)["state"] == "finished"
    assert [r for r in seen["rows"] if r.get("everyday")] == mixed and calls == [1]


def test_none_at_zero(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, everyday_share=0.0, max_steps=1)
    run = runs.create_run(config)
    assert train.train_run(run)["state"] == "finished"
    assert not (run.path / everyday.RUN_FILE).exists()


def test_the_estimate_counts_the_rows_and_the_writing(tmp_path, tiny_model_dir, monkeypatch):
    stats = {"mean": 60, "longest": 90, "val_rows": 8}
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=0, epochs=1.0, batch_size=4, everyday_share=0.5)
    monkeypatch.setattr(everyday, "cached_answers", lambda *a, **k: None)
    check = preflight.preflight(config, 32, stats)
    assert check["everyday_rows"] == 16 and check["steps"] == 12  # (32 + 16) rows / 4
    assert not check["everyday_cached"]
    monkeypatch.setattr(everyday, "cached_answers", lambda *a, **k: ["an answer"] * 40)
    cached = preflight.preflight(config, 32, stats)
    assert cached["everyday_cached"] and cached["seconds"] < check["seconds"]
    config.training.everyday_share = 0.0
    assert preflight.preflight(config, 32, stats)["steps"] == 8


def test_advice_when_it_forgot_and_the_report_says_what_was_mixed_in(tmp_path, tiny_model_dir):
    from engine import report
    from engine.i18n import render

    assert everyday.forgetting_advice(0.1, {"base": 0.58, "tuned": 0.5}) is None  # within one question
    assert "this run used 10%" in render(everyday.forgetting_advice(0.1, {"base": 0.58, "tuned": 0.17}))
    assert "was off" in render(everyday.forgetting_advice(0.0, {"base": 0.58, "tuned": 0.17}))
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=1, everyday_share=0.25))
    assert everyday.mixed_in(run) == 0 and "everyday" not in report.plain_settings(run)
    (run.path / everyday.RUN_FILE).write_text(json.dumps(everyday.examples(["An answer."] * 40, 8)))
    assert everyday.mixed_in(run) == 8
    assert "mixed in 8 of the starting model's own answers" in report.plain_settings(run)


def test_a_hub_model_is_never_fetched_to_look_for_its_answers(monkeypatch):
    from engine import models

    monkeypatch.setattr(models, "download", lambda *a, **k: pytest.fail("downloaded"))
    assert everyday.cached_answers("Qwen/Qwen2.5-0.5B-Instruct") is None
    assert everyday.cache_file("Qwen/Qwen2.5-0.5B-Instruct") != everyday.cache_file("org/other-model")
