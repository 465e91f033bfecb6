"""Models: the cached default, Hub ids offline, tokenizer fallbacks, size and memory figures, packing."""
from __future__ import annotations

import time

import pytest

from conftest import tiny_config
from engine import models, preflight, runs, train


@pytest.mark.parametrize("offline", ["1", ""])
def test_a_hub_id_that_cannot_be_reached_fails_fast_with_a_plain_message(monkeypatch, offline):
    monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    t = time.perf_counter()
    with pytest.raises(models.ModelError) as caught:
        models.resolve("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert time.perf_counter() - t < 20  # a message, not a hang
    text = str(caught.value)
    assert "Could not get 'HuggingFaceTB/SmolLM2-360M-Instruct'" in text and "internet connection" in text


def test_the_default_model_is_cached_once_and_reused(default_dir, monkeypatch):
    import transformers

    def no_gguf(*args, **kwargs):
        raise AssertionError("the GGUF must not be read again")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_gguf)
    assert models.default_model_dir() == default_dir
    assert (default_dir / "model.safetensors").exists() and (default_dir / "tokenizer.json").exists()
    assert "quantization_config" not in (default_dir / "config.json").read_text()


def test_a_tokenizer_without_pad_token_or_chat_template_gets_both(tokenizer):
    import copy

    bare = copy.deepcopy(tokenizer)
    bare.pad_token = None
    bare.chat_template = None
    fixed = models.fix_tokenizer(bare)
    assert fixed.pad_token == fixed.eos_token
    text = fixed.apply_chat_template([{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    assert text == "### System:\nBe brief.\n\n### User:\nHi\n\n### Assistant:\n"


def test_size_and_memory_for_each_method(default_dir):
    shape = preflight.model_shape("default")
    assert shape["parameters"] == 134_515_008 and shape["layers"] == 30
    assert shape["branched_rows"]  # Llama's architecture: full attention, rotary positions (a DPO pair in one row)
    from engine.settings import RunConfig

    rows = {r["weights"]: r for r in preflight.weights_estimates(RunConfig())}
    assert rows["lora"]["trained"] == 4_884_480  # what PEFT reports for rank 16 on all linear layers
    assert rows["full"]["memory_gb"] > rows["lora"]["memory_gb"] > 0
    assert rows["lora"]["verdict"] in ("ok", "tight", "too big") and rows["lora"]["sentence"]


def test_packing_trains(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=3, eval_every=100)
    config.training.packing = True
    run = runs.create_run(config)
    status = train.train_run(run)
    assert status["state"] == "finished", status
    assert [r["step"] for r in run.metrics() if "loss" in r] == [1, 2, 3]


def test_full_fine_tuning_saves_a_whole_model(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir, max_steps=2, eval_every=100)
    config.method.weights = "full"
    run = runs.create_run(config)
    assert train.train_run(run)["state"] == "finished"
    assert (run.model_dir / "model.safetensors").exists() and run.final_dir() == run.model_dir


def test_qlora_without_a_gpu_says_so(tmp_path, tiny_model_dir):
    config = tiny_config(tmp_path, tiny_model_dir)
    config.method.weights = "qlora"
    run = runs.create_run(config)
    status = train.train_run(run)
    assert status["state"] == "failed"
    assert "QLoRA needs an NVIDIA GPU and the bitsandbytes package" in status["message"]
