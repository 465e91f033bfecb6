"""The Export page's GGUF section, headless with AppTest: type choice, progress, size, zip, Modelfile, refusals."""
from __future__ import annotations

import json
import shutil
import zipfile

from engine import jobs, report, runs
from test_pages_results import open_page


def wait_for_export(at):
    job = jobs.EXPORTS.current()
    if job:
        job.thread.join(300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_export_page_writes_a_gguf_with_its_modelfile(finished_tiny_run):
    at = open_page("export", finished_tiny_run.id)
    assert any(s.value == "GGUF for Ollama / llama.cpp / LM Studio" for s in at.subheader)
    kind = next(r for r in at.radio if r.label == "GGUF type")
    assert list(kind.options) == ["F16", "Q8_0", "F32"] and kind.value == "f16"
    assert any("Q4_K_M" in c.value and "llama-quantize" in c.value for c in at.caption)
    kind.set_value("q8_0")
    next(b for b in at.button if b.label == "Write the GGUF file").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    wait_for_export(at)
    done = [s.value for s in at.success if ".gguf` written" in s.value]
    assert done and "MB (Q8_0)" in done[0]
    assert "Download GGUF + Modelfile (zip)" in [d.label for d in at.get("download_button")]
    codes = [c.value for c in at.code]
    name = jobs.EXPORTS.done[finished_tiny_run.id]["name"]
    assert f"ollama create {name} -f Modelfile\nollama run {name}" in codes
    assert any(c.startswith(f"llama-cli -m {name}-q8_0.gguf -cnv") for c in codes)
    modelfile = next(c for c in codes if c.startswith("FROM ./"))
    assert 'TEMPLATE """' in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    with zipfile.ZipFile(jobs.EXPORTS.done[finished_tiny_run.id]["zip"]) as zf:
        assert sorted(zf.namelist()) == sorted([f"{name}-q8_0.gguf", "Modelfile", "README.md"])
    assert f"ollama create {name} -f Modelfile" in report.take_home(finished_tiny_run)


def test_export_page_refuses_an_unsupported_model_with_a_sentence(tiny_model_dir, tmp_path):
    model = tmp_path / "scaled-rope"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "config.json").read_text())
    config["rope_parameters"] = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0}
    (model / "config.json").write_text(json.dumps(config))
    from engine.settings import RunConfig

    run_config = RunConfig(name="scaled")
    run_config.model.name = str(model)
    run = runs.create_run(run_config)
    run.adapter_dir.mkdir()
    (run.adapter_dir / "adapter_config.json").write_text("{}")  # looks finished; never loaded
    at = open_page("export", run.id)
    next(b for b in at.button if b.label == "Write the GGUF file").click()
    at.run()
    wait_for_export(at)
    errors = [e.value for e in at.error]
    assert any("'llama3' RoPE scaling" in e and "does not support" in e for e in errors), errors
    assert not (run.path / "export" / "merged").exists()  # refused before any work
    assert not any("Traceback" in e for e in errors)
