"""Speed levers: the compact loss equals the full-vocabulary loss (values and gradients), really compacts, and
each device-specific lever is picked from what the device can do, with its CPU fallback."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config
from engine import models, runs, speed, train


def tiny_llama(tied: bool, vocab: int = 300):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied)
    return LlamaForCausalLM(config)


def batch(vocab: int, answers_only: bool):
    """Two rows of different lengths (right padding), labels -100 on padding and, answers-only, on prompts."""
    torch.manual_seed(1)
    ids = torch.randint(0, vocab, (2, 24))
    mask = torch.ones_like(ids)
    mask[1, 17:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    if answers_only:
        labels[0, :15] = -100
        labels[1, :9] = -100
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def reference_loss(model, inputs):
    """The textbook loss: every position's logits, shifted, cross-entropy averaged over labelled tokens."""
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), inputs["labels"][:, 1:].flatten(),
                           ignore_index=-100)


def fused_loss(model, inputs, compact: bool):
    from trl.trainer.utils import add_fused_lm_head

    speed.set_compact_head(compact)
    try:
        out = model(**inputs, fused_lm_head=True)
    finally:
        speed.set_compact_head(False)
    mask = inputs["labels"][:, 1:] != -100
    return -out.log_probs.sum() / mask.sum()


def grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("tied", [True, False])
@pytest.mark.parametrize("answers_only", [True, False])
def test_compact_loss_equals_the_full_vocabulary_loss_and_gradients(tied, answers_only):
    from trl.trainer.utils import add_fused_lm_head

    model = tiny_llama(tied)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    inputs = batch(model.config.vocab_size, answers_only)
    expected = reference_loss(model, inputs)
    expected_grads = grads(model, expected)
    for compact in (True, False):
        loss = fused_loss(model, inputs, compact)
        assert abs(loss.item() - expected.item()) < 1e-5, (compact, loss.item(), expected.item())
        got = grads(model, loss)
        assert got.keys() == expected_grads.keys()
        for name, grad in got.items():
            assert torch.allclose(grad, expected_grads[name], atol=1e-4, rtol=1e-4), name


def test_compact_loss_scores_only_labelled_positions(monkeypatch):
    """If TRL stops routing through the compact path, this fails (the figure the speed rests on)."""
    from trl.trainer import utils as trl_utils
    from trl.trainer.utils import add_fused_lm_head

    rows = []
    original = trl_utils._ChunkedLogProbFunction.apply

    def spy(hidden, *args):
        rows.append(hidden.shape[0])
        return original(hidden, *args)

    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", spy)
    model = tiny_llama(True)
    add_fused_lm_head(model)
    inputs = batch(model.config.vocab_size, answers_only=True)
    labelled = int((inputs["labels"][:, 1:] != -100).sum())
    fused_loss(model, inputs, compact=True)
    fused_loss(model, inputs, compact=False)
    assert rows == [labelled, 2 * 23]  # compact: the answers only; TRL's CPU rule: every position


def test_engine_trainer_uses_the_compact_head_and_counts_real_tokens(tmp_path, tiny_model_dir):
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=2, eval_every=100))
    trainer, _ = train.build_trainer(run)
    from trl.trainer import utils as trl_utils

    assert trl_utils._use_triton(torch.device("cpu")) is True
    trainer.train()
    logged = [h for h in trainer.state.log_history if "loss" in h]
    tokens = logged[-1]["num_tokens"]
    assert 0 < tokens <= 2 * 4 * 128  # real (attention-mask) tokens of 2 steps of 4 rows, what tokens/s reads
    assert logged and all(0 <= h["mean_token_accuracy"] <= 1 and h["entropy"] > 0 for h in logged)


def cpu(bf16_fast=False):
    return models.DeviceInfo("cpu", "CPU", 16.0, 2, False), bf16_fast


@pytest.mark.parametrize("capability,flags,fast", [
    ("AVX512", {"avx512f", "avx512_bf16"}, True),
    ("AVX512", {"avx512f", "amx_bf16"}, True),
    ("AVX512", {"avx512f"}, False),           # AVX-512 without BF16: bf16 is emulated, slower
    ("AVX2", {"avx2", "avx512_bf16"}, False),  # torch not using AVX-512 here
    ("AVX2", {"avx2"}, False),
])
def test_cpu_bf16_is_chosen_only_where_the_cpu_computes_it_fast(monkeypatch, capability, flags, fast):
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(speed, "cpu_flags", lambda: frozenset(flags))
    assert speed.cpu_bf16_fast() is fast
    levers = speed.choose(models.DeviceInfo("cpu", "CPU", 16.0, 2, False))
    assert levers.precision == ("bf16" if fast else "fp32")
    assert not levers.liger and not levers.padding_free
    assert levers.notes and ("AVX-512 BF16" in levers.notes[0])
    assert levers.attention == "eager"  # short rows: plain attention beats the CPU's fused kernel
    assert speed.choose(models.DeviceInfo("cpu", "CPU", 16.0, 2, False), max_length=2048).attention is None


def test_gpu_levers_are_chosen_from_what_is_installed(monkeypatch):
    gpu = models.DeviceInfo("cuda", "H100", 80.0, 16, True)
    monkeypatch.setattr(speed.importlib.util, "find_spec", lambda name: None)
    levers = speed.choose(gpu)
    assert levers.precision == "bf16" and not levers.liger and not levers.padding_free
    monkeypatch.setattr(speed.importlib.util, "find_spec", lambda name: object())
    levers = speed.choose(gpu)
    assert levers.liger and levers.padding_free and levers.attention == "flash_attention_2"
    old = models.DeviceInfo("cuda", "T4", 16.0, 8, False)
    assert speed.choose(old).precision == "fp32"
    assert speed.choose(gpu, "fp32").precision == "fp32"  # an explicit setting wins


def test_weights_are_bf16_only_where_frozen_or_on_a_gpu():
    cpu_dev = models.DeviceInfo("cpu", "CPU", 16.0, 2, False)
    gpu = models.DeviceInfo("cuda", "H100", 80.0, 16, True)
    bf16, fp32 = speed.Levers("bf16", True), speed.Levers("fp32", True)
    assert speed.weights_dtype(bf16, cpu_dev, "lora") == torch.bfloat16
    assert speed.weights_dtype(bf16, cpu_dev, "full") == torch.float32  # fp32 master weights, bf16 autocast
    assert speed.weights_dtype(bf16, gpu, "full") == torch.bfloat16
    assert speed.weights_dtype(fp32, cpu_dev, "lora") == torch.float32


@pytest.mark.parametrize("fast", [False, True])
def test_cpu_training_with_and_without_bf16(tmp_path, tiny_model_dir, monkeypatch, fast):
    """Both CPU paths train and the trainer is set as chosen (what the studio picks on another CPU)."""
    monkeypatch.setattr(speed, "cpu_bf16_fast", lambda: fast)
    run = runs.create_run(tiny_config(tmp_path, tiny_model_dir, max_steps=3, eval_every=100))
    trainer, _ = train.build_trainer(run)
    assert trainer.args.bf16 is fast
    dtypes = {(p.dtype, p.requires_grad) for p in trainer.model.parameters()}
    assert (torch.float32, True) in dtypes  # the adapter trains in fp32
    assert ((torch.bfloat16, False) in dtypes) is fast
    from peft.tuners.tuners_utils import BaseTunerLayer

    adapters = [m for m in trainer.model.modules() if isinstance(m, BaseTunerLayer)]
    assert adapters and all(m.cast_input_dtype_enabled is not fast for m in adapters)
    result = trainer.train()
    assert result.training_loss == result.training_loss  # finite, not NaN
