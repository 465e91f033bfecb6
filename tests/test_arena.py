"""The arena's engine: blind duels on the tiny model, votes kept in the run folder, the tally with its interval,
the preference pairs the votes make (read back as pairs by the data reader and by `python -m engine check`), and
the arena's part of the stakeholder report."""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import arena, data, runs
from engine.chat import ChatModels
from engine.settings import GenerationSettings, RunConfig

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = GenerationSettings(max_new_tokens=12, repetition_penalty=1.3)  # the tiny base model says words


@pytest.fixture
def run(finished_tiny_run, tmp_path):
    """A copy of the finished tiny run, so each test starts with no votes."""
    copy = finished_tiny_run.path.parent / f"arena-{tmp_path.name}"
    shutil.copytree(finished_tiny_run.path, copy)
    yield runs.Run(copy)
    shutil.rmtree(copy, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded():
    cache = {}
    return lambda r: cache.setdefault(r.id, ChatModels(r))


def test_a_duel_answers_with_both_models_in_a_random_order(run, loaded):
    found = arena.contenders(run, arena.BASE, loaded)
    assert set(found) == {run.id, arena.BASE}
    messages = arena.typed_prompt(run, "My printer is broken")
    orders = set()
    for seed in range(6):
        duel = arena.new_duel(found, messages, SETTINGS, rng=random.Random(seed))
        orders.add(duel["models"]["A"])
        for slot in "AB":
            chat, which = found[duel["models"][slot]]
            assert duel["answers"][slot] == chat.answer(messages, SETTINGS, which)
    assert orders == {run.id, arena.BASE}  # each model was A at least once
    assert duel["answers"]["A"] != duel["answers"]["B"]
    with pytest.raises(arena.ArenaError):
        arena.contenders(run, run.id, loaded)
    with pytest.raises(arena.ArenaError, match="Type a prompt"):
        arena.typed_prompt(run, "   ")


def test_held_out_prompts_are_the_runs_validation_rows(run):
    _, _, val_rows, _ = data.prepare(run.config().data)
    prompts = arena.held_out_prompts(run)
    assert [p["row"] for p in prompts] == [e["row"] for e in val_rows] and prompts
    assert prompts[0]["messages"] == val_rows[0]["prompt"]


def duel(run, a: str, b: str, prompt: str, answers=("first answer", "second answer")) -> dict:
    return {"id": f"{prompt}-{a}", "time": 0, "prompt": [{"role": "user", "content": prompt}], "row": None,
            "models": {"A": a, "B": b}, "answers": dict(zip("AB", answers))}


def test_votes_are_kept_once_and_survive_a_torn_line(run):
    first = arena.record_vote(run, duel(run, run.id, "base", "p1"), "A")
    assert arena.record_vote(run, duel(run, run.id, "base", "p1"), "B") == first  # same duel: no second vote
    with open(arena.votes_path(run), "a") as fh:
        fh.write('{"id": "torn", "vo')  # a crash in the middle of a line
    arena.record_vote(run, duel(run, "base", run.id, "p2"), "tie")
    votes = arena.load_votes(run)
    assert [v["vote"] for v in votes] == ["A", "tie"]
    with pytest.raises(arena.ArenaError):
        arena.record_vote(run, duel(run, run.id, "base", "p3"), "C")


def test_two_tabs_and_another_process_voting_at_once_lose_no_vote(run):
    def tab(n):
        for i in range(15):
            arena.record_vote(run, duel(run, run.id, "base", f"tab{n}-{i}"), "A")

    script = ("import sys; sys.path.insert(0, sys.argv[1]); from engine import arena, runs\n"
              "run = runs.Run(sys.argv[2])\n"
              "for i in range(15): arena.record_vote(run, {'id': f'proc-{i}', 'time': 0, 'prompt': [{'role': 'user', "
              "'content': 'x' * 5000}], 'row': None, 'models': {'A': 'base', 'B': run.id}, 'answers': "
              "{'A': 'y' * 5000, 'B': 'z'}}, 'B')")
    other = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(run.path)])
    threads = [threading.Thread(target=tab, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.wait(120) == 0
    votes = arena.load_votes(run)
    assert len(votes) == 45 and len({v["id"] for v in votes}) == 45


def test_wilson_interval():
    low, high = arena.wilson(7, 10)
    assert round(low, 4) == 0.3968 and round(high, 4) == 0.8922
    assert arena.wilson(0, 0) == (None, None)
    assert arena.wilson(10, 10)[1] == pytest.approx(1.0) and arena.wilson(0, 5)[0] == pytest.approx(0.0)
    assert arena.wilson(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)


def test_the_tally_counts_each_models_wins_over_decisive_votes(run):
    votes = ["A", "A", "B", "tie", "bad", "A"]
    for i, vote in enumerate(votes):
        a, b = (run.id, "base") if i % 2 == 0 else ("base", run.id)
        arena.record_vote(run, duel(run, a, b, f"q{i}"), vote)
    # the run was A in votes 0, 2, 4 (A wins, B wins -> base, both bad) and B in 1, 3, 5 (A -> base, tie, A -> base)
    rows = {r["model"]: r for r in arena.tally(arena.load_votes(run), (run.id, "base"))}
    assert (rows[run.id]["wins"], rows[run.id]["losses"]) == (1, 3)
    assert (rows["base"]["wins"], rows["base"]["losses"]) == (3, 1)
    assert rows["base"]["win_rate"] == 0.75 and rows["base"]["ties"] == 1 and rows["base"]["both_bad"] == 1
    assert rows["base"]["votes"] == 6
    assert rows["base"]["low"] < 0.75 < rows["base"]["high"]
    assert arena.tally(arena.load_votes(run), (run.id, "base"))[0]["model"] == "base"  # best first


def test_votes_make_pairs_the_data_reader_and_check_take_as_preference_data(run, tiny_model_dir, tmp_path):
    arena.record_vote(run, duel(run, run.id, "base", "Route: printer broken", ("Team: IT", "Loan Loan")), "A")
    arena.record_vote(run, duel(run, "base", run.id, "Route: invoice wrong", ("Loan", "Team: billing")), "B")
    arena.record_vote(run, duel(run, "base", run.id, "Route: late parcel", ("Loan", "Team: shipping")), "tie")
    arena.record_vote(run, duel(run, "base", run.id, "Route: hello", ("Loan", "Hi")), "bad")
    arena.record_vote(run, duel(run, "base", run.id, "Route: same", ("Same", "Same ")), "A")
    arena.record_vote(run, duel(run, "base", run.id, "Route: empty", ("", "Team: IT")), "B")
    system = {"id": "sys", "time": 0, "prompt": [{"role": "system", "content": "Route tickets."},
                                                 {"role": "user", "content": "Route: password"}],
              "row": 3, "models": {"A": "base", "B": run.id}, "answers": {"A": "x", "B": "Team: IT"}}
    arena.record_vote(run, system, "B")
    made = arena.make_pairs(run)
    assert (made["pairs"], made["ties"], made["both_bad"], made["same_answers"], made["empty"]) == (3, 1, 1, 1, 1)
    assert "Preference pairs written: 3" in arena.pairs_summary(made)
    rows = [json.loads(line) for line in Path(made["path"]).read_text().splitlines()]
    assert rows[0] == {"prompt": "Route: printer broken", "chosen": "Team: IT", "rejected": "Loan Loan"}
    assert rows[1]["chosen"] == "Team: billing" and rows[2]["prompt"][0]["role"] == "system"
    loaded = data.load_data(made["path"])
    assert loaded.kind == "pairs" and len(loaded.examples) == 3 and not loaded.problems

    config = RunConfig.from_dict({"method": {"method": "dpo"}})
    config.data.train_file, config.model.name = made["path"], str(tiny_model_dir)
    config.save(tmp_path / "pairs.yaml")
    done = subprocess.run([sys.executable, "-m", "engine", "check", str(tmp_path / "pairs.yaml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "3 usable examples out of 3 rows" in done.stdout and "pairs: median tokens" in done.stdout


def test_no_pairs_without_a_decisive_vote(run):
    arena.record_vote(run, duel(run, run.id, "base", "p"), "tie")
    with pytest.raises(arena.ArenaError, match="No vote says which answer is better"):
        arena.make_pairs(run)


def test_the_report_shows_the_arena_result(run):
    assert arena.report_section(run) == ""
    for i, vote in enumerate(["A", "A", "B", "tie"]):
        arena.record_vote(run, duel(run, run.id, "base", f"r{i}"), vote)
    section = arena.report_section(run)
    assert "Blind vote (arena)" in section
    assert f"preferred {run.id}&#x27;s answer to base model (tiny-model0)&#x27;s in 2 of the 3 votes" in section
    assert "(67%, 95% interval 21% to 94%)" in section and "Blind votes in all: 4; ties: 1" in section
    from engine import evaluate, i18n, report

    with i18n.using("fr"):
        assert "Vote à l’aveugle" in arena.report_section(run)
    if runs.load_results(run) is None:
        evaluate.evaluate_run(run, rows=2)
    page = report.build(run)
    assert section in page and page.index("Before and after") < page.index("Blind vote (arena)")


# ---------------------------------------------------------------- the Arena page, headless (AppTest)

def arena_page(run_id: str, lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.session_state["lang"] = lang
    config = RunConfig()
    config.generation.max_new_tokens, config.generation.repetition_penalty = 12, 1.3  # the tiny base says words
    at.session_state["config"] = config
    at.run()
    at.session_state["run_id"] = run_id
    at.switch_page("pages/arena.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_arena_page_blind_vote_tally_pairs_and_presenter_mode(run):
    at = arena_page(run.id)
    assert at.title[0].value == "Arena" and at.selectbox[1].value == arena.BASE
    at.text_area[0].input("My printer is broken")
    click(at, "Ask both models")
    heads = [h.value for h in at.subheader]
    assert heads[:2] == ["Model A", "Model B"]  # blind: no names before the vote
    assert not any(run.id in h or "base model" in h for h in heads)
    assert {b.label for b in at.button} >= set(arena.VOTE_NAMES.values())
    click(at, "A is better")
    assert "A was" in at.success[0].value and run.id in at.success[0].value  # revealed
    assert any(run.id in h for h in [h.value for h in at.subheader])
    votes = arena.load_votes(run)
    assert len(votes) == 1 and votes[0]["vote"] == "A" and votes[0]["row"] is None
    assert {m.label for m in at.metric} == {run.id, "base model (tiny-model0)"}
    assert sorted(m.value for m in at.metric) == ["0%", "100%"]
    assert at.dataframe[0].value["prompt"].tolist() == ["My printer is broken"]

    click(at, "Draw a held-out prompt")
    assert "held-out row" in next(m.value for m in at.markdown if m.value.startswith("**Prompt**"))
    click(at, "Tie")
    assert len(arena.load_votes(run)) == 2 and "Votes: 2. Ties (1)" in "\n".join(c.value for c in at.caption)

    at.toggle[0].set_value(True)
    at.run()
    assert not at.selectbox and not at.toggle  # presenter mode: no settings (the sidebar is hidden by CSS)
    assert "Make preference pairs from the votes" not in [b.label for b in at.button]
    click(at, "Draw a held-out prompt")
    click(at, "B is better")  # voting still works, and the mode stays on across reruns
    assert len(arena.load_votes(run)) == 3 and not at.selectbox
    click(at, "Leave presenter mode")
    assert at.selectbox

    click(at, "Make preference pairs from the votes")
    assert at.success[-1].value.startswith("Preference pairs written: 2")
    assert "left out: ties 1" in at.success[-1].value
    click(at, "Open them on the Dataset page")
    assert at.session_state["config"].data.train_file == str(arena.pairs_path(run))
    assert at.title[0].value == "1. Dataset"
    assert "prompt / chosen / rejected" in at.success[0].value and "2 usable examples" in at.success[0].value


def test_the_arena_page_in_french(run):
    from tests.test_pages_fr import english_left, visible_texts

    at = arena_page(run.id, "fr")
    at.text_area[0].input("Mon imprimante est en panne")
    click(at, "Demander aux deux modèles")
    click(at, "A est meilleure")
    click(at, "Faire des paires de réponses à partir des votes")
    texts = visible_texts(at)
    assert "Arène" in texts and any("Votre vote" in text for text in texts)
    assert not english_left(texts), "\n".join(english_left(texts))
