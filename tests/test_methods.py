"""Every registered method on the tiny model, so that a new method is covered by registering it: a few steps
write its metrics; stop and resume give the losses of an uninterrupted run; a NaN ends it as diverged; its
evaluation runs; its views render in English and French; its presets validate; its export works.

The data each method reads comes from its data kind (engine.data.KINDS), not from its name."""
from __future__ import annotations

import threading

import plotly.graph_objects as go
import pytest

from conftest import dpo_config, labelled_config, tiny_config
from engine import data, export, i18n, methods, runs, train
from engine.evaluate import evaluate_run
from engine.methods.base import VIEWS
from engine.settings import RunConfig
from test_train import AtStep

NAMES = list(methods.METHODS)


def method_config(name: str, tmp_path, model_dir, **training):
    """A tiny config of this method on data of the kind it reads first (80 rows, pairs or labelled answers, a
    held-out part)."""
    method = methods.get(name)
    make = {data.ANSWERS: tiny_config, data.PAIRS: dpo_config, data.LABELLED: labelled_config}[method.data_kind]
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = make(tmp_path, model_dir, **{"max_steps": 6, "save_every": 100, "eval_every": 3, **training})
    config.method.method = name
    config.method.weights = method.weights[0]
    config.generation.max_new_tokens, config.generation.eval_rows = 6, 4
    return config.validate()


def losses(run) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in run.metrics() if "loss" in r}


@pytest.fixture(scope="module", params=NAMES)
def finished(request, tmp_path_factory, tiny_model_dir):
    run = runs.create_run(method_config(request.param, tmp_path_factory.mktemp(request.param), tiny_model_dir))
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


def test_a_few_steps_write_the_methods_metrics(finished):
    method = finished.config().method_info
    records = finished.metrics()
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 7))
    for prefix in method.logged:
        assert any(k.startswith(prefix) for r in records for k in r), prefix
    final = finished.status()["final"]
    assert set(method.final_metrics.values()) <= set(final)
    assert finished.final_dir() is not None


@pytest.mark.parametrize("name", NAMES)
def test_stop_and_resume_give_the_losses_of_an_uninterrupted_run(name, tmp_path, tiny_model_dir):
    straight = runs.create_run(method_config(name, tmp_path / "a", tiny_model_dir, eval_every=100))
    assert train.train_run(straight)["state"] == "finished"
    run = runs.create_run(method_config(name, tmp_path / "b", tiny_model_dir, eval_every=100))
    stop = threading.Event()
    status = train.train_run(run, stop, callbacks=[AtStep(3, lambda model: stop.set())])
    assert status["state"] == "stopped" and status["step"] == 3 and run.can_resume()
    assert train.train_run(run, resume=True)["state"] == "finished"
    got, expected = losses(run), losses(straight)
    assert sorted(got) == list(range(1, 7))
    for step in expected:
        assert got[step] == pytest.approx(expected[step], abs=1e-4), step


@pytest.mark.parametrize("name", NAMES)
def test_a_nan_ends_the_run_as_diverged(name, tmp_path, tiny_model_dir):
    import torch

    def poison(model):
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.fill_(float("nan"))

    run = runs.create_run(method_config(name, tmp_path, tiny_model_dir, save_every=2, eval_every=100))
    status = train.train_run(run, callbacks=[AtStep(3, poison)])
    assert status["state"] == "diverged" and "nan" in status["message"].lower(), status
    assert [p.name for p in run.checkpoints()] == ["checkpoint-2"]  # the last good one


def test_its_evaluation_runs_and_its_views_render_in_english_and_french(finished):
    config = finished.config()
    views = config.method_info.views
    results = evaluate_run(finished, rows=4)
    assert results["method"] == config.method.method and results["rows"] == 4
    assert 0 <= results["general"]["base"] <= 1 and len(results["general_table"]) == 12
    saved = runs.load_results(finished)
    assert {k: v for k, v in saved.items() if k not in ("table", "general_table")} == \
        {k: v for k, v in results.items() if k not in ("table", "general_table")}
    shown = {}
    for lang in ("en", "fr"):
        with i18n.using(lang):
            assert all(isinstance(f, go.Figure) for f in views.live_charts(finished.metrics()))
            assert all(isinstance(f, go.Figure) for f in views.report_charts(finished.metrics()))
            assert isinstance(views.summary_chart(results), go.Figure)
            rows = views.summary_rows(results)
            table = views.side_by_side(results)
            assert len(rows) >= 2 and len(table) == 4
            headline, metrics, examples, columns, what = views.report_parts(results, 3)
            assert headline and "<table>" in metrics and len(examples[0]) == len(columns) and what
            assert views.summary_caption() and views.card_how(config)
            assert isinstance(views.summary_note(results), str) and isinstance(views.report_training(config), str)
            assert set(views.general_columns()) == {"prompt", "base", "base_passed", "tuned", "tuned_passed"}
            for label, value, _help in views.final_figures(finished.status()["final"]):
                assert label and value
            shown[lang] = (list(rows[0]), list(table[0]), headline, views.summary_caption())
    assert all(en != fr for en, fr in zip(shown["en"], shown["fr"]))  # every part is translated
    compare = views.compare_columns(results, finished.status()["final"])
    assert compare and set(compare) <= set(views.compare_formats())


def test_its_export_works_and_the_model_card_names_it(finished, tmp_path):
    config = finished.config()
    if finished.final_dir() == finished.adapter_dir:
        assert export.adapter_zip(finished).stat().st_size > 0
    merged = export.merged_model(finished, tmp_path / "merged")
    card = (merged / "README.md").read_text()
    assert f"fine-tuned, {config.method.method}," in card and config.method_info.views.card_how(config) in card
    assert (merged / "config.json").exists()


@pytest.mark.parametrize("name", NAMES)
def test_its_presets_validate_and_its_views_are_complete(name):
    method = methods.get(name)
    assert {"quick", "balanced", "thorough"} <= set(method.presets)
    for preset in method.presets:
        config = RunConfig.from_dict({"method": {"method": name}, "training": {"preset": preset}}).validate()
        assert config.method.weights in method.weights
        for section, values in method.presets[preset].items():
            for key, value in values.items():
                assert getattr(getattr(config, section), key) == value
    assert not [v for v in VIEWS if not callable(getattr(method.views, v, None))]
    assert set(method.kinds) <= set(data.KINDS) and method.weights
    assert (method.section in RunConfig().to_dict()) if method.section else True
