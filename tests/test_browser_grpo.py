"""The GRPO walk in a real browser (Debian's chromium, Playwright) against `streamlit run studio.py`.

Choose the order-extraction demo, GRPO on the Model page, build a reward of two checks by clicking on the Settings
page, preview it on the real default model, start training, watch the reward chart reach two points, let it finish,
and evaluate: the pass rate of each check before and after on held-out prompts. Kept short (2 steps, 2 answers per
prompt, 2 validation prompts, 4 held-out prompts); the walk is the same as with the quick preset. Screenshots go to
tests/artifacts/screenshots/ (16-grpo-*.png, 17-grpo-*.png).
"""
from __future__ import annotations

import pytest

from browser import (MARKS, evaluate, go, open_tab, screenshot_on_failure, see, set_number, settle,  # noqa: F401
                     shot, studio)

pytestmark = MARKS

REWARD_POINTS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(p => (p.data || []).some(t => t.name === 'training reward'))
    .map(p => p.data.filter(t => t.name.endsWith(' reward')).reduce((n, t) => n + t.x.length, 0))
    .reduce((a, b) => Math.max(a, b), 0)"""  # points on the reward chart: validation (step 0 on) and training


@pytest.fixture(scope="module")
def page(studio):  # noqa: F811 (the server fixture imported above)
    with open_tab(f"{studio}/runs") as tab:
        yield tab


def add_check(tab, label: str) -> None:
    """Pick a kind of check in the reward builder (its settings appear below it)."""
    tab.locator("[data-testid=stSelectbox]", has_text="Add to Reward").click()
    tab.get_by_role("option", name=label, exact=True).click()
    settle(tab)


def fill_number(tab, label: str, value) -> None:
    """set_number for a label that other number boxes contain ('weight' and 'Weight decay')."""
    box = tab.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(tab)


def test_a_grpo_run_in_a_real_browser(page, studio_home):
    tab = page
    tab.wait_for_selector("h1:has-text('Runs')")
    go(tab, "1. Dataset")
    tab.get_by_text("A demo dataset").click()
    settle(tab)
    tab.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()  # not the sidebar's language
    tab.get_by_role("option", name="Order extraction").click()
    tab.wait_for_selector("text=300 usable examples out of 300 rows")
    settle(tab)

    go(tab, "2. Model")
    tab.get_by_text("Checks (GRPO)", exact=True).click()
    tab.wait_for_selector("text=Start from a finished run")
    settle(tab)

    go(tab, "3. Settings")
    tab.wait_for_selector("text=Checks (GRPO)")
    see(tab.get_by_text("+1 if the answer equals the expected one").first)  # the default reward
    add_check(tab, "the answer is valid JSON")
    tab.get_by_role("button", name="Add this").click()
    settle(tab)
    add_check(tab, "a JSON field equals the expected answer's")
    tab.get_by_label("field", exact=True).fill("city")
    tab.get_by_label("field", exact=True).press("Enter")
    settle(tab)
    fill_number(tab, "weight", 2)
    tab.get_by_role("button", name="Add this").click()
    settle(tab)
    tab.get_by_role("button", name="Remove").first.click()  # the default check
    settle(tab)
    see(tab.get_by_text("+1 if valid JSON, +2 if 'city' matches the expected one").first)
    set_number(tab, "Answers per prompt", 2)  # a short walk; the quick preset writes 4
    set_number(tab, "Max steps", 2)
    tab.get_by_text("Advanced settings", exact=True).click()  # the method's advanced settings
    set_number(tab, "Validation prompts", 2)
    tab.get_by_role("button", name="Preview the reward").click()
    tab.wait_for_selector("text=/prompts got answers with different rewards|cannot tell better answers/",
                          timeout=600_000)
    settle(tab)
    tab.wait_for_selector("[role=gridcell]:has-text('Extract the order as JSON')", state="attached")  # its table
    shot(tab, "18-grpo-settings")

    go(tab, "4. Train")
    see(tab.get_by_text("with Checks (GRPO)").first)
    tab.get_by_role("button", name="Start training").click()
    tab.wait_for_selector("text=is training")
    tab.wait_for_function(f"({REWARD_POINTS})() >= 2", timeout=900_000)  # the live reward chart, no click
    assert tab.evaluate(f"({REWARD_POINTS})()") >= 2
    shot(tab, "18-grpo-train-live")
    tab.wait_for_selector("text=Finished. Go on", timeout=900_000)
    settle(tab)
    see(tab.get_by_text("Validation reward (mean)"))
    shot(tab, "18-grpo-train-finished")

    evaluate(tab, "Evaluate", "Held-out rows to answer", 4, "Did it forget what it knew?")
    tab.wait_for_selector("[role=gridcell]:has-text('GRPO-tuned')", state="attached")  # the before/after table
    see(tab.get_by_text("Reward: +1 if valid JSON, +2 if 'city' matches the expected one.").first)
    shot(tab, "19-grpo-evaluate")
