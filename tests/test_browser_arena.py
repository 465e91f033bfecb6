"""The arena and the API server in a real browser (Debian's chromium, Playwright) against `streamlit run studio.py`.

A finished run of the tiny model against its base model: three prompts (two typed, one drawn from the held-out
rows), three blind votes (A better, B better, tie), the names revealed after each vote, the tally; presenter mode;
preference pairs made from the votes, which `python -m engine check` reads as DPO data. Then the Export page
serves the run, the official `openai` package calls it, and Stop closes it. Screenshots go to
tests/artifacts/screenshots/ (16-arena-*.png, 17-serve.png).
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import pytest

from browser import (MARKS, ROOT, go, open_tab, screenshot_on_failure, see, set_number, settle,  # noqa: F401
                     shot, studio)

pytestmark = MARKS


@pytest.fixture(scope="module")
def arena_run(finished_tiny_run):
    """A copy of the finished tiny run with no votes yet."""
    from engine import runs

    copy = finished_tiny_run.path.parent / f"{finished_tiny_run.id}-arena"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(finished_tiny_run.path, copy)
    return runs.Run(copy)


@pytest.fixture(scope="module")
def page(studio, arena_run):  # noqa: F811 (the server fixture imported above)
    with open_tab(f"{studio}/arena?run={arena_run.id}") as tab:
        yield tab


def duel(tab, ask) -> None:
    """Ask both models (ask clicks the button), wait for the two blind answers."""
    ask()
    see(tab.get_by_role("button", name="A is better"), 300)
    settle(tab)
    heads = tab.locator("[data-testid=stMain] h3").all_inner_texts()
    assert "Model A" in heads and "Model B" in heads, heads  # no name before the vote
    assert not any("·" in h for h in heads), heads


def vote(tab, label: str, run_id: str) -> str:
    tab.get_by_role("button", name=label).click()
    tab.wait_for_selector("text=Your vote:")
    settle(tab)
    revealed = tab.locator("[data-testid=stAlertContentSuccess]").first.inner_text()
    assert "A was" in revealed and run_id in revealed and "base model (tiny-model0)" in revealed, revealed
    return revealed


def test_arena_votes_pairs_and_serving_in_a_real_browser(page, arena_run, tiny_model_dir, tmp_path):
    from engine import arena

    tab = page
    tab.wait_for_selector("h1:has-text('Arena')")
    settle(tab)
    tab.get_by_text("Answer settings").click()
    set_number(tab, "Max new tokens", 16)
    set_number(tab, "Repetition penalty", 1.3)  # the tiny base model's answers are blank lines without it
    tab.get_by_text("Answer settings").click()

    prompt = tab.get_by_label("Prompt")

    def typed(text):
        def ask():
            prompt.fill(text)
            prompt.press("Control+Enter")  # the text area sends its value
            settle(tab)
            tab.get_by_role("button", name="Ask both models").click()
        return ask

    duel(tab, typed("My printer is broken and nobody answers the phone."))
    shot(tab, "16-arena-blind")
    vote(tab, "A is better", arena_run.id)
    shot(tab, "16-arena-revealed")

    duel(tab, lambda: tab.get_by_role("button", name="Draw a held-out prompt").click())
    see(tab.get_by_text("held-out row").first)
    vote(tab, "B is better", arena_run.id)

    duel(tab, typed("I was charged twice for my subscription."))
    vote(tab, "Tie", arena_run.id)
    see(tab.get_by_text("Votes: 3. Ties (1)"))
    votes = arena.load_votes(arena_run)
    assert [v["vote"] for v in votes] == ["A", "B", "tie"] and votes[1]["row"] is not None
    expected = sorted(f"{round(100 * r['win_rate'])}%" for r in arena.tally(votes, (arena_run.id, arena.BASE)))
    assert sorted(tab.locator("[data-testid=stMetricValue]").all_inner_texts()) == expected
    assert tab.locator("[data-testid=stDataFrame]").count() == 1  # the prompts with their votes
    shot(tab, "16-arena-tally")

    tab.get_by_text("Presenter mode").click()
    settle(tab)
    see(tab.get_by_role("button", name="Leave presenter mode"))
    assert tab.locator("[data-testid=stSidebar]").is_hidden()
    assert tab.get_by_text("Answer settings").count() == 0
    shot(tab, "16-arena-presenter")
    tab.get_by_role("button", name="Leave presenter mode").click()
    settle(tab)

    tab.get_by_role("button", name="Make preference pairs from the votes").click()
    tab.wait_for_selector("text=Preference pairs written: 2")
    settle(tab)
    see(tab.get_by_text("left out: ties 1").first)
    see(tab.get_by_role("button", name="Open them on the Dataset page"))
    shot(tab, "16-arena-pairs")
    pairs = arena.pairs_path(arena_run)
    rows = [json.loads(line) for line in pairs.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and all({"prompt", "chosen", "rejected"} == set(r) for r in rows)

    config = tmp_path / "pairs.yaml"
    config.write_text(f"method:\n  method: dpo\ndata:\n  train_file: {pairs}\nmodel:\n  name: {tiny_model_dir}\n")
    checked = subprocess.run([sys.executable, "-m", "engine", "check", str(config)], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr
    assert "2 usable examples out of 2 rows" in checked.stdout and "pairs: median tokens" in checked.stdout

    tab.get_by_role("button", name="Open them on the Dataset page").click()
    tab.wait_for_selector("h1:has-text('1. Dataset')")
    tab.wait_for_selector("text=2 usable examples out of 2 rows")
    see(tab.get_by_text("prompt / chosen / rejected").first)

    # Serve the run from the Export page and call it with the official client.
    openai = pytest.importorskip("openai")
    go(tab, "Export")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tab.get_by_text("Address, key and limits").click()
    set_number(tab, "Port", port)
    tab.get_by_role("button", name="Serve", exact=True).click()
    tab.wait_for_selector(f"text=Serving on http://127.0.0.1:{port}/v1", timeout=300_000)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="not-needed", max_retries=0)
    assert [m.id for m in client.models.list().data] == [arena_run.id, "base"]
    answer = client.chat.completions.create(model=arena_run.id, max_tokens=8,
                                            messages=[{"role": "user", "content": "My printer is broken"}])
    assert answer.usage.completion_tokens > 0
    tab.wait_for_function("[...document.querySelectorAll('[data-testid=stMetricValue]')]"
                          ".some(e => e.innerText.trim() === '1')", timeout=30_000)  # requests served, live
    tab.get_by_text("Serve it as an API").scroll_into_view_if_needed()
    shot(tab, "17-serve")
    tab.get_by_role("button", name="Stop the server").click()
    see(tab.get_by_role("button", name="Serve", exact=True))
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
