"""The second half of the walk, headless with AppTest: Evaluate, Chat, Compare runs and Export."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import evaluate, jobs, runs

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, run_id: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    if run_id:
        at.session_state["run_id"] = run_id
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_evaluate_page_runs_an_evaluation_and_shows_the_side_by_side_table(finished_tiny_run):
    at = open_page("evaluate", finished_tiny_run.id)
    assert at.selectbox[0].value == finished_tiny_run.id
    at.number_input[0].set_value(4)
    at.button[0].click()  # Evaluate
    at.run()
    assert jobs.EVALS.current() is not None or runs.load_results(finished_tiny_run)
    jobs.EVALS.current() and jobs.EVALS.current().thread.join(300)
    at.run()
    assert not at.exception
    summary = at.dataframe[0].value
    assert list(summary["model"])[0] == "base" and list(summary["model"])[-1] == "fine-tuned"
    side = at.dataframe[1].value
    assert len(side) == 4
    assert {"prompt", "expected", "fine-tuned", "base", "prompting baseline", "✓ tuned"} <= set(side.columns)
    assert set(side["✓ tuned"]) <= {"✓", "✗"}
    assert any("Everyday questions" in m.value for m in at.markdown)


def test_evaluate_page_cancel_button_stops_a_running_evaluation(finished_tiny_run):
    at = open_page("evaluate", finished_tiny_run.id)
    at.number_input[0].set_value(40)
    at.button[0].click()
    at.run()
    assert [b.label for b in at.button] == ["Cancel"]
    at.button[0].click()
    at.run()
    job = jobs.EVALS._job
    job.thread.join(300)
    at.run()
    assert any("cancelled" in e.value for e in at.error)


def test_chat_page_answers_with_both_models(finished_tiny_run):
    at = open_page("chat", finished_tiny_run.id)
    at.chat_input[0].set_value("My parcel never arrived").run()
    assert not at.exception, [e.value for e in at.exception]
    messages = at.chat_message
    assert [m.name for m in messages] == ["user", "assistant", "user", "assistant"]
    history = at.session_state["chat"][finished_tiny_run.id]
    assert history[0]["user"] == "My parcel never arrived"
    assert history[0]["tuned"].strip()  # the tuned tiny model learned words; the random base may say only newlines
    assert isinstance(history[0]["base"], str)


def test_chat_shows_html_from_the_user_as_text(finished_tiny_run):
    at = open_page("chat", finished_tiny_run.id)
    at.chat_input[0].set_value("<img src=x onerror=alert(1)>").run()
    assert not at.exception
    shown = [el for m in at.chat_message if m.name == "user" for el in m.children.values()]
    assert any(getattr(el, "value", "") == "<img src=x onerror=alert(1)>" and el.type == "text" for el in shown)


def fake_run(name: str, lr: float, loss: float):
    from engine.settings import RunConfig

    config = RunConfig(name=name).apply_preset("quick")
    config.data.train_file = str(ROOT / "assets/data/ticket_routing/train.csv")
    config.training.learning_rate = lr
    run = runs.create_run(config)
    for step in (1, 2, 3):
        run.append_metrics({"step": step, "loss": loss / step, "elapsed_s": step, "remaining_s": 0})
    run.append_metrics({"step": 3, "eval_loss": loss / 3, "elapsed_s": 3, "remaining_s": 0})
    run.set_status("finished", step=3, max_steps=3, final={"steps": 3, "eval_loss": loss / 3, "train_loss": loss,
                                                            "runtime_s": 30, "first_eval_loss": loss})
    return run


def test_compare_page_overlays_curves_and_marks_differing_settings():
    a, b = fake_run("cmp-a", 1e-3, 3.0), fake_run("cmp-b", 3e-3, 2.0)
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    at.multiselect[0].set_value([a.id, b.id]).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    results = at.dataframe[0].value
    assert list(results["run"]) == [a.id, b.id]
    assert list(results["validation loss"]) == ["1.000", "0.667"]  # written the language's way
    differing = at.dataframe[1].value
    assert "training.learning_rate" in set(differing["setting"])
    assert "training.batch_size" not in set(differing["setting"])  # same in both, hidden by the toggle


def test_export_page_offers_downloads_builds_the_report_and_explains_offline_hub(finished_tiny_run):
    if runs.load_results(finished_tiny_run) is None:
        evaluate.evaluate_run(finished_tiny_run, rows=4)
    at = open_page("export", finished_tiny_run.id)
    labels = [d.label for d in at.get("download_button")]
    assert "Download the LoRA adapter (zip)" in labels and "Download the settings (YAML)" in labels
    assert any("accelerate launch -m engine train" in c.value for c in at.code)
    next(b for b in at.button if b.label == "Build the report").click()
    at.run()
    assert not at.exception
    assert "Download the report (HTML)" in [d.label for d in at.get("download_button")]
    assert Path(at.session_state["report"]).exists()
    repo = next(t for t in at.text_input if t.label == "Repository")
    repo.input("me/my-model")
    next(t for t in at.text_input if t.label.startswith("Access token")).input("hf_fake")
    next(b for b in at.button if b.label == "Upload").click()
    at.run()
    assert not at.exception
    assert any("Could not reach the Hugging Face Hub" in e.value or "refused the token" in e.value
               for e in at.error)
