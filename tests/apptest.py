"""Helpers for the headless page tests (Streamlit's AppTest through the real entry point, studio.py)."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine.settings import RunConfig

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, config: RunConfig | None = None, run_id: str | None = None,
              upload: bool = False) -> AppTest:
    """The studio opened on a page, with a config and a chosen run when given (upload: the config's file is used,
    not a demo), checked for tracebacks."""
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    if config is not None:
        at.session_state["config"] = config
        if upload:
            at.session_state["data_source"] = "upload"
    at.run()
    if run_id:
        at.session_state["run_id"] = run_id
        at.query_params["run"] = run_id
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Every text a page shows (markdown, messages, captions), as one string."""
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [s.value for s in at.success] + [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(map(str, parts))
