"""Preference tuning from answers marked good or bad (KTO) on the tiny 2-layer model: the metrics the Train page
polls, held-out good answers gaining and bad ones losing probability, the label forms, the balance of the two
sides (weights, TRL's advice and the warning), pairs trained as good and bad answers, plain messages, a start from
a finished LoRA run, and the CLI with the example config."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine import cli, data, i18n, preflight, runs, train
from engine.evaluate import evaluate_run
from engine.methods.kto import balance
from engine.runs import load_results
from engine.settings import RunConfig
from conftest import dpo_config, labelled_config, tiny_config, write_labelled

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kto_run(tmp_path_factory, tiny_model_dir):
    """A KTO run of the tiny model on 80 answers marked good or bad, trained to the end (10 steps)."""
    run = runs.create_run(labelled_config(tmp_path_factory.mktemp("kto"), tiny_model_dir))
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


def test_a_kto_run_writes_the_metrics_the_train_page_polls(kto_run):
    records = kto_run.metrics()
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 11))
    assert all("kl" in r and "learning_rate" in r for r in steps)
    assert any("rewards/chosen" in r for r in steps) and any("rewards/rejected" in r for r in steps)
    evals = [r for r in records if "eval_loss" in r]
    assert [r["step"] for r in evals] == [0, 5, 10]
    assert all({"eval_rewards/chosen", "eval_rewards/rejected", "eval_rewards/margins", "eval_kl"} <= set(r)
               for r in evals)
    assert evals[0]["eval_rewards/margins"] == 0.0  # before any step the model is its own reference
    assert evals[-1]["eval_rewards/margins"] > 0 and evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    final = kto_run.status()["final"]
    assert final["eval_margin"] > 0 and final["eval_reward_good"] > final["eval_reward_bad"]
    assert (kto_run.adapter_dir / "adapter_model.safetensors").exists()


def test_held_out_good_answers_gain_and_bad_ones_lose_and_the_cli_prints_it(kto_run, capsys):
    assert cli.main(["evaluate", str(kto_run.path)]) == 0
    out = capsys.readouterr().out
    results = load_results(kto_run)
    assert results["kind"] == "labelled" and results["answers"] == 16 and results["good"] == results["bad"] == 8
    assert results["tuned"]["gap"] > results["base"]["gap"]
    # On the tiny model the words both sides share ("I will look at ... today") gain too: what shows the labels is
    # that good answers gained more than bad ones.
    assert results["good_change"] > results["bad_change"] and results["good_gained"] >= 0.75
    assert 0 <= results["bad_lost"] <= 1 and 0 <= results["right_way"] <= 1
    assert results["weights"] == {"good": 1.0, "bad": 1.0, "trained_good": 40, "trained_bad": 40}
    assert results["prompts"] == 16 and all(r["tuned"] is not None for r in results["table"])
    assert "mean log-probability, good answers" in out and "good answers more likely" in out
    assert "everyday questions" in out and len(results["general_table"]) == 12


def test_the_report_and_compare_show_a_kto_run(kto_run, finished_tiny_run):
    from engine import report

    results = load_results(kto_run) if (kto_run.eval_dir / "results.json").exists() else evaluate_run(kto_run)
    html = report.build(kto_run)
    assert "of the good ones became more likely" in html and "mean log-probability of the good answers" in html
    assert "Rewards of good and bad answers" in html and "answers marked good or bad (KTO, beta 0.1" in html
    assert "answers marked good / bad (trained on)" in html and "40 / 40" in html
    rows = runs.compare([kto_run, finished_tiny_run])[1]
    row = next(r for r in rows if r["run"] == kto_run.id)
    assert row["good answers more likely"] == results["good_gained"] and row["validation reward margin"] > 0


def test_every_label_form_trains_and_the_trainer_reads_the_labels(tmp_path, tiny_model_dir):
    forms = [(True, True), ("1", True), ("👍🏼", True), ("good", True), ("up", True),
             (False, False), (0, False), ("👎", False), ("bad", False), ("thumbs down", False)]
    rows = [{"prompt": f"Question {i}", "completion": f"Answer {i}.", "label": value}
            for i, (value, _) in enumerate(forms * 2)]
    path = tmp_path / "forms.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = labelled_config(tmp_path, tiny_model_dir, max_steps=1, eval_every=100)
    config.data.train_file, config.data.eval_file, config.data.val_fraction = str(path), "", 0.0
    trainer, _ = train.build_trainer(runs.create_run(config.validate()))
    assert sorted(trainer.train_dataset["label"]) == sorted(expected for _, expected in forms * 2)


def test_imbalanced_answers_are_weighed_to_balance_as_trl_advises(tmp_path, tiny_model_dir, caplog):
    config = labelled_config(tmp_path, tiny_model_dir, max_steps=1, eval_every=100)
    config.data.train_file = str(write_labelled(tmp_path / "imbalanced.jsonl", 80, 3, good_share=0.75))
    trainer, _ = train.build_trainer(runs.create_run(config))
    assert (trainer.desirable_weight, trainer.undesirable_weight) == (1.0, 3.0)  # 60 good, 20 bad
    assert "don't seem to be in an ideal range" not in caplog.text  # TRL is content
    assert 1 <= balance.ratio(60, 20, 1.0, 3.0) <= 4 / 3
    for good, bad in ((10, 1), (1, 10), (7, 3), (3, 7), (101, 100), (1, 1)):
        desirable, undesirable = balance.balanced(good, bad)
        assert balance.LOW <= balance.ratio(good, bad, desirable, undesirable) <= balance.HIGH, (good, bad)
        assert min(desirable, undesirable) == 1.0  # only the smaller side is raised


def test_the_balance_warning_gives_trls_ranges_before_training(tmp_path, tiny_model_dir, tokenizer, caplog):
    config = labelled_config(tmp_path, tiny_model_dir, max_steps=1, eval_every=100)
    config.data.train_file = str(write_labelled(tmp_path / "imbalanced.jsonl", 80, 3, good_share=0.75))
    config.data.eval_file, config.data.val_fraction = "", 0.0
    config.kto.balance = False
    loaded, rows, val, _ = data.prepare(config.data)
    stats = data.compute_stats(loaded, tokenizer, 128, rows, val)
    advice = preflight.preflight(config, len(rows), stats)["advice"]
    text = str(advice[0])
    assert "60 good and 20 bad answers with the weights 1 (good) and 1 (bad)" in text and "= 3.00" in text
    # The ranges are TRL's own: train with these weights and compare with its warning.
    with caplog.at_level(logging.WARNING):
        train.build_trainer(runs.create_run(config))
    warned = caplog.text.split("desirable_weight in [", 1)[1]
    low, high = warned.split("]", 1)[0].split(", ")
    assert f"between {float(low):g} and {float(high):g}" in text
    ulow, uhigh = warned.split("undesirable_weight in [", 1)[1].split("]", 1)[0].split(", ")
    assert f"between {float(ulow):g} and {float(uhigh):g}" in text
    config.kto.desirable_weight = float(high)
    assert "within the 1 to 1.33 TRL advises" in str(preflight.preflight(config, len(rows), stats)["advice"][0])
    config.kto.balance = True
    balanced = str(preflight.preflight(config, len(rows), stats)["advice"][0])
    assert "each good answer 1 and each bad one 3" in balanced
    with i18n.using("fr"):
        assert "bonne" in i18n.render(advice[0]) or "bonnes" in i18n.render(advice[0])


def test_pairs_train_as_a_good_and_a_bad_answer_each(tmp_path, tiny_model_dir, tokenizer):
    config = dpo_config(tmp_path, tiny_model_dir, max_steps=2, eval_every=100)
    config.method.method = "kto"
    run = runs.create_run(config.validate())
    trainer, _ = train.build_trainer(run)
    labels = trainer.train_dataset["label"]
    assert len(labels) == 160 and sum(labels) == 80  # 80 pairs
    assert set(labels[:8]) == {True, False}  # shuffled once: batches mix good and bad answers
    assert (trainer.desirable_weight, trainer.undesirable_weight) == (1.0, 1.0)
    del trainer
    assert train.train_run(run)["state"] == "finished"
    loaded, rows, val, _ = data.prepare(config.data)
    stats = data.compute_stats(loaded, tokenizer, 128, rows, val)
    check = preflight.preflight(config, len(rows), stats)
    assert "reads each of your 80 training pairs as two answers" in str(check["advice"][0])
    config.training.max_steps, config.training.epochs = 0, 1.0
    assert preflight.preflight(config, len(rows), stats)["steps"] == 160 // 4  # two answers a pair, batch 4
    results = evaluate_run(run, rows=4)
    assert results["rows"] == 4 and results["answers"] == 8 and results["good"] == 4 and results["prompts"] == 4


def test_plain_messages_for_a_batch_of_one_and_for_answers_without_labels(tmp_path, tiny_model_dir):
    status = train.train_run(runs.create_run(labelled_config(tmp_path / "a", tiny_model_dir, batch_size=1)))
    assert status["state"] == "failed" and "set the batch size to 2 or more" in status["message"]
    (tmp_path / "b").mkdir()
    config = tiny_config(tmp_path / "b", tiny_model_dir)
    config.method.method = "kto"
    config.method.weights = "lora"
    status = train.train_run(runs.create_run(config.validate()))
    assert status["state"] == "failed" and status["message"].startswith("KTO learns from answers marked good or bad")


def test_kto_starts_from_a_finished_lora_run_with_it_as_reference(tmp_path, tiny_model_dir, finished_tiny_run):
    config = labelled_config(tmp_path, tiny_model_dir, max_steps=3, eval_every=100, save_every=3)
    config.method.start_from = finished_tiny_run.id
    run = runs.create_run(config)
    trainer, _ = train.build_trainer(run)
    assert set(trainer.model.peft_config) == {"default", "ref"}  # TRL's frozen copy of the starting adapter
    del trainer
    assert train.train_run(run)["state"] == "finished"
    assert not (run.adapter_dir / "ref").exists()
    results = evaluate_run(run, rows=4)
    assert results["started_from"] == finished_tiny_run.id


def test_cli_trains_the_example_config(tmp_path, tiny_model_dir, capsys):
    yaml_path = ROOT / "assets" / "configs" / "support_feedback.yaml"
    config = RunConfig.load(yaml_path)
    assert config.method.method == "kto" and config.kto.balance and config.training.max_steps == 30
    held = write_labelled(tmp_path / "held.jsonl", 8, 3)  # a short held-out file keeps the tiny run quick
    code = cli.main(["train", str(yaml_path), "--model.name", str(tiny_model_dir), "--training.max_steps", "2",
                     "--data.eval_file", str(held), "--training.eval_every", "2", "--training.batch_size", "2",
                     "--kto.beta", "0.2"])
    out = capsys.readouterr().out
    assert code == 0 and "step 2/2" in out and "finished" in out
    run = runs.get_run(out.split("Run ", 1)[1].split()[0])
    assert run.config().kto.beta == 0.2 and run.status()["final"]["eval_margin"] is not None
