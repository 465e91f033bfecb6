"""Taking the result home: the LoRA adapter, a merged model with a model card, and the run's YAML."""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from . import models
from .paths import read_json, write_atomic
from .runs import Run


def export_dir(run: Run) -> Path:
    path = run.path / "export"
    path.mkdir(exist_ok=True)
    return path


def adapter_zip(run: Run) -> Path:
    """The adapter folder (PEFT's standard format) as one zip file."""
    if not (run.adapter_dir / "adapter_config.json").exists():
        raise FileNotFoundError("This run has no LoRA adapter (it is unfinished, or it trained the full model).")
    base = export_dir(run) / f"{run.id}-adapter"
    return Path(shutil.make_archive(str(base), "zip", run.adapter_dir))


def merged_model(run: Run, out: Path | None = None) -> Path:
    """Base model with the adapter folded in, saved as safetensors with its tokenizer and a model card."""
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
        raise FileNotFoundError("This run has no trained model yet: let it finish first.")
    write_atomic(tmp / "README.md", model_card(run))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


class ExportError(RuntimeError):
    """Exporting failed; the message says why and what to do."""


def push_to_hub(run: Run, repo_id: str, token: str, private: bool = True, merged: bool = False) -> str:
    """Upload the adapter (or the merged model) to a Hub repository; returns its address."""
    from huggingface_hub import HfApi

    folder = merged_model(run) if merged else run.adapter_dir
    if not folder.exists():
        raise ExportError("This run has nothing to upload yet: let it finish first.")
    if not repo_id or "/" not in repo_id:
        raise ExportError("Give the repository as 'your-name/model-name'.")
    if not (folder / "README.md").exists() or not merged:
        write_atomic(folder / "README.md", model_card(run))
    api = HfApi(token=token or None)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=f"Upload {run.id}")
    except Exception as err:  # offline, bad token, no rights: one plain message each
        text = str(err)
        if "401" in text or "403" in text or "token" in text.lower():
            raise ExportError("The Hub refused the token. Create a token with write access at "
                              "huggingface.co/settings/tokens and paste it again.") from None
        raise ExportError(f"Could not reach the Hugging Face Hub ({type(err).__name__}). Check the internet "
                          "connection; the files are also ready to download here.") from None
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
    config = run.config()
    status = run.status()
    final = status.get("final") or {}
    results = read_json(run.eval_dir / "results.json") or {}
    base = models.DEFAULT_LABEL if config.model.name == models.DEFAULT_NAME else config.model.name
    lines = [
        "---", f"base_model: {'HuggingFaceTB/SmolLM2-135M-Instruct' if config.model.name == 'default' else base}",
        "library_name: transformers", "tags: [fine-tuned, sft, finetune-studio]", "---", "",
        f"# {run.id}", "",
        f"Fine-tuned from **{base}** with supervised fine-tuning ({config.method.method.upper()}) "
        "in the no-code fine-tuning studio.", "",
        "## Data", "",
        f"- Training file: `{Path(config.data.train_file).name}`",
        f"- Held-out file: `{Path(config.data.eval_file).name if config.data.eval_file else 'validation split'}`",
        f"- System prompt: {config.data.system_prompt or '(none)'}", "",
        "## Settings", "", "| setting | value |", "|---|---|",
    ]
    for section in ("method", "training"):
        for key, value in getattr(config, section).__dict__.items():
            lines.append(f"| {section}.{key} | {value} |")
    lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in final.items()]
    for who in ("base", "tuned"):
        for k, v in (results.get(who) or {}).items():
            lines.append(f"| {who} {k} | {v:.4f} |")
    lines += ["", "## Use", "", "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "model = AutoModelForCausalLM.from_pretrained('PATH')",
              "tokenizer = AutoTokenizer.from_pretrained('PATH')", "```", ""]
    return "\n".join(lines)
