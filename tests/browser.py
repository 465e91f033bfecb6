"""What the real-browser walks share: the studio server, a Chromium tab, and waits that follow Streamlit's reruns.

Checks use `see`, which waits for the element, rather than an instant `is_visible()`: a Streamlit page draws in
several passes (a rerun after an upload, charts after the statistics), and on busy cores an instant check can
land between two passes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
MARKS = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio(studio_home):
    """`streamlit run studio.py` on a free port, with the tests' private STUDIO_HOME."""
    port = free_port()
    env = {**os.environ, "STUDIO_HOME": str(studio_home), "PYTHONPATH": str(ROOT)}
    log = open(studio_home / "streamlit.log", "a")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "studio.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(30)
    log.close()


@contextmanager
def open_tab(url: str, locale: str = "en-US"):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 2200}, locale=locale)
        tab.set_default_timeout(120_000)
        tab.goto(url)
        yield tab
        browser.close()


@pytest.fixture(autouse=True)
def screenshot_on_failure(request):
    yield
    report = getattr(request.node, "rep_call", None)
    tab = request.node.funcargs.get("page")
    if report is not None and report.failed and tab is not None:
        tab.screenshot(path=str(SHOTS / "failure.png"), full_page=True)


def settle(tab, quiet_s: float = 1.0) -> None:
    """Wait until Streamlit has stopped running the page script for `quiet_s` in a row.

    One look is not enough: between a script run and the rerun it asks for, the status widget is briefly absent.
    """
    time.sleep(0.5)
    quiet_since = None
    deadline = time.time() + 300
    while time.time() < deadline:
        running = tab.locator("[data-testid=stStatusWidget]").count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since >= quiet_s:
            return
        time.sleep(0.1)
    raise AssertionError("the page script was still running after 5 minutes")


def see(locator, timeout_s: float = 60) -> None:
    """Assert the element is (or becomes, within `timeout_s`) visible."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=timeout_s * 1000)


def go(tab, label: str) -> None:
    """Open the page called `label` from its link, clicking once more if the first click was lost.

    A click that lands while a page's script reruns (a run that has just ended asks for one) can be dropped: a person
    clicks again, and so does the walk.
    """
    from playwright.sync_api import TimeoutError as Timeout

    title = tab.locator(f"h1:has-text(\"{label}\")")
    for wait_s in (30, 120):
        tab.get_by_role("link", name=label).first.click()
        try:
            title.wait_for(timeout=wait_s * 1000)
            break
        except Timeout:
            if wait_s == 120:
                raise
    settle(tab)


def set_number(tab, label: str, value) -> None:
    """Type a number into the number box called `label` and let the page take it."""
    box = tab.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    settle(tab)


def evaluate(tab, page: str, rows_label: str, rows: int, done_text: str) -> None:
    """Open the Evaluate page (`page`, also its button's name), answer `rows` held-out rows, wait for `done_text`."""
    go(tab, page)
    set_number(tab, rows_label, rows)
    tab.get_by_role("button", name=page).click()
    tab.wait_for_selector(f"text={done_text}", timeout=600_000)
    settle(tab)


def shot(tab, name: str) -> None:
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_report(tab, saved: Path, locale: str = "en-US"):
    """The downloaded report in a new tab with every request off the file system refused: it must stand alone."""
    report = tab.context.browser.new_page(locale=locale)
    report.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else
                 route.continue_())
    report.goto(saved.as_uri())
    report.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2")
    return report
