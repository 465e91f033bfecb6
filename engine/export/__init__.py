"""Taking the result home: the LoRA adapter, a merged model with a model card, the run's YAML, and GGUF + Modelfile."""
from __future__ import annotations

import re
import shlex
import shutil
import time
import zipfile
from pathlib import Path

from ..i18n import msg, render, t
from .. import models, warm
from ..paths import read_json, write_atomic
from ..runs import Run, answer_settings, kept_words


def export_dir(run: Run) -> Path:
    path = run.path / "export"
    path.mkdir(exist_ok=True)
    return path


def adapter_zip(run: Run) -> Path:
    """The adapter folder (PEFT's standard format) as one zip file."""
    if not (run.adapter_dir / "adapter_config.json").exists():
        raise FileNotFoundError(msg("This run has no LoRA adapter (it is unfinished, or it trained the full "
                                    "model)."))
    base = export_dir(run) / f"{run.id}-adapter"
    return Path(shutil.make_archive(str(base), "zip", run.adapter_dir))


def merged_model(run: Run, out: Path | None = None) -> Path:
    """Base model with the adapter folded in, saved as safetensors with its tokenizer and a model card."""
    warm.ready()  # see engine/warm.py
    from peft import PeftModel

    out = Path(out or export_dir(run) / "merged")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    config = run.config()
    if (run.adapter_dir / "adapter_config.json").exists():
        base, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
        merged = PeftModel.from_pretrained(base, str(run.adapter_dir)).merge_and_unload()
        merged.save_pretrained(tmp, safe_serialization=True)
        models.load_tokenizer(run.adapter_dir).save_pretrained(tmp)
    elif run.model_dir.exists():
        shutil.copytree(run.model_dir, tmp)
    else:
        raise FileNotFoundError(msg("This run has no trained model yet: let it finish first."))
    write_atomic(tmp / "README.md", model_card(run))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


class ExportError(RuntimeError):
    """Exporting failed; the message says why and what to do."""


# ---------------------------------------------------------------- GGUF for Ollama / llama.cpp / LM Studio

def ollama_name(run: Run) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", run.id.lower()).strip("-.") or "model"


def gguf_dir(run: Run) -> Path:
    return export_dir(run) / "gguf"


def gguf_source(run: Run) -> Path:
    """The folder whose architecture and tokenizer decide whether GGUF export is possible."""
    config = run.config()
    if run.model_dir.exists():
        return run.model_dir
    return models.resolve(config.model.name, config.model.allow_pickle)


def gguf_commands(name: str, file_name: str) -> dict[str, str]:
    return {"create": f"ollama create {name} -f Modelfile", "run": f"ollama run {name}",
            "llama_cli": f"llama-cli -m {file_name} -cnv", "llama_server": f"llama-server -m {file_name}"}


def gguf_export(run: Run, out_type: str = "f16", progress=None) -> dict:
    """GGUF file, Ollama Modelfile and README, zipped; the merged model is built first if it is missing.

    progress(fraction, text) is called as it goes. Returns paths, size and the commands to type.
    """
    from . import gguf as writer
    from .ollama import modelfile

    report = progress or (lambda fraction, text: None)
    if run.final_dir() is None:
        raise FileNotFoundError(msg("This run has no trained model yet: let it finish first."))
    writer.check(gguf_source(run))  # refuse an unsupported model before merging anything
    started = time.time()
    merged = export_dir(run) / "merged"
    if not (merged / "config.json").exists():
        report(0.0, msg("building the merged model"))
        merged = merged_model(run)
    name = ollama_name(run)
    out = gguf_dir(run)
    out.mkdir(exist_ok=True)
    file_name = f"{name}-{out_type}.gguf"
    path = writer.convert(merged, out / file_name, out_type, name=name,
                          progress=lambda f, text: report(0.05 + 0.85 * f, text))
    report(0.92, msg("writing the Modelfile and the zip"))
    config = run.config()
    tokenizer = models.load_tokenizer(merged)
    text = modelfile(file_name, tokenizer, config.data.system_prompt, answer_settings(run, config))
    write_atomic(out / "Modelfile", text)
    commands = gguf_commands(name, file_name)
    write_atomic(out / "README.md", gguf_readme(run, file_name, out_type, commands))
    archive = export_dir(run) / f"{name}-{out_type}-gguf.zip"
    with zipfile.ZipFile(archive.with_suffix(".partial"), "w") as zf:
        zf.write(path, file_name, compress_type=zipfile.ZIP_STORED)  # weights do not compress
        for extra in ("Modelfile", "README.md"):
            zf.write(out / extra, extra, compress_type=zipfile.ZIP_DEFLATED)
    archive.with_suffix(".partial").replace(archive)
    report(1.0, msg("done"))
    return {"gguf": str(path), "modelfile": str(out / "Modelfile"), "zip": str(archive), "type": out_type,
            "size_bytes": path.stat().st_size, "seconds": round(time.time() - started, 1), "name": name,
            "commands": commands, "modelfile_text": text}


def latest_gguf(run: Run) -> Path | None:
    """The most recently written GGUF file of the run, if any."""
    found = sorted(gguf_dir(run).glob("*.gguf"), key=lambda p: p.stat().st_mtime) if gguf_dir(run).exists() else []
    return found[-1] if found else None


def gguf_readme(run: Run, file_name: str, out_type: str, commands: dict[str, str]) -> str:
    """The zip's README, in the language of whoever asked for the export."""
    return "\n".join([
        t("# {run} as GGUF ({type})", run=run.id, type=out_type.upper()), "",
        t("`{file}` runs in Ollama, llama.cpp and LM Studio; `Modelfile` carries the chat format, the stop token, "
          "the system prompt and the generation settings of the run.", file=file_name), "",
        "## Ollama", "", "```bash", commands["create"], commands["run"], "```", "",
        "## llama.cpp", "", "```bash", commands["llama_cli"], commands["llama_server"], "```", "",
        "## LM Studio", "", t("Put `{file}` in a folder under LM Studio's models folder, or drag it into the app. "
                              "It reads the chat template from the file.", file=file_name), "",
    ])


def push_to_hub(run: Run, repo_id: str, token: str, private: bool = True, merged: bool = False) -> str:
    """Upload the adapter (or the merged model) to a Hub repository; returns its address."""
    from huggingface_hub import HfApi

    folder = merged_model(run) if merged else run.adapter_dir
    if not folder.exists():
        raise ExportError(msg("This run has nothing to upload yet: let it finish first."))
    if not repo_id or "/" not in repo_id:
        raise ExportError(msg("Give the repository as 'your-name/model-name'."))
    if not (folder / "README.md").exists() or not merged:
        write_atomic(folder / "README.md", model_card(run))
    api = HfApi(token=token or None)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=f"Upload {run.id}")
    except Exception as err:  # offline, bad token, no rights: one plain message each
        text = str(err)
        if "401" in text or "403" in text or "token" in text.lower():
            raise ExportError(msg("The Hub refused the token. Create a token with write access at "
                                  "huggingface.co/settings/tokens and paste it again.")) from None
        raise ExportError(msg("Could not reach the Hugging Face Hub ({error}). Check the internet connection; the "
                              "files are also ready to download here.", error=type(err).__name__)) from None
    return str(url)


def config_file(run: Run) -> Path:
    path = export_dir(run) / f"{run.id}.yaml"
    shutil.copyfile(run.config_path, path)
    return path


def commands(run: Run) -> dict[str, str]:
    """CLI commands that repeat this run on another machine."""
    name = shlex.quote(f"{run.id}.yaml")
    return {"train": f"python -m engine train {name}",
            "multi_gpu": f"accelerate launch -m engine train {name}",
            "evaluate": "python -m engine evaluate RUN_ID",
            "export": "python -m engine export RUN_ID --merged"}


def model_card(run: Run) -> str:
    """The merged model's README, in the language of whoever asked for it; the metadata block stays as the Hub
    reads it."""
    config = run.config()
    status = run.status()
    final = status.get("final") or {}
    results = read_json(run.eval_dir / "results.json") or {}
    base = t(models.DEFAULT_LABEL) if config.model.name == models.DEFAULT_NAME else config.model.name
    method = config.method_info
    how = method.views.card_how(config)
    lines = [
        "---", f"base_model: {'HuggingFaceTB/SmolLM2-135M-Instruct' if config.model.name == 'default' else base}",
        "library_name: transformers", f"tags: [fine-tuned, {method.name}, finetune-studio]", "---", "",
        f"# {run.id}", "",
        t("Fine-tuned from **{base}** with {how} in the no-code fine-tuning studio.", base=base, how=how), "",
        t("## Data"), "",
        t("- Training file: `{file}`", file=Path(config.data.train_file).name),
        t("- Held-out file: `{file}`", file=Path(config.data.eval_file).name) if config.data.eval_file else
        t("- Held-out rows: a validation split of the training file"),
        t("- System prompt: {prompt}", prompt=config.data.system_prompt or t("(none)")), "",
        t("## Settings"), "", t("| setting | value |"), "|---|---|",
    ]
    for section in ("method", method.section, "training") if method.section else ("method", "training"):
        for key, value in getattr(config, section).__dict__.items():
            lines.append(f"| {section}.{key} | {value} |")
    kept = kept_words(status)
    lines += ["", t("## Metrics"), ""] + ([render(kept), ""] if kept else []) + [t("| metric | value |"), "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in final.items()]
    for who in ("base", "tuned"):
        for k, v in (results.get(who) or {}).items():
            lines.append(f"| {who} {k} | {v:.4f} |")
    lines += ["", t("## Use"), "", "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "model = AutoModelForCausalLM.from_pretrained('PATH')",
              "tokenizer = AutoTokenizer.from_pretrained('PATH')", "```", ""]
    return "\n".join(lines)
