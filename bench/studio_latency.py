"""How the studio feels: time from clicking Start to the first point on the loss chart and to "finished" on
the quick preset (model already cached), and how fast a page answers a click while training runs. Drives the
real studio in Debian's chromium with Playwright.

Usage: python bench/studio_latency.py [--dataset ticket_routing] [--clicks 10]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


def wait_idle(tab) -> None:
    tab.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")


def where_the_first_seconds_go(home: Path, clicked: float) -> dict[str, float]:
    """From the newest run folder's own timestamps: click -> training begins (model, data and trainer
    loaded) -> the first loss point written; the rest of the first-point time is the page's next refresh."""
    import json

    run = max((home / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    started = json.loads((run / "status.json").read_text())["started"]
    first = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])["time"]
    return {"click -> training begins": started - clicked, "-> first point written": first - started}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ticket_routing")
    parser.add_argument("--clicks", type=int, default=10)
    args = parser.parse_args()
    home = ROOT / ".studio" / "latency-home"
    home.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STUDIO_HOME": str(home)}
    os.environ["STUDIO_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    from engine import models

    models.default_model_dir()  # built once from the GGUF before the clock starts: "model already cached"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "studio.py", "--server.port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            tab = browser.new_page(viewport={"width": 1400, "height": 1400})
            tab.set_default_timeout(900_000)
            tab.goto(f"http://127.0.0.1:{port}/dataset")
            wait_idle(tab)
            tab.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()  # not the sidebar's language
            tab.get_by_role("option", name=args.dataset.replace("_", " ").capitalize()).click()
            tab.wait_for_selector("text=usable examples")
            wait_idle(tab)
            tab.get_by_role("link", name="4. Train").first.click()
            tab.wait_for_selector("button:has-text('Start training')")
            wait_idle(tab)
            start, clicked = time.perf_counter(), time.time()
            tab.get_by_role("button", name="Start training").click()
            tab.wait_for_selector("text=is training")
            tab.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')].some(
                p => (p.data || []).some(t => t.name === 'training loss' && t.x.length >= 1))""",
                                  polling=50)  # the loss chart with its first point (it is drawn empty before)
            first_point = time.perf_counter() - start
            breakdown = where_the_first_seconds_go(home, clicked)
            print(f"quick preset on {args.dataset}: Start -> first point on the chart in {first_point:.1f} s", flush=True)
            print("  of which: " + ", ".join(f"{k} {v:.1f} s" for k, v in breakdown.items()), flush=True)
            clicks = []
            for i in range(args.clicks):  # while training runs: switch pages and time the answer
                target = ["Runs", "4. Train"][i % 2]
                t = time.perf_counter()
                tab.get_by_role("link", name=target).first.click()
                tab.wait_for_selector(f"h1:has-text('{target}')")
                clicks.append(time.perf_counter() - t)
                time.sleep(1)
            tab.wait_for_selector("text=Finished. Go on", timeout=1_800_000)
            total = time.perf_counter() - start
            browser.close()
    finally:
        server.terminate()
    print(f"quick preset on {args.dataset}: Start -> finished in {total / 60:.1f} min ({total:.0f} s)")
    print(f"page answer to a click while training ({len(clicks)} clicks): median {statistics.median(clicks):.2f} s, "
          f"slowest {max(clicks):.2f} s")


if __name__ == "__main__":
    main()
