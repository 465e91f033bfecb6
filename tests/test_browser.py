"""The whole walk in a real browser: Debian's chromium driven by Playwright against `streamlit run studio.py`.

Upload a demo file, keep the default model and the quick preset, start training on the real default model,
watch the loss chart reach two points, stop, and find the run on the Runs page; evaluate, chat, export (the
report and a GGUF file for Ollama). Screenshots of every page go
to tests/artifacts/screenshots/.
"""
from __future__ import annotations

import pytest

from browser import (MARKS, ROOT, SHOTS, evaluate, go, open_report, open_tab, screenshot_on_failure,  # noqa: F401
                     see, set_number, settle, shot, studio)

pytestmark = MARKS


@pytest.fixture(scope="module")
def page(studio):  # noqa: F811 (the server fixture imported above)
    with open_tab(f"{studio}/runs") as tab:  # a bookmark as the fresh server's first request gets the navigation
        yield tab


def chat(tab, text: str, messages: int) -> list[str]:
    """Send a chat message, wait until the page shows `messages` chat messages and stops running; their texts."""
    tab.get_by_placeholder("Type a message").fill(text)
    tab.keyboard.press("Enter")
    tab.wait_for_function(f"document.querySelectorAll('[data-testid=stChatMessage]').length >= {messages}",
                          timeout=300_000)
    settle(tab)
    return tab.locator("[data-testid=stChatMessage]").all_inner_texts()


def test_the_whole_walk_in_a_real_browser(page, studio_home):
    tab = page
    tab.wait_for_selector("h1:has-text('Runs')")
    tab.get_by_role("link", name="Home").first.click()
    tab.wait_for_selector("h1:has-text('Fine-tuning studio')")
    settle(tab)
    see(tab.get_by_text("Is fine-tuning the right tool for you?"))
    shot(tab, "1-home")

    go(tab, "1. Dataset")
    tab.get_by_text("My own file").click()
    settle(tab)
    tab.locator("input[type=file]").first.set_input_files(str(ROOT / "assets/data/ticket_routing/train.csv"))
    tab.wait_for_selector("text=300 usable examples out of 300 rows")
    settle(tab)
    see(tab.get_by_text("One example, exactly as the model sees it"))
    assert (studio_home / "uploads" / "train.csv").exists()
    shot(tab, "2-dataset")

    go(tab, "2. Model")
    tab.wait_for_selector("text=LORA: Fits")
    shot(tab, "3-model")

    go(tab, "3. Settings")
    tab.wait_for_selector("text=Pre-flight check")
    see(tab.get_by_text("Quick demo", exact=True).first)
    tab.wait_for_selector("text=The plan for 2 minutes:")  # the time budget in words: passes, steps, time
    see(tab.get_by_text("The plan for 2 minutes:").first)
    shot(tab, "4-settings")
    set_number(tab, "Max steps", 8)  # a short run keeps the test quick; the walk is the same
    tab.wait_for_selector("text=The plan for 2 minutes:", state="detached")  # steps given: no time budget

    go(tab, "4. Train")
    tab.get_by_role("button", name="Start training").click()
    tab.wait_for_selector("text=is training")
    # The live chart: the first trace of the loss chart reaches two points without any click.
    tab.wait_for_function("""() => {
        const plots = [...document.querySelectorAll('.js-plotly-plot')];
        return plots.some(p => p.data && p.data[0] && p.data[0].name === 'training loss'
                               && p.data[0].x.length >= 2);
    }""", timeout=300_000)
    points = tab.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .map(p => p.data[0]).filter(t => t && t.name === 'training loss')[0].x.length""")
    assert points >= 2
    shot(tab, "5-train-live")

    tab.get_by_role("button", name="Stop").click()
    tab.wait_for_selector("text=Stopped by you", timeout=180_000)
    settle(tab)
    shot(tab, "6-train-stopped")
    run_id = tab.url.split("run=")[1].split("&")[0]

    tab.get_by_role("button", name="Resume from the last checkpoint").click()
    tab.wait_for_selector("text=Finished. Go on", timeout=600_000)
    tab.wait_for_selector("text=Kept the model of the last step (8)")  # which model the run kept, and why
    settle(tab)
    shot(tab, "7-train-finished")

    go(tab, "Runs")
    tab.wait_for_selector(f"[role=gridcell]:has-text('{run_id}')", state="attached")  # in the runs table
    tab.wait_for_selector("text=Finished. Go on")  # the run opened below the table
    shot(tab, "8-runs")

    evaluate(tab, "Evaluate", "Held-out rows to answer", 8, "Side by side")
    see(tab.get_by_text("Did it forget what it knew?"))
    shot(tab, "9-evaluate")

    go(tab, "Chat")
    answers = chat(tab, "My invoice shows the wrong amount, please fix it today.", messages=4)
    assert len(answers) == 4 and all(a.strip() for a in answers[1::2])
    # an answer of several lines keeps its line breaks (code written without fences included)
    answers = chat(tab, "Write a Python function that adds two numbers.", messages=8)
    assert any(len(answers[i].strip().splitlines()) >= 2 for i in (3, 7)), answers
    shot(tab, "10-chat")

    go(tab, "Export")
    tab.get_by_role("button", name="Build the report").click()
    tab.wait_for_selector("text=Download the report (HTML)", timeout=300_000)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download the report (HTML)").click()
    saved = SHOTS.parent / "report.html"
    download.value.save_as(saved)
    shot(tab, "11-export")

    report = open_report(tab, saved)
    see(report.get_by_text("What we taught the model"))
    report.screenshot(path=str(SHOTS / "12-report.png"), full_page=True)
    report.close()

    # Take it home: the GGUF file for Ollama / llama.cpp, written in the background with a progress bar.
    see(tab.get_by_text("GGUF for Ollama / llama.cpp / LM Studio"))
    tab.get_by_role("button", name="Write the GGUF file").click()
    tab.wait_for_selector("text=.gguf written", timeout=600_000)
    tab.wait_for_selector("code:has-text('ollama create')")  # the commands to type
    tab.wait_for_selector("code:has-text('PARAMETER stop')")  # the Modelfile
    settle(tab)
    see(tab.get_by_text("MB (F16)"))
    see(tab.get_by_role("button", name="Download GGUF + Modelfile (zip)"))
    gguf = list((studio_home / "runs" / run_id / "export" / "gguf").glob("*-f16.gguf"))
    assert gguf and gguf[0].stat().st_size > 100e6
    shot(tab, "13-gguf-export")
