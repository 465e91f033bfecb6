"""The background import of the training libraries must not break a page that needs them at the same moment."""
from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

FRESH_SETTINGS_PAGE = """
import sys
sys.path[:0] = [{tests!r}, {root!r}]
from test_pages import open_page, ticket_config
at = open_page("settings", ticket_config())
print("errors:", [e.value for e in at.error])
print("metrics:", [m.label for m in at.metric])
"""


def test_a_fresh_server_s_settings_page_while_the_libraries_import_in_the_background(studio_home):
    """The Settings page starts the warm-up and asks for the tokenizer at once. Without the gate in engine/warm.py
    this failed every time in a fresh process: "cannot import name 'AutoTokenizer' from 'transformers'"."""
    code = FRESH_SETTINGS_PAGE.format(tests=str(ROOT / "tests"), root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "errors: []" in out.stdout and "'Steps'" in out.stdout, out.stdout
