"""The DPO walk headless with AppTest: the demo pairs on the Dataset page, DPO on the Model page (with its own
preset), its settings, the live preference charts, Evaluate, Compare and the report."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import evaluate, i18n, jobs, report, runs
from engine.settings import RunConfig
from apptest import open_page, texts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "assets" / "data" / "polite_replies"


def pairs_config(method: str = "dpo") -> RunConfig:
    config = RunConfig.from_dict({"method": {"method": method}})
    config.data.train_file, config.data.eval_file = str(PAIRS / "train.jsonl"), str(PAIRS / "test.jsonl")
    return config


def test_the_demo_pairs_on_the_dataset_page(tokenizer):
    at = open_page("dataset")
    at.selectbox[0].select("polite_replies")
    at.run()
    assert not at.exception
    assert "300 usable examples out of 300 rows" in at.success[0].value
    assert "prompt / chosen / rejected" in at.success[0].value
    assert "Choose a method that learns from them on the Model page" in texts(at)  # the method is still SFT
    preview = at.dataframe[0].value
    assert {"prompt", "chosen", "rejected"} <= set(preview.columns)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Chosen answer is the longer one"].endswith("%")
    assert metrics["Chosen answers cut by max length"] == "0"


def test_choosing_dpo_on_the_model_page_applies_its_own_preset():
    config = pairs_config("sft")
    assert config.training.learning_rate == 2e-3 and config.training.minutes == 2.0  # SFT's quick preset
    at = open_page("model", config)
    at.radio[1].set_value("dpo")  # what it learns from (the first radio chooses where the model comes from)
    at.run()
    assert not at.exception
    config = at.session_state["config"]
    assert config.method.method == "dpo" and config.training.learning_rate == 7e-4
    assert config.training.max_steps == 14 and config.training.minutes == 0  # DPO's preset is in steps
    assert config.method.weights == "lora"
    assert len(at.radio[2].options) == 2 and at.radio[2].value == "lora"  # the weights DPO can train: LoRA, QLoRA
    assert any(s.label == "Start from a finished run" for s in at.selectbox)
    assert any(s.value.startswith("LORA: Fits") for s in at.success)


def test_settings_page_shows_the_dpo_form_and_the_preflight():
    at = open_page("settings", pairs_config())
    assert not at.exception
    assert "Preference (DPO)" in [h.value for h in at.subheader]
    assert any(n.label == "Beta" for n in at.number_input)
    assert "DPO needs a lower rate" in texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Steps"] == "14"


def test_train_page_draws_the_preference_charts_of_a_dpo_run(finished_dpo_run):
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.query_params["run"] = finished_dpo_run.id
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 6  # loss, learning rate, throughput, gradient norm, margin, accuracy, rewards
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Validation preference accuracy"].endswith("%")


def test_evaluate_compare_and_report_show_the_preference_figures(finished_dpo_run, finished_tiny_run):
    at = open_page("evaluate", run_id=finished_dpo_run.id)
    at.number_input[0].set_value(8)
    at.button[0].click()
    at.run()
    jobs.EVALS.current() and jobs.EVALS.current().thread.join(300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    summary = at.dataframe[0].value
    assert list(summary.columns[:3]) == ["model", "preference accuracy", "mean margin"]
    assert list(summary["model"]) == ["base model", "DPO-tuned"]
    results = runs.load_results(finished_dpo_run)
    assert results["rows"] == 8 and list(summary["preference accuracy"]) == [
        i18n.percent(results["base"]["accuracy"]), i18n.percent(results["tuned"]["accuracy"])]  # as the page writes them
    side = at.dataframe[1].value
    assert len(side) == 8 and {"after DPO", "before", "chosen (preferred)", "rejected"} <= set(side.columns)
    assert any("Everyday questions" in m.value for m in at.markdown)

    rows = runs.compare([finished_dpo_run, finished_tiny_run])[1]
    dpo_row = next(r for r in rows if r["run"] == finished_dpo_run.id)
    assert dpo_row["preference accuracy (tuned)"] == results["tuned"]["accuracy"]
    assert dpo_row["validation reward accuracy"] is not None
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception

    html = report.build(finished_dpo_run)
    assert "prefers the better answer" in html and "preference accuracy" in html
    assert "Reward margin" in html and "preference tuning (DPO" in html
