"""Answers as long and as shaped as the data's: the answer length measured from the training answers (and
recorded by the run), and answers shown with their line breaks and indentation in chat, evaluation and report."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from engine import evaluate, generation, methods, report, runs
from engine.chat import ChatModels
from engine.markup import answer_markdown
from engine.settings import RunConfig

ROOT = Path(__file__).resolve().parents[1]
CODE = "def f(x):\n    return x\n"
NBSP = "\xa0"


def rendered(markdown: str) -> str:
    """The HTML a CommonMark renderer (as Streamlit's) makes of the Markdown."""
    return MarkdownIt("commonmark").render(markdown)


def shows_code(html: str) -> bool:
    """The answer `CODE` shows on two lines, the second indented by four spaces."""
    return "def f(x):<br />\n" + NBSP * 4 + "return x" in html


def code_rows(n: int) -> list[dict]:
    """Instruction/input/output rows whose outputs are short programs without Markdown fences (as Code Alpaca)."""
    rows = []
    for i in range(n):
        body = "".join(f"    total_{k} = numbers[{k}] * {i + k} + {k}\n" for k in range(12 + i % 5))
        rows.append({"instruction": f"Write a function number {i} that sums weighted numbers.", "input": "",
                     "output": f"def weighted_sum_{i}(numbers):\n{body}    return total_0\n"})
    return rows


def label_rows(n: int) -> list[dict]:
    return [{"instruction": f"Route ticket {i}: my parcel is late.", "input": "", "output": "shipping"}
            for i in range(n)]


def config_for(tmp_path: Path, rows: list[dict], model_dir, name: str) -> RunConfig:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = RunConfig(name=name)
    config.data.train_file, config.model.name = str(path), str(model_dir)
    config.training.max_length = 1024
    return config


# ---------------------------------------------------------------- the answer length

def test_the_answer_length_rule_percentile_margin_and_bounds():
    assert generation.answer_tokens({"kind": "answers", "answer_lengths": [3] * 100}) == 16  # at least 16
    lengths = list(range(1, 201))  # the 95th percentile is 190: 190 × 1.25 + 8
    assert generation.answer_tokens({"kind": "answers", "answer_lengths": lengths}) == 246
    assert generation.answer_tokens({"kind": "answers", "answer_lengths": [2000] * 10}) == 512  # capped
    # a few very long answers above the 95th percentile do not decide the length
    assert generation.answer_tokens({"kind": "answers", "answer_lengths": [40] * 96 + [3000] * 4}) == 58
    assert generation.answer_tokens({"kind": "prompts", "answer_lengths": [2] * 50}) == generation.NO_ANSWERS


def test_short_answers_give_a_short_length_code_answers_a_longer_one(tmp_path, tiny_model_dir):
    short = runs.measured_answer_tokens(config_for(tmp_path, label_rows(40), tiny_model_dir, "labels"))
    code = runs.measured_answer_tokens(config_for(tmp_path, code_rows(40), tiny_model_dir, "code"))
    assert short == 16
    assert 200 < code <= 512, code  # the programs are ~150-250 tokens: none would be cut as at 64
    longest = runs.measured_answer_tokens(config_for(tmp_path, [{**r, "output": r["output"] * 6} for r in
                                                                code_rows(20)], tiny_model_dir, "long"))
    assert longest == 512


def test_a_number_set_wins_and_the_recorded_number_is_used_without_reading_the_data(tmp_path, tiny_model_dir):
    config = config_for(tmp_path, code_rows(10), tiny_model_dir, "set")
    config.data.train_file = str(tmp_path / "gone.jsonl")  # nothing may read the data below
    config.generation.max_new_tokens = 40
    run = runs.create_run(config, root=tmp_path / "runs")
    assert runs.answer_settings(run).max_new_tokens == 40
    config.generation.max_new_tokens = 0
    recorded = runs.create_run(config, root=tmp_path / "runs", run_id="recorded")
    recorded.set_status("finished", answer_tokens=77)
    assert runs.answer_settings(recorded).max_new_tokens == 77
    assert generation.resolve(config.generation, 77).max_new_tokens == 77
    assert generation.resolve(dataclasses.replace(config.generation, max_new_tokens=9), 77).max_new_tokens == 9


def test_an_old_run_folder_with_64_keeps_64(tmp_path, tiny_model_dir):
    """A run written before the length was measured: its config.yaml says 64 and its status has no number."""
    config = config_for(tmp_path, code_rows(10), tiny_model_dir, "old")
    run = runs.create_run(config, root=tmp_path / "runs", run_id="old")
    text = run.config_path.read_text(encoding="utf-8").replace("max_new_tokens: 0", "max_new_tokens: 64")
    run.config_path.write_text(text, encoding="utf-8")
    run.set_status("finished", step=12)
    assert "answer_tokens" not in run.status()
    assert runs.answer_settings(run).max_new_tokens == 64
    # and a run left to its data but never recorded is measured from the data when asked
    fresh = runs.create_run(config, root=tmp_path / "runs", run_id="fresh")
    assert runs.answer_settings(fresh).max_new_tokens == runs.measured_answer_tokens(config) > 64


def test_training_records_the_measured_length_and_evaluation_and_chat_use_it(finished_tiny_run, monkeypatch):
    config = finished_tiny_run.config()
    assert config.generation.max_new_tokens == 0  # the default: from the data
    recorded = finished_tiny_run.status()["answer_tokens"]
    assert recorded == runs.measured_answer_tokens(config)

    seen = {}
    real_get = methods.get

    class Stop(Exception):
        pass

    def spy(run, config, *args, **kwargs):
        seen["tokens"] = config.generation.max_new_tokens
        raise Stop

    monkeypatch.setattr(methods, "get", lambda name: dataclasses.replace(real_get(name), evaluate=spy))
    with pytest.raises(Stop):
        evaluate.evaluate_run(finished_tiny_run, rows=2)
    assert seen["tokens"] == recorded

    pair = ChatModels(finished_tiny_run)
    assert pair.answer_tokens == recorded
    usage = {}
    settings = dataclasses.replace(config.generation, max_new_tokens=0)
    list(pair.stream([{"role": "user", "content": "My parcel is late."}], settings, "base", usage=usage))
    assert 0 < usage["completion_tokens"] <= recorded
    assert f"up to {recorded} tokens long, measured from the answers" in report.answers_sentence(finished_tiny_run)


def test_the_settings_page_says_the_length_from_the_data_and_a_number_set_wins():
    from engine import data, models

    config = RunConfig().apply_preset("quick")
    config.data.train_file = str(ROOT / "assets/data/ticket_routing/train.csv")
    loaded, train_rows, val_rows, _ = data.prepare(config.data)
    tokenizer = models.load_tokenizer(models.resolve("default"))
    expected = generation.answer_tokens(data.compute_stats(loaded, tokenizer, config.training.max_length,
                                                           train_rows, val_rows))
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=180)
    at.session_state["config"] = config
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.caption]
    assert any(f"From your data: {expected} tokens" in c for c in captions), captions
    next(n for n in at.number_input if n.label == "Max new tokens").set_value(100)
    at.run()
    assert any("Answers stop at 100 tokens" in c.value for c in at.caption)


# ---------------------------------------------------------------- answers shown with their shape

def test_answer_markdown_keeps_lines_and_indentation_and_reads_nothing_as_markup():
    assert shows_code(rendered(answer_markdown(CODE)))
    html = rendered(answer_markdown("**not bold** <b>x</b> # no title\n\n* no list\n1. no list\n`no code`"))
    assert "<strong>" not in html and "<b>" not in html and "<h1>" not in html and "<li>" not in html
    assert "**not bold** &lt;b&gt;x&lt;/b&gt; # no title" in html and "`no code`" in html
    assert html.count("<br />") == 4  # the empty line is kept as a line
    assert "a" + " " + NBSP * 2 + "b" in rendered(answer_markdown("a   b"))  # repeated spaces kept


def test_chat_page_shows_a_code_answer_on_its_lines(finished_tiny_run, monkeypatch):
    def stream(self, messages, settings, which="tuned", stop=None, usage=None):
        yield from ["def f(x):\n", "    return", " x\n"]

    monkeypatch.setattr(ChatModels, "stream", stream)
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.session_state["run_id"] = finished_tiny_run.id
    at.switch_page("pages/chat.py")
    at.run()
    at.chat_input[0].set_value("Write f").run()
    assert not at.exception, [e.value for e in at.exception]

    def answers():
        return [el.value for m in at.chat_message if m.name == "assistant" for el in m.children.values()
                if el.type == "markdown"]

    shown = answers()
    assert len(shown) == 2 and all(shows_code(rendered(a)) for a in shown), shown
    assert at.session_state["chat"][finished_tiny_run.id][-1]["tuned"] == CODE.strip()
    at.run()  # the conversation drawn again from the history
    assert len(answers()) == 2 and all(shows_code(rendered(a)) for a in answers())
    tokens = finished_tiny_run.status()["answer_tokens"]
    assert any(f"From your data: {tokens} tokens" in c.value for c in at.caption)


def with_code_answer(real):
    def load(run):
        results = real(run)
        results["table"][0]["tuned"] = CODE
        return results
    return load


def test_evaluate_page_shows_a_row_in_full_with_its_lines(finished_tiny_run, monkeypatch):
    if not runs.load_results(finished_tiny_run):
        evaluate.evaluate_run(finished_tiny_run, rows=4)
    monkeypatch.setattr(runs, "load_results", with_code_answer(runs.load_results))
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.session_state["run_id"] = finished_tiny_run.id
    at.switch_page("pages/evaluate.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    picker = next(s for s in at.selectbox if s.label == "See a row in full")
    assert picker.value == 0
    assert any(shows_code(rendered(m.value)) for m in at.markdown)


def test_report_keeps_a_code_answer_on_its_lines(finished_tiny_run, monkeypatch):
    if not runs.load_results(finished_tiny_run):
        evaluate.evaluate_run(finished_tiny_run, rows=4)
    monkeypatch.setattr(report, "load_results", with_code_answer(report.load_results))
    text = report.build(finished_tiny_run)
    assert "<pre>def f(x):\n    return x\n</pre>" in text
    assert "pre{white-space:pre-wrap" in text


def test_report_answer_cells_escape_html():
    from engine.markup import answer_cell

    assert answer_cell("<script>x</script>\n  y") == "<pre>&lt;script&gt;x&lt;/script&gt;\n  y</pre>"

