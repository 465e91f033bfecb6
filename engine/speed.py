"""Speed levers of the training step, each chosen from what the device can do, never from a guess.

Measured on the embedded model (docs/performance.md, bench/train_speed.py --levers):
- compact LM head: logits and loss only at positions that carry a label (the answers, with answers-only on),
  instead of all positions against the 49k-word vocabulary. Exact; about half of a CPU step was that head.
- bf16 autocast on CPUs whose matmuls are fast in bf16 (AVX-512 BF16 or AMX): about 2-3x faster matmuls there;
  on AVX2-only CPUs bf16 is many times slower, so fp32 stays.
- eager attention on CPU for rows up to 512 tokens: PyTorch's CPU SDPA kernel costs more than it saves on
  short rows (its bf16 backward most of all); eager keeps a (rows x heads x length^2) score tensor per layer,
  small at these lengths.
- on CUDA: bf16 where supported, Liger's kernels when `liger-kernel` is installed, and TRL's own compact head.
"""
from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from . import warm
from .i18n import msg

# TRL's fused LM head decides compaction in a private helper; pinned here so a new TRL cannot change it unseen.
VALIDATED_TRL = "1.16.0"


@dataclass
class Levers:
    precision: str  # "fp32" or "bf16" (autocast on CPU, native on GPU)
    compact_head: bool
    liger: bool = False
    padding_free: bool = False  # batches without pad tokens; needs an attention that reads sequence bounds
    attention: str | None = None  # attn_implementation for from_pretrained; None keeps the model's (SDPA)
    notes: list[str] = field(default_factory=list)  # plain sentences saying what was picked and why


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_bf16_fast() -> bool:
    """bf16 matmuls beat fp32 on this CPU: PyTorch uses AVX-512 and the CPU has AVX-512 BF16 or AMX."""
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    flags = cpu_flags()
    return capability.startswith("AVX512") and bool({"avx512_bf16", "amx_bf16"} & flags)


CPU_EAGER_MAX_LENGTH = 512


def choose(device, setting: str = "auto", max_length: int = 256) -> Levers:
    """The levers for a device (models.DeviceInfo), the precision setting ('auto' picks) and the max length."""
    levers = Levers(precision="fp32", compact_head=compact_head_available())
    if setting != "auto":
        levers.precision = setting
        levers.notes.append(msg("Precision {setting}, as set.", setting=setting))
    elif device.kind == "cuda" and device.bf16:
        levers.precision = "bf16"
        levers.notes.append(msg("bf16: this GPU computes in bf16 natively."))
    elif device.kind == "cpu" and cpu_bf16_fast():
        levers.precision = "bf16"
        levers.notes.append(msg("bf16 mixed precision: this CPU has AVX-512 BF16/AMX, where bf16 matmuls are about "
                            "twice as fast as fp32 (the adapter you train stays fp32)."))
    else:
        levers.notes.append(msg("fp32: this CPU has no fast bf16 (AVX-512 BF16 or AMX), where bf16 would be slower."))
    if levers.compact_head:
        levers.notes.append(msg("Compact loss: the 49k-word output layer runs only where there is something to learn."))
    if device.kind == "cuda" and importlib.util.find_spec("liger_kernel") is not None:
        levers.liger = True
        levers.notes.append(msg("Liger kernels (RMSNorm, SwiGLU, RoPE) on the GPU."))
    if device.kind == "cpu" and max_length <= CPU_EAGER_MAX_LENGTH:
        levers.attention = "eager"
        levers.notes.append(msg("Plain attention: faster than the fused kernel on a CPU for rows up to "
                                "{tokens} tokens.", tokens=CPU_EAGER_MAX_LENGTH))
    if device.kind == "cuda" and importlib.util.find_spec("flash_attn") is not None:
        # Padding-free batches need an attention that honours sequence boundaries. SDPA does too since transformers
        # 5 (a block mask built from the position ids: tests/test_padding_free.py), but over the whole flattened
        # batch; on a CPU padding-free measured slower than padded batches, on a GPU bench/gpu_check.py measures it.
        levers.attention, levers.padding_free = "flash_attention_2", True
        levers.notes.append(msg("Padding-free batches with FlashAttention 2: no compute spent on padding."))
    return levers


def weights_dtype(levers: Levers, device, weights: str):
    """bf16 weights where they are frozen (LoRA) or the GPU trains in bf16; fp32 master weights for full
    fine-tuning on a CPU, where bf16 is only autocast. Frozen bf16 weights also spare autocast from casting
    every weight again at every step (a third of a CPU step when measured)."""
    import torch

    from .sections import ADAPTER_WEIGHTS

    if levers.precision == "bf16" and (device.kind == "cuda" or weights in ADAPTER_WEIGHTS):
        return torch.bfloat16
    return torch.float32


def keep_adapter_inputs_bf16(model, levers: Levers) -> None:
    """Under bf16 autocast, PEFT casts each adapter's input up to the adapter's fp32 and autocast casts it back
    down for the matmul: two copies of every activation per adapter. Let autocast alone decide."""
    if levers.precision != "bf16":
        return
    warm.ready()  # see engine/warm.py
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in model.modules():
        if isinstance(module, BaseTunerLayer):
            module.cast_input_dtype_enabled = False


def padding_free_cut(args, packing: bool) -> int | None:
    """TRL refuses padding-free batches with a max length unless it packs (it does not cut the rows it flattens):
    the max length is taken off its arguments and returned, for cut_rows to apply once TRL has tokenised."""
    if not args.padding_free or packing or args.max_length is None:
        return None
    cut, args.max_length = args.max_length, None
    return cut


def cut_rows(trainer, max_length: int | None) -> None:
    """TRL's own truncation, on its tokenised datasets: keep the first max_length tokens, drop the rows left with
    nothing to learn."""
    if max_length is None:
        return

    def cut(row):
        return {"input_ids": row["input_ids"][:max_length], "labels": row["labels"][:max_length]}

    for name in ("train_dataset", "eval_dataset"):
        dataset = getattr(trainer, name)
        if dataset is not None:
            setattr(trainer, name, dataset.map(cut).filter(lambda row: any(x != -100 for x in row["labels"])))


def compact_head_available() -> bool:
    # The installed version, read without importing TRL (seconds of start-up for a page that only asks).
    return importlib.metadata.version("trl") == VALIDATED_TRL


def set_compact_head(on: bool) -> bool:
    """Make TRL's fused LM head score only labelled positions on every device (on=True), as it does on CUDA,
    or give it back its own rule (on=False). Returns whether compaction is forced on.

    TRL compacts only where Triton runs, to spare Neuron devices a recompilation per batch shape; the torch
    fallback it uses elsewhere handles the compact shapes exactly (tests/test_speed.py checks loss and grads).
    """
    warm.ready()  # see engine/warm.py
    from trl.trainer import utils as trl_utils

    global _TRL_RULE
    if _TRL_RULE is None:
        _TRL_RULE = trl_utils._use_triton
    on = on and compact_head_available()
    trl_utils._use_triton = _compact_everywhere if on else _TRL_RULE
    return on


def _compact_everywhere(device) -> bool:
    return True


_TRL_RULE = None  # TRL's own rule, kept on first use to give it back
