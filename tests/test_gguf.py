"""GGUF export: round trip through transformers' GGUF loader, metadata read back, refusals, the Modelfile."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from engine.export import gguf as gguf_export, ollama

CHAT = [{"role": "system", "content": "You extract orders."},
        {"role": "user", "content": "Extract the order as JSON: To Oslo please: four red pens."}]


@pytest.fixture(scope="module")
def sharp_model_dir(tmp_path_factory, tokenizer):
    """A 2-layer Llama with larger weights than the shared tiny one, so attention is far from uniform and a
    wrong Q/K layout shows in the logits."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, initializer_range=0.1, rope_theta=10000.0,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.bos_token_id)
    path = tmp_path_factory.mktemp("sharp-model")
    LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


def load_pair(folder, gguf_path):
    from transformers import AutoModelForCausalLM

    original = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name,
                                                  dtype=torch.float32).eval()
    return original, loaded


def prompt_ids(tokenizer):
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]


def logits_gap(folder, gguf_path, tokenizer) -> float:
    original, loaded = load_pair(folder, gguf_path)
    ids = prompt_ids(tokenizer)
    with torch.no_grad():
        return (original(ids).logits - loaded(ids).logits).abs().max().item()


def greedy(model, ids, n=12):
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, temperature=None, top_p=None, top_k=None,
                             pad_token_id=0)
    return out[0, ids.shape[1]:].tolist()


def test_f32_export_gives_identical_logits(sharp_model_dir, tokenizer, tmp_path):
    path = gguf_export.convert(sharp_model_dir, tmp_path / "m.gguf", "f32")
    assert logits_gap(sharp_model_dir, path, tokenizer) < 1e-4


def test_without_the_qk_permutation_the_logits_differ(sharp_model_dir, tokenizer, tmp_path):
    """Negative control: the round-trip test above can fail."""
    path = gguf_export.convert(sharp_model_dir, tmp_path / "m.gguf", "f32", _permute=False)
    assert logits_gap(sharp_model_dir, path, tokenizer) > 0.1


def test_f16_export_is_close_and_answers_the_same(sharp_model_dir, tokenizer, tmp_path):
    path = gguf_export.convert(sharp_model_dir, tmp_path / "m.gguf", "f16")
    assert logits_gap(sharp_model_dir, path, tokenizer) < 0.05
    original, loaded = load_pair(sharp_model_dir, path)
    for question in ("Hello there", "Ship 3 blue cups to Rome", "What is the capital of France?"):
        chat = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                             add_generation_prompt=True)
        ids = tokenizer(chat, return_tensors="pt", add_special_tokens=False)["input_ids"]
        assert greedy(original, ids) == greedy(loaded, ids)


def test_bf16_sharded_checkpoint_is_read(sharp_model_dir, tokenizer, tmp_path):
    from transformers import AutoModelForCausalLM

    source = tmp_path / "bf16"
    model = AutoModelForCausalLM.from_pretrained(sharp_model_dir, dtype=torch.bfloat16)
    model.save_pretrained(source, max_shard_size="2MB")
    tokenizer.save_pretrained(source)
    assert (source / "model.safetensors.index.json").exists()
    path = gguf_export.convert(source, tmp_path / "m.gguf", "f32")
    assert logits_gap(source, path, tokenizer) < 1e-3  # bf16 weights widen exactly; only the compute differs


def test_tokenizer_rebuilt_from_the_gguf_matches(tiny_model_dir, tokenizer, tmp_path):
    from transformers import AutoTokenizer

    path = gguf_export.convert(tiny_model_dir, tmp_path / "m.gguf", "f16")
    rebuilt = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert rebuilt(text, add_special_tokens=False)["input_ids"] == tokenizer(text, add_special_tokens=False)[
        "input_ids"]
    assert rebuilt.chat_template == tokenizer.chat_template
    assert rebuilt.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True) == text


def fields(path):
    import gguf

    reader = gguf.GGUFReader(path)
    return reader, {k: f.contents() for k, f in reader.fields.items()}


def test_metadata_read_back_with_ggufs_reader(tiny_model_dir, tokenizer, tmp_path):
    import gguf

    path = gguf_export.convert(tiny_model_dir, tmp_path / "m.gguf", "q8_0", name="order-bot")
    reader, meta = fields(path)
    assert meta["general.architecture"] == "llama"
    assert meta["general.name"] == "order-bot" and meta["general.basename"] == "order-bot"
    assert meta["general.size_label"]
    assert meta["tokenizer.ggml.model"] == "gpt2" and meta["tokenizer.ggml.pre"] == "smollm"
    assert meta["llama.context_length"] == 512 and meta["llama.block_count"] == 2
    assert meta["llama.attention.head_count"] == 4 and meta["llama.attention.head_count_kv"] == 2
    assert meta["llama.rope.freq_base"] == pytest.approx(10000.0)
    assert meta["llama.vocab_size"] == len(tokenizer) and meta["llama.rope.dimension_count"] == 8
    assert meta["general.file_type"] == gguf.LlamaFileType.MOSTLY_Q8_0
    assert meta["general.quantization_version"] == gguf.GGML_QUANT_VERSION
    types = meta["tokenizer.ggml.token_type"]
    tokens = meta["tokenizer.ggml.tokens"]
    assert types[tokens.index("<|im_start|>")] == gguf.TokenType.CONTROL
    assert types[tokens.index("<|im_end|>")] == gguf.TokenType.CONTROL
    assert types[tokens.index("Hello")] == gguf.TokenType.NORMAL
    assert meta["tokenizer.ggml.bos_token_id"] == tokenizer.bos_token_id
    assert meta["tokenizer.ggml.eos_token_id"] == tokenizer.eos_token_id
    assert meta["tokenizer.ggml.padding_token_id"] == tokenizer.pad_token_id
    assert meta["tokenizer.ggml.add_bos_token"] is False
    assert len(meta["tokenizer.ggml.merges"]) > 40_000
    assert meta["tokenizer.chat_template"] == tokenizer.chat_template
    kinds = {t.name: t.tensor_type for t in reader.tensors}
    assert "output.weight" not in kinds  # tied embeddings: lm_head is not written
    assert kinds["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert kinds["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert kinds["token_embd.weight"] == gguf.GGMLQuantizationType.Q8_0


def test_default_model_metadata(default_dir, tmp_path):
    """The real default model: llama.cpp's pre-tokenizer 'smollm' and its chat template."""
    import gguf

    path = gguf_export.convert(default_dir, tmp_path / "d.gguf", "q8_0")
    _, meta = fields(path)
    assert meta["tokenizer.ggml.pre"] == "smollm"
    assert "<|im_start|>" in meta["tokenizer.chat_template"]
    types, tokens = meta["tokenizer.ggml.token_type"], meta["tokenizer.ggml.tokens"]
    assert all(types[tokens.index(t)] == gguf.TokenType.CONTROL for t in ("<|im_start|>", "<|im_end|>",
                                                                          "<|endoftext|>"))
    assert meta["general.size_label"] == "135M"
    assert meta["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-5)


def edited_copy(folder, tmp_path, **changes):
    target = tmp_path / "edited"
    shutil.copytree(folder, target)
    config = json.loads((target / "config.json").read_text())
    config.update(changes)
    (target / "config.json").write_text(json.dumps(config))
    return target


@pytest.mark.parametrize("changes, words", [
    ({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]}, "Qwen2ForCausalLM"),
    ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0}}, "'llama3' RoPE scaling"),
    ({"auto_map": {"AutoModelForCausalLM": "modeling.MyModel"}}, "custom code"),
])
def test_unsupported_models_are_refused_with_a_sentence(tiny_model_dir, tmp_path, changes, words):
    folder = edited_copy(tiny_model_dir, tmp_path, **changes)
    with pytest.raises(gguf_export.GGUFError, match=words):
        gguf_export.convert(folder, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists() and not (tmp_path / "x.gguf.partial").exists()


def test_unknown_tokenizer_is_refused_not_written_with_an_empty_type(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(gguf_export, "PRE_TOKENIZERS", {})
    with pytest.raises(gguf_export.GGUFError, match="llama.cpp does not know this model's tokenizer"):
        gguf_export.convert(tiny_model_dir, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()


def test_modelfile_reproduces_the_chat_template(tokenizer):
    from engine.settings import GenerationSettings

    chat = ollama.chat_format(tokenizer)
    for messages in (CHAT, CHAT[1:], CHAT + [{"role": "assistant", "content": "{}"}, CHAT[1]]):
        assert ollama.rebuild(chat, messages) == tokenizer.apply_chat_template(messages, tokenize=False,
                                                                                add_generation_prompt=True)
    settings = GenerationSettings(temperature=0.7, top_p=0.8, repetition_penalty=1.1, max_new_tokens=99)
    text = ollama.modelfile("bot-f16.gguf", tokenizer, "You extract orders.", settings)
    lines = text.splitlines()
    assert lines[0] == "FROM ./bot-f16.gguf"
    assert 'TEMPLATE """{{- if or (not .Messages) (ne (index .Messages 0).Role "system") }}' in text
    assert '{{ range .Messages }}{{ if eq .Role "system" }}<|im_start|>system\n{{ .Content }}<|im_end|>\n' in text
    assert '{{ end }}{{ end }}<|im_start|>assistant\n"""' in text
    assert 'SYSTEM """You extract orders."""' in lines
    assert 'PARAMETER stop "<|im_end|>"' in lines
    for line in ("PARAMETER temperature 0.7", "PARAMETER top_p 0.8", "PARAMETER repeat_penalty 1.1",
                 "PARAMETER num_predict 99"):
        assert line in lines
    assert "SYSTEM" not in ollama.modelfile("bot.gguf", tokenizer, "", settings)


def test_modelfile_for_the_simple_fallback_template(tokenizer):
    from engine import models

    simple = models.load_tokenizer(tokenizer.name_or_path)
    simple.chat_template = models.SIMPLE_TEMPLATE
    chat = ollama.chat_format(simple)
    assert chat.around["user"] == ("### User:\n", "\n\n") and chat.generation == "### Assistant:\n"
    assert 'PARAMETER stop "<|im_end|>"' in ollama.modelfile("x.gguf", simple)


def test_full_fine_tuning_run_exports_its_model(tiny_model_dir, tokenizer, tmp_path):
    from pathlib import Path

    from conftest import tiny_config
    from engine import export, runs, train

    config = tiny_config(tmp_path, tiny_model_dir, max_steps=2, eval_every=2, save_every=2)
    config.method.weights = "full"
    run = runs.create_run(config.validate())
    assert train.train_run(run)["state"] == "finished"
    made = export.gguf_export(run, "f32")
    assert logits_gap(run.model_dir, Path(made["gguf"]), tokenizer) < 1e-4
    assert Path(made["zip"]).exists() and "FROM ./" in Path(made["modelfile"]).read_text()
