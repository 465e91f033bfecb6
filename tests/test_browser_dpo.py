"""The DPO walk in a real browser (Debian's chromium, Playwright) against `streamlit run studio.py`.

Choose the demo preference pairs, method DPO on the Model page, start training the real default model, watch the
reward-margin chart reach two points, let it finish, and evaluate: the preference accuracy before and after on
held-out pairs. The server, the browser and the helpers are those of tests/browser.py; screenshots go
to tests/artifacts/screenshots/ (14-dpo-*.png, 15-dpo-*.png).
"""
from __future__ import annotations

import pytest

from browser import (MARKS, evaluate, go, open_tab, screenshot_on_failure, see, set_number, settle,  # noqa: F401
                     shot, studio)

pytestmark = MARKS

MARGIN_POINTS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => (p.data || []).some(t => t.name === 'training margin'))
    .map(p => p.data.filter(t => t.name.endsWith(' margin')).reduce((n, t) => n + t.x.length, 0))
    .reduce((a, b) => Math.max(a, b), 0)"""  # points on the margin chart: validation (step 0 on) and training


@pytest.fixture(scope="module")
def page(studio):  # noqa: F811 (the server fixture imported above)
    with open_tab(f"{studio}/runs") as tab:
        yield tab


def test_a_dpo_run_in_a_real_browser(page, studio_home):
    tab = page
    tab.wait_for_selector("h1:has-text('Runs')")
    go(tab, "1. Dataset")
    tab.get_by_text("A demo dataset").click()
    settle(tab)
    tab.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()  # not the sidebar's language
    tab.get_by_role("option", name="Polite replies").click()
    tab.wait_for_selector("text=300 usable examples out of 300 rows")
    settle(tab)
    tab.wait_for_selector("text=Chosen answer is the longer one")  # the pairs' statistics, once counted
    settle(tab)
    see(tab.get_by_text("prompt / chosen / rejected").first)
    shot(tab, "14-dpo-dataset")

    go(tab, "2. Model")
    tab.get_by_text("Preference (DPO)", exact=True).click()  # what it learns from; its weights stay LoRA
    tab.wait_for_selector("text=LORA: Fits")
    see(tab.get_by_text("DPO: teaches which of two answers is better"))
    settle(tab)

    go(tab, "3. Settings")
    tab.wait_for_selector("text=Preference (DPO)")
    rate = tab.get_by_role("spinbutton", name="Learning rate")
    assert float(rate.input_value()) == 7e-4  # DPO's own preset, not the SFT rate
    set_number(tab, "Max steps", 2)  # a short run keeps the test quick; the walk is the same

    go(tab, "4. Train")
    see(tab.get_by_text("with Preference (DPO), LORA").first)
    tab.get_by_role("button", name="Start training").click()
    tab.wait_for_selector("text=is training")
    tab.wait_for_function(f"({MARGIN_POINTS})() >= 2", timeout=900_000)  # the live margin chart, no click
    assert tab.evaluate(f"({MARGIN_POINTS})()") >= 2
    shot(tab, "14-dpo-train-live")
    tab.wait_for_selector("text=Finished. Go on", timeout=900_000)
    settle(tab)
    see(tab.get_by_text("Validation preference accuracy"))
    shot(tab, "14-dpo-train-finished")

    evaluate(tab, "Evaluate", "Held-out rows to answer", 6, "Preference accuracy: the share of held-out pairs")
    see(tab.get_by_text("Did it forget what it knew?"))
    tab.wait_for_selector("[role=gridcell]:has-text('DPO-tuned')", state="attached")  # the before/after table
    see(tab.get_by_text("Preference accuracy: the share of held-out pairs"))
    shot(tab, "15-dpo-evaluate")
