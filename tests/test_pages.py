"""Each studio page, run headless with Streamlit's AppTest through the real entry point (studio.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import jobs, runs
from engine.settings import RunConfig
from apptest import texts

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["home", "dataset", "model", "settings", "train", "runs"]
TICKETS = str(ROOT / "assets/data/ticket_routing/train.csv")


def open_page(page: str, config: RunConfig | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=180)
    if config is not None:
        at.session_state["config"] = config
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def ticket_config(**training) -> RunConfig:
    config = RunConfig().apply_preset("quick")
    config.data.train_file = TICKETS
    config.data.eval_file = str(ROOT / "assets/data/ticket_routing/test.csv")
    for key, value in training.items():
        setattr(config.training, key, value)
    return config


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_defaults(page):
    at = open_page(page)
    no_traceback(at)
    assert at.title, page
    # The Runs page shows the newest run, which an earlier test may have left failed: that status is expected.
    statuses = ("Failed:", "Diverged:", "Interrupted:")
    assert not [e.value for e in at.error if not e.value.startswith(statuses)], [e.value for e in at.error]


def test_home_shows_the_steps_and_the_guide():
    at = open_page("home")
    assert "Is fine-tuning the right tool" in at.expander[0].label
    assert "retrieval" in texts(at)


def test_choosing_a_demo_dataset_shows_its_report_and_statistics():
    at = open_page("dataset")
    at.selectbox[0].select("ticket_routing")
    at.run()
    no_traceback(at)
    assert "300 usable examples out of 300 rows" in at.success[0].value
    assert "instruction / input / output" in at.success[0].value
    assert at.session_state["config"].data.train_file.endswith("ticket_routing/train.csv")
    assert at.session_state["config"].data.eval_file.endswith("ticket_routing/test.csv")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows cut by max length"] == "0"
    assert len(at.get("plotly_chart")) == 2  # token histogram and row quality


def test_an_uploaded_file_with_bad_rows_lists_them_and_keeps_the_good_ones():
    at = open_page("dataset")
    at.radio[0].set_value("upload")
    at.run()
    bad = b"instruction,input,output\nSay hi,,hello\nAdd,1+1,\nRoute,,team: billing\n"
    at.file_uploader[0].upload("my tickets.csv", bad, "text/csv")
    at.run()
    no_traceback(at)
    assert "2 usable examples out of 3 rows" in at.warning[0].value
    table = at.dataframe[0].value
    assert list(table["row"]) == [2] and list(table["column"]) == ["output"]
    assert "empty answer" in list(table["problem"])
    saved = Path(at.session_state["config"].data.train_file)
    assert saved.name == "my-tickets.csv" and saved.parent.name == "uploads"


def test_a_file_no_row_of_which_can_be_used_gives_a_message_not_a_traceback():
    at = open_page("dataset")
    at.radio[0].set_value("upload")
    at.run()
    at.file_uploader[0].upload("empty.jsonl", b"\n\n", "application/json")
    at.run()
    no_traceback(at)
    assert any("empty.jsonl" in e.value and "no data rows" in e.value for e in at.error)


def test_model_page_shows_the_device_and_a_memory_verdict():
    at = open_page("model")
    no_traceback(at)
    assert "This machine" in at.info[0].value
    table = at.dataframe[0].value
    assert list(table["weights"]) == ["LORA", "QLORA", "FULL"]  # the weights the chosen method can train
    assert table.loc[table["weights"] == "QLORA", "verdict"].item() in ("not here", "ok", "tight", "too big")
    assert any(s.value.startswith("LORA: Fits") for s in at.success)


def test_model_page_refuses_a_folder_that_is_not_a_model(tmp_path):
    at = open_page("model")
    at.radio[0].set_value("folder")
    at.run()
    at.text_input[0].input(str(tmp_path))
    at.run()
    no_traceback(at)
    assert any("config.json" in e.value for e in at.error)


def test_settings_form_rejects_an_out_of_range_value():
    at = open_page("settings", ticket_config())
    lr = next(n for n in at.number_input if n.label == "Learning rate")
    lr.set_value(5.0)
    at.run()
    no_traceback(at)
    errors = [e.value for e in at.error]
    assert any("training.learning_rate: 5.0 is above the maximum. Allowed range: 1e-07 to 0.1." in e
               for e in errors)
    assert at.session_state["config"].training.learning_rate == 2e-3  # the bad value is not kept
    assert any("Fix 1 setting(s)" in e for e in errors)


def test_settings_presets_change_the_values_and_preflight_is_shown():
    from engine import preflight, runs

    at = open_page("settings", ticket_config())
    no_traceback(at)
    metrics = {m.label: m.value for m in at.metric}
    config = at.session_state["config"]
    train_rows, stats = runs.data_statistics(config)
    planned = preflight.plan_for(config, len(train_rows), stats)  # the same plan as the page's
    assert metrics["Steps"] == str(planned["steps"]) and "Estimated time" in metrics and "Memory" in metrics
    plan_text = next(i.value for i in at.info if "The plan for 2 minutes:" in i.value)
    assert f"{planned['steps']} steps" in plan_text and "330 examples" in plan_text  # 300 rows + 30 everyday
    at.radio[0].set_value("balanced")
    at.run()
    config = at.session_state["config"]
    assert config.training.preset == "balanced" and config.training.minutes == 6.0
    assert any("The plan for 6 minutes:" in i.value for i in at.info)

    # Steps given in the form turn the time budget off, and its field shows 0 instead of writing 6 back.
    next(n for n in at.number_input if n.label == "Max steps").set_value(25)
    at.run()
    no_traceback(at)
    config = at.session_state["config"]
    assert (config.training.max_steps, config.training.minutes) == (25, 0.0)
    assert next(n for n in at.number_input if n.label == "Time budget (minutes)").value == 0.0
    assert {m.label: m.value for m in at.metric}["Steps"] == "25"
    assert not any("The plan for" in i.value for i in at.info)


def test_train_page_starts_a_run_and_refuses_a_second(tiny_model_dir):
    manager = jobs.MANAGER
    config = ticket_config(max_steps=400, eval_every=1000, save_every=1000, batch_size=2, max_length=128)
    config.model.name = str(tiny_model_dir)
    at = open_page("train", config)
    at.button[0].click()  # Start training
    at.run()
    no_traceback(at)
    job = manager.current()
    assert job is not None and job.run.id == at.session_state["run_id"]
    assert any("is training" in m.value for m in at.markdown)
    assert at.get("progress") or any("Loading" in i.value or "running" in i.value for i in at.info)

    other = open_page("train", config)  # a second tab: sees the run, offers Stop, not Start
    assert any(job.run.id in m.value for m in other.markdown)
    assert [b.label for b in other.button] == ["Stop"]
    with pytest.raises(jobs.JobBusy):
        manager.start(runs.create_run(config))
    other.button[0].click()
    other.run()
    result = manager.wait(180)
    assert result["state"] == "stopped"
    at.run()
    no_traceback(at)
    assert any("Stopped by you" in w.value for w in at.warning)
    assert any(b.label == "Resume from the last checkpoint" for b in at.button)


def test_runs_page_lists_runs_and_opens_one():
    run = runs.create_run(ticket_config())
    run.append_metrics({"step": 1, "loss": 2.0, "learning_rate": 1e-3, "elapsed_s": 1, "remaining_s": 1})
    run.append_metrics({"step": 2, "loss": 1.0, "eval_loss": 1.5, "elapsed_s": 2, "remaining_s": 0})
    run.set_status("finished", step=2, max_steps=2, final={"steps": 2, "eval_loss": 1.5, "first_eval_loss": 3.0,
                                                            "train_loss": 1.5, "runtime_s": 60})
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=180)
    at.run()
    at.session_state["run_id"] = run.id
    at.switch_page("pages/runs.py")
    at.run()
    no_traceback(at)
    table = at.dataframe[0].value
    row = table[table["run"] == run.id].iloc[0]
    assert row["status"] == "finished" and row["steps"] == "2/2" and row["validation loss"] == "1.500"
    assert at.selectbox[0].value == run.id
    assert any("Finished" in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric}["Validation loss"] == "1.500"
    assert len(at.get("plotly_chart")) >= 2
