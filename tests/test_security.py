"""Nobody in: paths stay under the studio's home, no shell, no remote code or pickle by default, HTML shown as
text, safe server settings, and dependency pins at or above the releases that fixed known advisories."""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import data, models, runs
from engine.paths import inside, runs_dir, safe_name, uploads_dir
from engine.settings import RunConfig

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ["../../etc/passwd", "/etc/shadow", "..", "a\x00b", "ｆｕｌｌ／ｗｉｄｔｈ／..／..", "名前", "C:\\Windows\\system32",
           "~/.ssh/id_rsa", "run\u202egnp.exe", "", "....//....//x", "%2e%2e%2fescape"]


@pytest.mark.parametrize("name", HOSTILE)
def test_names_are_cleaned_to_plain_file_names(name):
    clean = safe_name(name)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", clean) and clean not in (".", "..") and "/" not in clean
    assert not clean.startswith(".")


@pytest.mark.parametrize("name", HOSTILE)
def test_run_names_and_uploads_stay_under_home(name):
    run = runs.create_run(RunConfig(name=name))
    assert run.path.parent == runs_dir()
    saved = data.save_upload(name + ".csv", b"prompt,completion\na,b\n", uploads_dir())
    assert saved.parent == uploads_dir()


@pytest.mark.parametrize("part", ["../outside", "/etc", "a/../../b", "x\x00y"])
def test_inside_refuses_paths_that_escape(part, tmp_path):
    with pytest.raises(ValueError):
        inside(tmp_path, part)


@pytest.mark.parametrize("run_id", ["../../etc", "/etc/passwd", "..", "x\x00"])
def test_opening_a_run_by_a_hostile_id_reads_nothing_outside(run_id):
    with pytest.raises((FileNotFoundError, ValueError)):
        runs.get_run(run_id)


def source_files():
    return [p for p in [ROOT / "studio.py", *ROOT.glob("engine/*.py"), *ROOT.glob("pages/*.py")]]


def test_no_shell_is_ever_invoked():
    for path in source_files():
        text = path.read_text()
        for pattern in (r"shell\s*=\s*True", r"os\.system\(", r"os\.popen\(", r"import subprocess", r"subprocess\.", r"(?<![.\w])eval\(",
                        r"(?<![.\w])exec\("):
            assert not re.search(pattern, text), f"{path.name}: {pattern}"


def test_remote_code_stays_off_everywhere():
    for path in source_files():
        assert "trust_remote_code=True" not in path.read_text(), path.name
    assert "trust_remote_code=False" in (ROOT / "engine" / "models.py").read_text()


def test_pickle_weights_are_refused_unless_allowed(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(models.ModelError, match="pickle format"):
        models.resolve(str(tmp_path))
    assert models.resolve(str(tmp_path), allow_pickle=True) == tmp_path


def test_html_in_a_dataset_is_shown_as_text(tmp_path):
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/dataset.py").run()
    at.radio[0].set_value("upload").run()
    hostile = b'instruction,input,output\n"<script>alert(1)</script>",,"<img src=x onerror=alert(2)>"\n'
    at.file_uploader[0].upload("hostile.csv", hostile).run()
    assert not at.exception
    html_blocks = [m.value for m in at.markdown if "monospace" in m.value]
    assert len(html_blocks) == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_blocks[0]
    assert "<script>" not in html_blocks[0] and "<img" not in html_blocks[0]


def test_server_settings_are_safe():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config["server"]
    assert server["address"] == "localhost"
    assert server["enableXsrfProtection"] is True
    assert server["maxUploadSize"] == data.MAX_FILE_BYTES // 2**20
    assert config["client"]["showErrorDetails"] == "none"  # no traceback reaches a page
    assert "Sharing the studio" in (ROOT / "README.md").read_text()


# The first release of each that fixed a known advisory (the pins must be at or above it).
FIXED = {
    "streamlit": ("1.37.0", "CVE-2024-42474 path traversal in static file serving"),
    "torch": ("2.6.0", "CVE-2025-32434 torch.load(weights_only=True) code execution"),
    "pyarrow": ("14.0.1", "CVE-2023-47248 deserialization of untrusted data"),
    "transformers": ("4.53.0", "CVE-2025-3263/3264/3933 ReDoS and earlier deserialization issues"),
}


def version_tuple(text: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", text.split("+")[0])[:3])


@pytest.mark.parametrize("package", sorted(FIXED))
def test_pins_are_at_or_above_the_fixed_releases(package):
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", (ROOT / "requirements.txt").read_text(), re.M))
    fixed, why = FIXED[package]
    assert version_tuple(pins[package]) >= version_tuple(fixed), why
    assert version_tuple(metadata.version(package)) >= version_tuple(fixed), why
