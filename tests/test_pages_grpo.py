"""The GRPO walk headless with AppTest: GRPO on the Model page (its own preset), the reward built by clicking on the
Settings page (added, removed, given as YAML, refused when it is not data), the preview of the reward, the live
reward charts, Evaluate check by check, Compare and the report."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import i18n, jobs, report, runs, train
from engine.settings import RunConfig
from apptest import open_page, texts
from conftest import tiny_config

ROOT = Path(__file__).resolve().parents[1]
ORDERS = ROOT / "assets" / "data" / "order_extraction"


def orders_config(method: str = "grpo") -> RunConfig:
    config = RunConfig.from_dict({"method": {"method": method}})
    config.data.train_file, config.data.eval_file = str(ORDERS / "train.jsonl"), str(ORDERS / "test.jsonl")
    return config


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory, tiny_model_dir):
    config = tiny_config(tmp_path_factory.mktemp("grpo-pages"), tiny_model_dir, max_steps=2, batch_size=2,
                         eval_every=2, save_every=100)
    config.method.method = "grpo"
    config.grpo.reward = [{"kind": "length", "max": 48, "unit": "characters", "weight": 1.0},
                          {"kind": "not_contains", "words": ["c"], "weight": 0.5}]
    config.grpo.max_completion_length, config.grpo.eval_prompts = 8, 4
    config.generation.max_new_tokens = 8
    run = runs.create_run(config.validate())
    assert train.train_run(run)["state"] == "finished"
    return run


def test_choosing_grpo_on_the_model_page_applies_its_own_preset():
    at = open_page("model", orders_config("sft"))
    at.radio[1].set_value("grpo")
    at.run()
    assert not at.exception
    config = at.session_state["config"]
    assert config.method.method == "grpo" and config.training.batch_size == 4
    assert config.grpo.num_generations == 4 and config.training.learning_rate == 5e-4
    assert any(s.label == "Start from a finished run" for s in at.selectbox)  # the SFT-then-RL recipe


def test_the_reward_is_built_by_clicking_and_said_as_a_sentence():
    config = orders_config()
    config.grpo.reward = [{"kind": "valid_json", "weight": 1.0}]
    at = open_page("settings", config)
    assert "Checks (GRPO)" in [h.value for h in at.subheader]
    assert "+1 if valid JSON" in texts(at)
    at.selectbox(key="w.grpo.reward.kind").select("json_field")
    at.run()
    at.text_input(key="w.grpo.reward.json_field.field").input("city")
    at.number_input(key="w.grpo.reward.json_field.weight").set_value(2.0)
    at.button(key="w.grpo.reward.add").click()
    at.run()
    assert not at.exception
    assert at.session_state["config"].grpo.reward == [{"kind": "valid_json", "weight": 1.0},
                                                      {"kind": "json_field", "field": "city", "weight": 2.0}]
    assert "+1 if valid JSON, +2 if 'city' matches the expected one" in texts(at)
    at.selectbox(key="w.grpo.reward.kind").select("length")
    at.run()
    at.number_input(key="w.grpo.reward.length.min").set_value(41)
    at.number_input(key="w.grpo.reward.length.weight").set_value(-0.5)
    at.button(key="w.grpo.reward.add").click()
    at.run()
    assert "−0.5 if it is longer than 40 words" in texts(at)
    at.button(key="w.grpo.reward.remove.0").click()
    at.run()
    assert [c["kind"] for c in at.session_state["config"].grpo.reward] == ["json_field", "length"]
    # the same list as YAML; code is refused with the place and the reason, and nothing changes
    at.text_area(key="w.grpo.reward.yaml").input("!!python/object/apply:os.system ['true']")
    at.button(key="w.grpo.reward.apply").click()
    at.run()
    assert any("grpo.reward" in e.value and "not a YAML or JSON list" in e.value for e in at.error)
    assert [c["kind"] for c in at.session_state["config"].grpo.reward] == ["json_field", "length"]
    at.text_area(key="w.grpo.reward.yaml").input("- {kind: contains, words: [sorry, apologise], weight: 1}")
    at.button(key="w.grpo.reward.apply").click()
    at.run()
    assert at.session_state["config"].grpo.reward == [{"kind": "contains", "words": ["sorry", "apologise"],
                                                       "all": False, "weight": 1.0}]
    assert "+1 if it contains one of 'sorry', 'apologise'" in texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Steps"] == "12"  # the quick preset


def test_the_preview_on_the_settings_page_flags_a_reward_with_no_signal(tiny_model_dir):
    config = orders_config()
    config.model.name = str(tiny_model_dir)
    config.grpo.reward = [{"kind": "ends_with", "text": "zzzz-never", "weight": 1.0}]
    config.grpo.max_completion_length = 6
    at = open_page("settings", config)
    next(b for b in at.button if b.label == "Preview the reward").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot tell better answers from worse" in w.value and "GRPO will learn nothing from it" in w.value
               for w in at.warning)
    table = next(d.value for d in at.dataframe if "reward" in d.value.columns)
    assert len(table) == 4 * 4 and set(table["1. it ends with 'zzzz-never'"]) == {"✗"}


def test_train_page_draws_the_reward_charts_of_a_grpo_run(grpo_run):
    at = open_page("train", run_id=grpo_run.id)
    charts = at.get("plotly_chart")
    assert len(charts) >= 9  # loss, learning rate, gradient norm (+ throughput), reward, pass rates, spread, length, KL
    metrics = {m.label: m.value for m in at.metric}
    assert "Validation reward (mean)" in metrics


def test_evaluate_compare_and_report_show_the_checks(grpo_run, finished_tiny_run):
    at = open_page("evaluate", run_id=grpo_run.id)
    at.number_input[0].set_value(4)
    next(b for b in at.button if b.label == "Evaluate").click()
    at.run()
    jobs.EVALS.current() and jobs.EVALS.current().thread.join(300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    summary = at.dataframe[0].value
    assert list(summary.columns[:3]) == ["model", "mean reward", "all checks passed"]
    assert list(summary["model"]) == ["base model", "GRPO-tuned"]
    assert "1. it is at most 48 characters long" in summary.columns
    results = runs.load_results(grpo_run)
    assert list(summary["all checks passed"]) == [i18n.percent(results["base"]["all_pass"]),
                                                  i18n.percent(results["tuned"]["all_pass"])]
    side = at.dataframe[1].value
    assert len(side) == 4 and {"after GRPO", "before", "checks after", "expected"} <= set(side.columns)
    assert "Reward: +1 if it is at most 48 characters long, +0.5 if it avoids 'c'." in texts(at)

    rows = runs.compare([grpo_run, finished_tiny_run])[1]
    row = next(r for r in rows if r["run"] == grpo_run.id)
    assert row["mean reward (tuned)"] == results["tuned"]["reward"] and row["validation reward"] is not None
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception

    html = report.build(grpo_run)
    assert "reinforcement learning from checks (GRPO" in html and "Mean reward" in html
    assert "it is at most 48 characters long" in html
