"""GPU check: the engine's CUDA path proven in one command that fits a short GPU slot; one table, one JSON file.

For two architectures built from configurations kept in bench/gpu_configs/ (SmolLM2-135M, the embedded model,
and Qwen2.5-1.5B), with random weights (speed and memory do not depend on the weights' values), a word-level
tokenizer made here and synthetic rows of realistic, uneven lengths:
- the engine against a plain SFTTrainer with library defaults (same data, LoRA, batch, learning rate, steps):
  real (non-padding) tokens/s, the ratio, the training losses at equal settings;
- each GPU lever on and off where it is present (bf16, Liger kernels, padding-free batches with an attention that
  keeps the rows apart, QLoRA with bitsandbytes); an absent one is recorded as absent, a failing one as failed;
- a few steps of every registered training method (on the first architecture);
- peak memory (torch.cuda.max_memory_allocated; the peak RSS on a CPU) against the studio's own estimate for
  the same run, and the seconds per step against the pre-flight's;
- the share of the device's bf16 matmul peak reached, measured in the same run.

    make gpu-wheels                       # once, here: the wheels the GPU machine lacks, into .gpu-wheels/
    python bench/gpu_check.py             # on the GPU machine; installs .gpu-wheels/ into a temporary folder
    python bench/gpu_check.py --dry-run   # the same code on the CPU with tiny models, under a minute (make test)

Each architecture runs in its own process, so a crash (a CUDA error poisons the process) loses only the rows
after it; every row runs in its own try, and rows that would pass the time budget are recorded as skipped.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
CONFIGS = ROOT / "bench" / "gpu_configs"
WHEELS = ROOT / ".gpu-wheels"
WHEELS_LIMIT_MB = 55  # with the checkout (~4 MB), under the ~60 MB that can travel to the GPU machine
ARCHS = ["smollm2-135m", "qwen2.5-1.5b"]
TAG = "GPUCHECK "  # a worker's result lines on stdout start with this

# Sizes: the GPU run uses the studio's defaults (batch 8, LoRA r 16) on rows of 40-400 words; the dry run the
# same code with models shrunk to two layers and short rows.
SIZES = {
    "gpu": dict(rows=320, prompt_words=(30, 250), answer_words=(10, 150), max_length=512, batch=8,
                speed_steps=30, lever_steps=20, method_steps=5, warmup=5, budget_s=400),
    "dry": dict(rows=24, prompt_words=(3, 20), answer_words=(2, 12), max_length=128, batch=4,
                speed_steps=5, lever_steps=3, method_steps=2, warmup=1, budget_s=300),
}
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, max_position_embeddings=512)
LORA_FLOPS = 4  # matmul FLOPs per token and parameter of a LoRA step: forward 2, backward through activations 2


# ---------------------------------------------------------------- wheels (before any training library is imported)

# What the check needs on a GPU machine that holds only torch (with its own dependencies), numpy, pandas, pyarrow,
# PyYAML, packaging, tqdm and psutil: the project's pins of the training libraries (the engine is written against
# them; the machine's own versions may differ) and what they import. Versions: requirements.txt's pin, else the
# version installed here (the one the tests run with), else the one given. All pure Python but four small
# binaries (tokenizers, safetensors, regex, xxhash), built for the GPU machine's CPython 3.12 on Linux x86-64.
WHEELS_NEEDED = {
    "trl": None, "datasets": None, "transformers": None, "peft": None, "accelerate": None, "safetensors": None,
    "babel": None, "huggingface-hub": None, "tokenizers": None, "regex": None, "dill": None, "multiprocess": None,
    "xxhash": None, "fsspec": None, "httpx2": None, "httpcore2": None, "h11": None, "idna": None, "truststore": None,
    "liger-kernel": "0.8.5",  # Liger's kernels; its Triton comes with torch's CUDA wheels
}


def pinned(name: str, given: str | None) -> str:
    import importlib.metadata

    for line in (ROOT / "requirements.txt").read_text().splitlines():
        req, _, version = line.split("#")[0].strip().partition("==")
        if req.lower() == name:
            return f"{name}=={version}"
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        if given is None:
            raise SystemExit(f"{name}: not pinned in requirements.txt, not installed here, no version given")
        return f"{name}=={given}"


def download_wheels(folder: Path, python: str) -> int:
    """make gpu-wheels: the pinned wheels, without their dependencies, for CPython `python` on Linux x86-64."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.whl"):
        old.unlink()
    specs = [pinned(name, given) for name, given in WHEELS_NEEDED.items()]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", python, "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
                    "--platform", "manylinux2014_x86_64", "-d", str(folder), *specs], check=True)
    total = wheels_size_mb(folder)
    for wheel in sorted(folder.glob("*.whl")):
        print(f"{wheel.stat().st_size / 2**20:7.2f} MB  {wheel.name}")
    print(f"{total:7.2f} MB in all for Python {python} (limit {WHEELS_LIMIT_MB} MB)")
    return 0 if total <= WHEELS_LIMIT_MB else 1


def wheels_size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.glob("*.whl")) / 2**20


def install_wheels(folder: Path, target: Path) -> list[str]:
    """Unpack every wheel of the folder into target, put first on the workers' path. A wheel is a zip of what goes
    into site-packages (its .data/purelib and platlib parts too; its scripts are not needed): no pip, no index,
    no dependencies resolved, so the machine's own torch is never touched. Seconds, where pip takes a minute."""
    wheels = sorted(folder.glob("*.whl"))
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                top, _, rest = member.filename.partition("/")
                if not top.endswith(".data"):
                    archive.extract(member, target)
                    continue
                kind, _, inner = rest.partition("/")
                if kind in ("purelib", "platlib") and inner and not member.is_dir():
                    (target / inner).parent.mkdir(parents=True, exist_ok=True)
                    (target / inner).write_bytes(archive.read(member))
    return [w.name for w in wheels]


# ---------------------------------------------------------------- methods

def registered_methods() -> list[tuple[str, str]]:
    """(name, data kind) of every training method in the engine's registry (engine/methods)."""
    from engine.methods import METHODS

    return [(m.name, m.data_kind) for m in METHODS.values()]


def method_section(name: str, weights: str = "lora") -> dict:
    """The config's method section: what the model learns from and which weights change."""
    return {"method": name, "weights": weights}


# ---------------------------------------------------------------- a tokenizer and data made here

SPECIALS = ["<unk>", "<pad>", "<s>", "</s>"]
TEMPLATE_WORDS = ["#", "###", "System", "User", "Assistant", ":", ".", ",", "?"]  # engine's SIMPLE_TEMPLATE


def vocabulary(n: int = 3000) -> list[str]:
    rng = random.Random(0)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def word_tokenizer():
    """One token per word, from a fixed vocabulary: row lengths in tokens are what the data says, and nothing has
    to travel (the embedded model's tokenizer lives in a 100 MB package). The models keep their published
    vocabulary size, so the embedding and the LM head cost what they cost with the real tokenizer."""
    from tokenizers import Tokenizer, models as tmodels, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from engine.models import SIMPLE_TEMPLATE

    words = SPECIALS + TEMPLATE_WORDS + vocabulary()
    raw = Tokenizer(tmodels.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>",
                                        bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = SIMPLE_TEMPLATE
    return tokenizer


def write_data(folder: Path, kind: str, size: dict, seed: int = 1) -> Path:
    """Synthetic rows for a data kind (engine.data): 'answers' (prompt, completion) as CSV, 'pairs' (prompt,
    chosen, rejected) and 'labelled' (prompt, completion, label) as JSONL; the engine's own readers take them like
    any file a person gives."""
    import csv

    rng, words = random.Random(seed), vocabulary()

    def text(bounds, end):
        return " ".join(rng.choice(words) for _ in range(rng.randint(*bounds))) + end

    if kind == "answers":
        path = folder / "rows.csv"
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["prompt", "completion"])
            for _ in range(size["rows"]):
                out.writerow([text(size["prompt_words"], " ?"), text(size["answer_words"], " .")])
        return path
    if kind == "pairs":
        path = folder / "pairs.jsonl"
        with open(path, "w") as f:
            for _ in range(size["rows"]):
                answer = size["answer_words"]
                f.write(json.dumps({"prompt": text(size["prompt_words"], " ?"), "chosen": text(answer, " ."),
                                    "rejected": text(answer, " .")}) + "\n")
        return path
    if kind == "labelled":
        path = folder / "labelled.jsonl"
        with open(path, "w") as f:
            for i in range(size["rows"]):
                f.write(json.dumps({"prompt": text(size["prompt_words"], " ?"),
                                    "completion": text(size["answer_words"], " ."), "label": i % 2 == 0}) + "\n")
        return path
    raise ValueError(f"no synthetic data for the data kind {kind!r}: add it to bench/gpu_check.py write_data")


def build_model(arch: str, folder: Path, dry: bool, device: str) -> dict:
    """The architecture from its published configuration with random weights, saved with the tokenizer as a
    model folder the engine takes like any other; in the dtype the device trains in (bf16 on a bf16 GPU)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    tokenizer = word_tokenizer()
    values = {k: v for k, v in json.loads((CONFIGS / f"{arch}.json").read_text()).items() if not k.startswith("_")}
    values.update(pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                  eos_token_id=tokenizer.eos_token_id)
    if dry:
        values.update(TINY, vocab_size=len(tokenizer))
    config = AutoConfig.for_model(**values)
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    params = sum(p.numel() for p in model.parameters())
    del model
    return {"parameters": params, "dtype": str(dtype).replace("torch.", ""), "layers": config.num_hidden_layers,
            "hidden": config.hidden_size, "vocab": config.vocab_size}


# ---------------------------------------------------------------- measuring one run

class PeakMemory:
    """Peak memory of what runs inside, in GB: torch.cuda.max_memory_allocated above what was allocated before
    on a GPU; on a CPU the peak resident size above the size before (Linux lets a process reset its peak)."""

    def __init__(self, cuda: bool):
        self.cuda, self.gb = cuda, None

    def __enter__(self):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            with contextlib.suppress(OSError):
                Path("/proc/self/clear_refs").write_text("5")
            self.base = _status_kb("VmRSS") * 1024
        return self

    def __exit__(self, *exc):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        else:
            peak = _status_kb("VmHWM") * 1024
        self.gb = max(peak - self.base, 0) / 2**30
        return False


def _status_kb(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"{key}:\s+(\d+)", text).group(1))


@contextlib.contextmanager
def levers_set(seen: list, **changes):
    """The engine's levers as speed.choose picks them, with some forced (a lever on or off); the levers used are
    appended to seen. The pre-flight estimates read the same function, so they see the same levers."""
    from engine import speed

    choose = speed.choose

    def forced(*args, **kwargs):
        levers = choose(*args, **kwargs)
        for key, value in changes.items():
            setattr(levers, key, value)
        seen.append(levers)
        return levers

    speed.choose = forced
    try:
        yield
    finally:
        speed.choose = choose


def measure(build, steps: int, warmup: int, cuda: bool) -> dict:
    """Build a trainer and train it: seconds per step (median after the warm-up), real tokens/s, loss, peak."""
    from shared import count_tokens, timing_callback
    from transformers import set_seed

    set_seed(0)  # the LoRA weights start the same in every run, so losses compare
    with PeakMemory(cuda) as peak:
        trainer = build()
        clock, tokens, lengths = timing_callback(), [], []
        trainer.add_callback(clock)
        count_tokens(trainer, tokens, lengths)
        result = trainer.train()
    timed = clock.times[warmup:] or clock.times
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    out = {"steps": len(clock.times), "step_s": statistics.median(timed),
           "tokens_per_s": sum(tokens[-len(timed):]) / sum(timed), "loss": result.training_loss,
           "last_loss": losses[-1] if losses else None, "peak_gb": peak.gb, "longest_batch": max(lengths),
           "precision": "bf16" if trainer.args.bf16 else "fp16" if trainer.args.fp16 else "fp32"}
    del trainer
    from engine.train import free_memory

    free_memory()
    return out


# ---------------------------------------------------------------- the rows of one architecture

def run_config(data_file: Path, model_dir: Path, size: dict, steps: int, method: dict):
    from engine.settings import RunConfig

    return RunConfig.from_dict({
        "name": "gpu-check", "data": {"train_file": str(data_file), "val_fraction": 0.0},
        "model": {"name": str(model_dir)}, "method": {**method, "lora_dropout": 0.0},
        "training": {"preset": "quick", "max_steps": steps, "batch_size": size["batch"],
                     "max_length": size["max_length"], "everyday_share": 0.0, "log_every": 1,
                     "save_every": 100_000, "eval_every": 100_000}}).validate()


def engine_row(config, size: dict, steps: int, cuda: bool, rows: int, stats: dict, **levers) -> dict:
    """The studio's engine (train.build_trainer, as Start runs it) with levers forced as given; its pre-flight
    estimates (memory, time) for the same config and levers."""
    from engine import preflight, runs, train

    seen = []
    with levers_set(seen, **levers):
        result = measure(lambda: train.build_trainer(runs.create_run(config))[0], steps, size["warmup"], cuda)
        check = preflight.preflight(config, rows, stats)
    used = seen[0]
    memory = check["memory"]
    result.update(levers={"precision": used.precision, "liger": used.liger, "padding_free": used.padding_free,
                          "attention": used.attention or "model's (sdpa)", "compact_head": used.compact_head},
                  estimate_gb=memory["total"] - memory["runtime"], runtime_gb=memory["runtime"],
                  estimate_step_s=check["seconds"] / check["steps"])
    result["memory_error"] = relative_error(result["estimate_gb"], result["peak_gb"])
    result["step_error"] = relative_error(result["estimate_step_s"], result["step_s"])
    return result


def relative_error(estimate: float, measured: float) -> float | None:
    """estimate / measured - 1; None where nothing measurable was measured (a tiny model on a CPU)."""
    if not measured or measured <= 0 or not math.isfinite(estimate):
        return None
    return estimate / measured - 1


def plan(arch: str, first: bool, device, size: dict) -> list[tuple[str, str, dict | None]]:
    """(label, group, job) for each row; job is None for a lever absent on this machine. Rows that may patch a
    library for the rest of the process (Liger replaces the model's modules at class level) come last."""
    from engine import speed

    cuda = device.kind == "cuda"
    default = speed.choose(device, "auto", size["max_length"])
    liger = cuda and importlib.util.find_spec("liger_kernel") is not None
    flash = cuda and importlib.util.find_spec("flash_attn") is not None
    bnb = cuda and importlib.util.find_spec("bitsandbytes") is not None
    base = {"liger": False}  # the engine's defaults with Liger held back until the last row

    def job(kind="engine", levers=base, steps=size["lever_steps"], data="answers", weights="lora", method="sft"):
        return {"kind": kind, "levers": levers, "steps": steps, "data": data, "weights": weights, "method": method}

    rows = [("plain SFTTrainer, library defaults", "speed", job("plain", {}, size["speed_steps"])),
            ("engine" + (", Liger off" if liger else ""), "speed", job(steps=size["speed_steps"]))]
    flip = "fp32" if default.precision == "bf16" else "bf16"
    if flip == "bf16" and cuda and not device.bf16:
        rows.append(("bf16 on: absent (this GPU has no bf16)", "lever", None))
    else:
        rows.append((f"bf16 {'off (fp32)' if flip == 'fp32' else 'on'}", "lever",  # plain's steps: losses compare
                     job(levers={**base, "precision": flip}, steps=size["speed_steps"])))
    rows += [("padding-free, SDPA (packed-sequence mask)", "lever",
              job(levers={**base, "padding_free": True, "attention": "sdpa"})),
             ("padding-free, FlashAttention 2", "lever",
              job(levers={**base, "padding_free": True, "attention": "flash_attention_2"}) if flash else None),
             ("QLoRA (4-bit base, bitsandbytes)", "lever", job(weights="qlora") if bnb else None)]
    if first:
        rows += [(f"method {name}", "method", job(levers={}, steps=size["method_steps"], data=kind, method=name))
                 for name, kind in registered_methods()]
    rows.append(("engine defaults here (Liger on)", "speed", job(levers={}, steps=size["speed_steps"])
                 if liger else None))
    return rows


ABSENT_WHY = {"padding-free, FlashAttention 2": "flash-attn not installed or no GPU",
              "QLoRA (4-bit base, bitsandbytes)": "bitsandbytes not installed or no GPU",
              "engine defaults here (Liger on)": "liger-kernel not installed or no GPU"}


def worker(spec: dict) -> None:
    """All rows of one architecture, each reported on stdout as soon as it is measured."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    os.environ["STUDIO_HOME"] = str(work / "home")
    import torch

    from engine import data, models, preflight

    dry, arch, deadline = spec["dry"], spec["arch"], spec["deadline"]
    size = SIZES["dry" if dry else "gpu"]
    if dry:
        torch.set_num_threads(1)  # tiny matmuls: more threads only wait for each other on a shared CPU
    device = models.device_info()
    cuda = device.kind == "cuda"
    if spec["first"]:
        emit("info", device=device.name, device_kind=device.kind, memory_gb=round(device.memory_gb, 1),
             bf16_supported=device.bf16, bf16_peak_flops=preflight.matmul_rate("bf16"),
             versions=versions(), imported_from=imported_from())
    model_dir = work / arch
    shape = build_model(arch, model_dir, dry, "cuda" if cuda else "cpu")
    emit("info", arch=arch, **shape)
    files, data_stats = {}, {}
    tokenizer = models.load_tokenizer(model_dir)

    def prepared(config):
        """The token statistics the pre-flight reads, once per data file (as the Settings page computes them)."""
        if config.data.train_file not in data_stats:
            loaded, train_rows, val_rows, _ = data.prepare(config.data)
            data_stats[config.data.train_file] = (len(train_rows), data.compute_stats(
                loaded, tokenizer, config.training.max_length, train_rows, val_rows))
        return data_stats[config.data.train_file]

    peak = spec["bf16_peak_flops"] or preflight.matmul_rate("bf16")
    for label, group, job in plan(arch, spec["first"], device, size):
        row, started = {"arch": arch, "row": label, "group": group}, time.time()
        if job is None:
            row.update(status="absent", reason=ABSENT_WHY.get(label, label.split(": ", 1)[-1]))
        elif time.time() > deadline:
            row.update(status="skipped", reason="out of the time budget")
        else:
            try:
                if job["data"] not in files:
                    (work / job["data"]).mkdir()
                    files[job["data"]] = write_data(work / job["data"], job["data"], size)
                config = run_config(files[job["data"]], model_dir, size, job["steps"],
                                    method_section(job["method"], job["weights"]))
                if job["kind"] == "plain":
                    from shared import build_plain

                    result = measure(lambda: build_plain(config), job["steps"], size["warmup"], cuda)
                else:
                    result = engine_row(config, size, job["steps"], cuda, *prepared(config), **job["levers"])
                if group != "method":
                    result["bf16_peak_share"] = result["tokens_per_s"] * LORA_FLOPS * shape["parameters"] / peak
                row.update(status="ok", **result)
            except Exception as err:  # one failing lever must not lose the table
                traceback.print_exc()
                reason = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
                row.update(status="failed", reason=f"{type(err).__name__}: {reason}")
            finally:
                from engine.train import free_memory

                free_memory()  # what a failed build left on the GPU, once its traceback is gone
        emit("row", **row, wall_s=round(time.time() - started, 1))
    if cuda:
        free, total = torch.cuda.mem_get_info()
        emit("info", arch=arch, cuda_runtime_gb=(total - free - torch.cuda.memory_reserved()) / 2**30)


def emit(kind: str, **fields) -> None:
    print(TAG + json.dumps({"type": kind, **fields}, default=str), flush=True)


PACKAGES = ["torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers", "huggingface-hub",
            "liger-kernel", "bitsandbytes", "flash-attn"]


def versions() -> dict:
    import importlib.metadata

    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def imported_from() -> dict:
    """Where the training libraries come from: the wheels installed for the check, or the machine's own."""
    target = os.environ.get("GPU_CHECK_WHEELS_TARGET")
    out = {}
    for module in ("torch", "transformers", "trl", "peft", "datasets"):
        spec = importlib.util.find_spec(module)
        where = str(Path(spec.origin).parent) if spec and spec.origin else "absent"
        out[module] = "wheels" if target and where.startswith(target) else "machine"
    return out


# ---------------------------------------------------------------- the parent: workers, table, JSON

def run_worker(spec: dict, env: dict, timeout: float) -> tuple[list[dict], list[dict], str]:
    """Run one architecture's worker; its rows and infos, however it ends (a crash keeps the rows before it)."""
    proc = subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = proc.communicate(timeout=max(timeout, 30))
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += "\n(killed: past the time budget)"
    records = [json.loads(line[len(TAG):]) for line in out.splitlines() if line.startswith(TAG)]
    rows = [r for r in records if r["type"] == "row"]
    infos = [r for r in records if r["type"] == "info"]
    if proc.returncode:
        rows.append({"arch": spec["arch"], "row": "(worker)", "group": "worker", "status": "failed",
                     "reason": f"exit {proc.returncode}: {err.strip().splitlines()[-1][:300] if err.strip() else ''}"})
    return rows, infos, err


def summarise(rows: list[dict]) -> dict:
    """Per architecture: engine / plain ratio, the losses at equal settings, the estimates' errors."""
    out = {}
    for arch in dict.fromkeys(r["arch"] for r in rows):
        mine = {r["row"]: r for r in rows if r["arch"] == arch and r.get("status") == "ok"}
        plain = mine.get("plain SFTTrainer, library defaults")
        engines = [r for r in mine.values() if "levers" in r and r["group"] == "speed"]
        best = mine.get("engine defaults here (Liger on)") or next(iter(engines), None)
        summary = {}
        if plain and best:
            summary["engine_row"] = best["row"]
            summary["ratio"] = best["tokens_per_s"] / plain["tokens_per_s"]
            equal = [r for r in mine.values() if "levers" in r and r["precision"] == plain["precision"]
                     and r["steps"] == plain["steps"] and not r["levers"]["liger"] and not r["levers"]["padding_free"]
                     and r["group"] != "method"]
            if equal:
                summary.update(equal_row=equal[0]["row"], equal_loss=equal[0]["loss"], plain_loss=plain["loss"],
                               loss_difference=equal[0]["loss"] / plain["loss"] - 1)
        errors = [r["memory_error"] for r in mine.values() if r.get("memory_error") is not None]
        steps = [r["step_error"] for r in mine.values() if r.get("step_error") is not None]
        if errors:
            summary["memory_error_range"] = [min(errors), max(errors)]
        if steps:
            summary["step_error_range"] = [min(steps), max(steps)]
        out[arch] = summary
    return out


def table(rows: list[dict], summary: dict) -> str:
    def f(value, fmt, suffix=""):
        width = int(re.match(r"[+]?(\d*)", fmt).group(1) or 0) + len(suffix)
        return "–".rjust(width) if value is None else format(value, fmt) + suffix

    head = (f"{'architecture':13} {'row':43} {'status':7} {'tok/s':>9} {'ratio':>6} {'s/step':>7} {'loss':>7} "
            f"{'peak GB':>8} {'est GB':>7} {'mem err':>7} {'step est':>8} {'bf16 peak':>9}")
    lines = [head, "-" * len(head)]
    plains = {r["arch"]: r for r in rows if r["row"].startswith("plain") and r.get("status") == "ok"}
    bases = {}
    for r in rows:
        if r.get("status") != "ok":
            lines.append(f"{r['arch']:13} {r['row'][:43]:43} {r['status']:7} {r.get('reason', '')[:90]}")
            continue
        if r["row"].startswith("engine") and r["arch"] not in bases:
            bases[r["arch"]] = r
        base = plains.get(r["arch"]) if r["group"] == "speed" else bases.get(r["arch"])
        ratio = r["tokens_per_s"] / base["tokens_per_s"] if base and r["group"] != "method" else None
        lines.append(f"{r['arch']:13} {r['row'][:43]:43} {'ok':7} {r['tokens_per_s']:9.0f} {f(ratio, '5.2f', 'x')} "
                     f"{r['step_s']:7.3f} {r['loss']:7.3f} {r['peak_gb']:8.2f} {f(r.get('estimate_gb'), '7.2f')} "
                     f"{f(r.get('memory_error'), '+7.0%')} {f(r.get('step_error'), '+8.0%')} "
                     f"{f(r.get('bf16_peak_share'), '9.1%')}")
    lines.append("ratio: speed rows against plain, lever rows against the first engine row; est GB: the studio's "
                 "estimate without the runtime; step est: the pre-flight's seconds per step against the measured")
    for arch, s in summary.items():
        if "ratio" in s:
            line = f"{arch}: engine ({s['engine_row']}) / plain = {s['ratio']:.2f}x real tokens/s"
            if "equal_loss" in s:
                line += (f"; loss at equal settings ({s['equal_row']}): {s['equal_loss']:.4f} vs plain "
                         f"{s['plain_loss']:.4f} ({s['loss_difference']:+.2%})")
            lines.append(line)
        for key, what in (("memory_error_range", "memory estimate error"), ("step_error_range", "step time "
                                                                                                 "estimate error")):
            if key in s:
                lines.append(f"{arch}: {what} {s[key][0]:+.0%} to {s[key][1]:+.0%}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="The same code on the CPU with tiny models.")
    parser.add_argument("--wheels", type=Path, help=f"Wheels to install first (default {WHEELS.name}/ when it "
                        "exists, except in a dry run).")
    parser.add_argument("--no-wheels", action="store_true", help="Use only the packages installed here.")
    parser.add_argument("--budget", type=float, help="Seconds after which no row starts (default 400 on a GPU: "
                        "with the last row and the hard stop 60 s later, under 8 minutes).")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/gpu_check[_dry].json).")
    parser.add_argument("--arch", nargs="*", default=ARCHS, choices=ARCHS)
    parser.add_argument("--download", type=Path, metavar="FOLDER", help="Download the wheels (make gpu-wheels).")
    parser.add_argument("--python", default="3.12", help="With --download: the GPU machine's Python version.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.download:
        return download_wheels(args.download, args.python)
    t0 = time.time()
    size = SIZES["dry" if args.dry_run else "gpu"]
    budget = args.budget or size["budget_s"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    folder = args.wheels or (None if args.dry_run or args.no_wheels else WHEELS)
    installed = []
    if folder is not None and any(folder.glob("*.whl")):
        target = Path(tempfile.mkdtemp(prefix="gpu-check-wheels-"))
        installed = install_wheels(folder, target)
        env["PYTHONPATH"] = os.pathsep.join([str(target), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env["GPU_CHECK_WHEELS_TARGET"] = str(target)
    rows, infos, logs = [], [], []
    for i, arch in enumerate(args.arch):
        spec = {"arch": arch, "first": i == 0, "dry": args.dry_run, "deadline": t0 + budget,
                "bf16_peak_flops": next((x["bf16_peak_flops"] for x in infos if "bf16_peak_flops" in x), None)}
        got, info, err = run_worker(spec, env, t0 + budget + 60 - time.time())
        rows += got
        infos += info
        logs.append(f"--- {arch} worker's stderr ---\n{err}")
    device = next((x for x in infos if "device" in x), {})
    summary = summarise(rows)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "dry_run": args.dry_run,
              "wall_s": round(time.time() - t0, 1), "budget_s": budget, "wheels": installed, "device": device,
              "architectures": [x for x in infos if "parameters" in x],
              "cuda_runtime": [x for x in infos if "cuda_runtime_gb" in x], "sizes": size, "rows": rows,
              "summary": summary}
    out = args.out or ROOT / "bench" / "results" / ("gpu_check_dry.json" if args.dry_run else "gpu_check.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    out.with_suffix(".log").write_text("\n".join(logs))  # the workers' tracebacks and warnings
    out.with_suffix(".md").write_text(markdown(result))  # the table as docs/performance.md shows it
    print(header(result))
    print(table(rows, summary))
    failed = [r for r in rows if r["status"] == "failed"]
    print(f"wall {result['wall_s']:.0f} s; {len(failed)} failed rows (tracebacks in {out.with_suffix('.log')}); "
          f"JSON {out}, Markdown {out.with_suffix('.md')}")
    return 0 if rows and not any(r["status"] == "failed" for r in rows) else 1


def markdown(result: dict) -> str:
    """The run as docs/performance.md's "GPU check" section shows it: what ran where, the rows, the summary."""
    def pct(value):
        return "–" if value is None else f"{value:+.0%}"

    lines = ["```", header(result), "```", "",
             "| architecture | row | status | real tokens/s | ratio | s/step | loss | peak GB (measured) | estimate GB "
             "| memory error | step time error | share of bf16 peak |", "|" + "---|" * 12]
    plains = {r["arch"]: r for r in result["rows"] if r["row"].startswith("plain") and r["status"] == "ok"}
    bases = {}
    for r in result["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['arch']} | {r['row']} | {r['status']}: {r.get('reason', '')} |" + " |" * 9)
            continue
        if r["row"].startswith("engine") and r["arch"] not in bases:
            bases[r["arch"]] = r
        base = plains.get(r["arch"]) if r["group"] == "speed" else bases.get(r["arch"])
        ratio = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}x" if base and r["group"] != "method" else "–"
        estimate = f"{r['estimate_gb']:.2f}" if r.get("estimate_gb") is not None else "–"
        share = f"{r['bf16_peak_share']:.1%}" if r.get("bf16_peak_share") is not None else "–"
        lines.append(f"| {r['arch']} | {r['row']} | ok | {r['tokens_per_s']:.0f} | {ratio} | {r['step_s']:.3f} | "
                     f"{r['loss']:.4f} | {r['peak_gb']:.2f} | {estimate} | {pct(r.get('memory_error'))} | "
                     f"{pct(r.get('step_error'))} | {share} |")
    lines += ["", "Ratio: speed rows against the plain script, lever rows against the first engine row.", ""]
    lines += [f"- {line}" for line in table(result["rows"], result["summary"]).splitlines()
              if line.startswith(tuple(f"{a}:" for a in result["summary"]))]
    return "\n".join(lines) + "\n"


def header(result: dict) -> str:
    d = result["device"]
    if not d:
        return "device: unknown (the first worker did not start)"
    lines = [f"{result['date']}  {'DRY RUN (CPU, tiny models)' if result['dry_run'] else 'GPU check'} on "
             f"{d['device']} ({d['device_kind']}, {d['memory_gb']} GB, bf16 {'yes' if d['bf16_supported'] else 'no'})"
             f"; bf16 matmul peak measured: {d['bf16_peak_flops'] / 1e12:.2f} TFLOP/s",
             "versions: " + ", ".join(f"{k} {v}" for k, v in d["versions"].items()),
             "from the wheels: " + (", ".join(k for k, v in d["imported_from"].items() if v == "wheels") or "none")
             + f" ({len(result['wheels'])} wheels installed)"]
    for a in result["architectures"]:
        lines.append(f"{a['arch']}: {a['parameters'] / 1e6:.1f}M parameters, {a['layers']} layers, hidden "
                     f"{a['hidden']}, vocabulary {a['vocab']}, {a['dtype']} weights")
    for c in result["cuda_runtime"]:
        lines.append(f"{c['arch']}: CUDA runtime outside the allocator {c['cuda_runtime_gb']:.2f} GB (the estimate "
                     "assumes engine.preflight.CUDA_RUNTIME_GB)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
