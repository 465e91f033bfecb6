"""A transformers Llama folder as one GGUF file for llama.cpp, Ollama and LM Studio, written with gguf-py.

gguf-py has no HF→GGUF converter, so this does what llama.cpp's convert_hf_to_gguf.py does for LlamaModel:
tensor names through gguf's name map, Q/K rows permuted to llama.cpp's rotary layout, norms kept F32,
every hyper-parameter llama.cpp reads, and a GPT-2-style BPE vocabulary whose pre-tokenizer is recognised
by the hash of its ids on llama.cpp's check string. Anything else is refused before any work starts.
"""
from __future__ import annotations

import json
import os
from hashlib import sha256
from pathlib import Path

import numpy as np

from .. import warm
from ..i18n import N_, msg

# Output types we can write honestly; K-quants (Q4_K_M…) need llama.cpp's own quantizer, not gguf-py.
TYPES = {
    "f16": N_("F16: half precision, about 2 bytes per weight. Same answers as the trained model; the default."),
    "q8_0": N_("Q8_0: 8-bit, about half the size of F16. Answers almost always the same; runs faster on a CPU."),
    "f32": N_("F32: full precision, about 4 bytes per weight. Exactly the trained model; twice the size of F16."),
}
K_QUANT_NOTE = N_("Smaller 4- and 5-bit files (Q4_K_M, Q5_K_M) need llama.cpp's own `llama-quantize` tool: "
                  "run `llama-quantize FILE.gguf FILE-Q4_K_M.gguf Q4_K_M` on the F16 file.")

# llama.cpp's check string (convert_hf_to_gguf_update.py); the sha256 of str(token ids) names the pre-tokenizer.
CHKTXT = ('\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) '
          '✅ 🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ '
          '------======= нещо на Български \'\'\'\'\'\'```````""""......!!!!!!?????? I\'ve been \'told he\'s there, '
          '\'RE you sure? \'M not sure I\'ll make it, \'D you like some tea? We\'Ve a\'lL')
# The BPE pre-tokenizers of llama.cpp's table that Llama-architecture models use (hash → llama.cpp's name).
PRE_TOKENIZERS = {
    "855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249": "smollm",      # SmolLM / SmolLM2
    "0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5": "llama-bpe",   # Llama 3
    "c136ed14d01c2745d4f60a9596ae66800e2b61fa45643e72436041855ad4089d": "smaug-bpe",
    "049ecf7629871e3041641907f3de7c733e4dbfdc736f57d882ba0b0845599754": "deepseek-llm",
    "347715f544604f9118bb75ed199f68779f423cabb20db6de6f31b908d04d7821": "deepseek-coder",
    "3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454": "gpt-2",
    "35d91631860c815f952d711435f48d356ebac988362536bed955d43bfa436e34": "starcoder",
    "63b97e4253352e6f357cc59ea5b583e3a680eaeaf2632188c2b952de2588485e": "tekken",
}


class GGUFError(RuntimeError):
    """The model cannot be written as GGUF; the message names what is unsupported."""


# ---------------------------------------------------------------- what we accept

def read_config(folder: Path) -> dict:
    """The model's config.json if this writer supports it; otherwise GGUFError with the reason."""
    path = Path(folder) / "config.json"
    if not path.exists():
        raise GGUFError(msg("{folder} has no config.json, so it is not a transformers model folder.",
                            folder=str(folder)))
    config = json.loads(path.read_text())
    arch = (config.get("architectures") or ["?"])[0]
    if config.get("auto_map"):
        raise GGUFError(msg("This model uses custom code (auto_map in its config), which the GGUF export does not "
                        "support: only standard Llama-architecture models can be exported."))
    if config.get("model_type") != "llama" or arch != "LlamaForCausalLM":
        raise GGUFError(msg("GGUF export supports the Llama architecture (LlamaForCausalLM: SmolLM2, Llama "
                            "2/3-style) and this model is {arch} ({type}). Export the merged safetensors model "
                            "instead, and convert it with llama.cpp's convert_hf_to_gguf.py.", arch=arch,
                            type=str(config.get("model_type"))))
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    rope_type = rope.get("rope_type") or rope.get("type") or "default"
    if rope_type != "default":
        raise GGUFError(msg("This model uses '{rope}' RoPE scaling (Llama 3.1-style long context), which the GGUF "
                            "export does not support yet: only default RoPE.", rope=str(rope_type)))
    if config.get("attention_bias") or config.get("mlp_bias"):
        raise GGUFError(msg("This Llama model has bias terms in its attention or MLP layers, which the GGUF export "
                        "does not support."))
    if config.get("pretraining_tp", 1) not in (None, 1):
        raise GGUFError(msg("This model's config sets pretraining_tp above 1, which the GGUF export does not support."))
    if not (Path(folder) / "tokenizer.json").exists():
        raise GGUFError(msg("The model has no tokenizer.json (fast tokenizer), which the GGUF export needs."))
    return config


def rope_theta(config: dict) -> float:
    return float((config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta") or 10000.0)


def head_dim(config: dict) -> int:
    return config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]


# ---------------------------------------------------------------- tokenizer

def pre_tokenizer(tokenizer) -> str:
    """llama.cpp's name for the tokenizer's pre-tokenizer, found by hashing its ids on the check string."""
    digest = sha256(str(tokenizer.encode(CHKTXT)).encode()).hexdigest()
    if digest not in PRE_TOKENIZERS:
        raise GGUFError(msg("llama.cpp does not know this model's tokenizer (its pre-tokenizer is not in llama.cpp's "
                        "table), so a GGUF file would split text differently from the trained model. Export the "
                        "merged safetensors model instead."))
    return PRE_TOKENIZERS[digest]


def looks_special(text: str) -> bool:
    return text.startswith("<|") and text.endswith("|>")


def vocab(folder: Path, vocab_size: int):
    """(tokenizer, tokens, token types, pre-tokenizer) the way llama.cpp's _set_vocab_gpt2 builds them."""
    warm.ready()  # see engine/warm.py
    import gguf
    from transformers import AutoTokenizer

    model = json.loads((Path(folder) / "tokenizer.json").read_text()).get("model", {})
    if model.get("type") != "BPE" or model.get("byte_fallback"):
        raise GGUFError(msg("Only byte-level BPE tokenizers (GPT-2 style, as in SmolLM2 and Llama 3) can be exported; "
                        "this one is SentencePiece-style (Llama 2), which the GGUF export does not support yet."))
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    pre = pre_tokenizer(tokenizer)
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    if max(by_id) >= vocab_size:
        raise GGUFError(msg("The tokenizer has more tokens than the model's embedding rows (vocab_size)."))
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            special = added[i].special or looks_special(by_id[i])
            types.append(gguf.TokenType.CONTROL if special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    return tokenizer, tokens, types, pre


def adds_token(tokenizer, token_id, first: bool) -> bool:
    """Whether encoding plain text puts this token first (bos) or last (eos)."""
    ids = tokenizer("a")["input_ids"]
    return token_id is not None and bool(ids) and ids[0 if first else -1] == token_id


# ---------------------------------------------------------------- weights

def safetensors_files(folder: Path) -> list[Path]:
    index = Path(folder) / "model.safetensors.index.json"
    if index.exists():  # sharded checkpoint
        names = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        return [Path(folder) / n for n in names]
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise GGUFError(msg("{folder} has no safetensors weights.", folder=str(folder)))
    return files


def read_tensors(folder: Path):
    """(name, float32 numpy array) for every weight; bf16 and f16 checkpoints are widened first."""
    import torch
    from safetensors import safe_open

    for path in safetensors_files(folder):
        with safe_open(str(path), framework="pt") as f:
            for name in f.keys():
                yield name, f.get_tensor(name).to(torch.float32).numpy()


def permute(weights: np.ndarray, n_head: int, n_head_kv: int) -> np.ndarray:
    """HF stores the two rotary halves of each head apart; llama.cpp wants them interleaved."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    half = weights.shape[0] // n_head // 2
    return weights.reshape(n_head, 2, half, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def encode(name: str, data: np.ndarray, out_type: str):
    """(array, raw gguf type or None) for one tensor in the chosen output type."""
    import gguf

    if out_type == "f32" or data.ndim == 1 or name.endswith("_norm.weight"):
        return data.astype(np.float32), None
    if out_type == "q8_0" and data.shape[-1] % gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0] == 0:
        return gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0
    return data.astype(np.float16), None  # f16, and Q8_0's fallback for rows that are not a multiple of 32


# ---------------------------------------------------------------- the file

def file_type(out_type: str) -> int:
    import gguf

    return {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
            "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[out_type]


def check(folder: Path):
    """(config, vocab) when the model can be exported; GGUFError naming what is unsupported otherwise."""
    config = read_config(folder)
    return config, vocab(folder, config["vocab_size"])


def write_metadata(writer, folder: Path, config: dict, vocabulary, name: str, n_params: int, out_type: str):
    import gguf

    tokenizer, tokens, types, pre = vocabulary
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name)
    writer.add_basename(name)
    writer.add_size_label(gguf.size_label(n_params, 0, 0, 0))
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config.get("num_key_value_heads") or config["num_attention_heads"])
    writer.add_rope_freq_base(rope_theta(config))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    writer.add_rope_dimension_count(head_dim(config))
    if head_dim(config) != config["hidden_size"] // config["num_attention_heads"]:
        writer.add_key_length(head_dim(config))
        writer.add_value_length(head_dim(config))
    writer.add_file_type(file_type(out_type))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(folder, load_merges=True, n_vocab=config["vocab_size"])
    if not special.merges:
        raise GGUFError(msg("The tokenizer has no BPE merges, so llama.cpp could not split text with it."))
    special.add_special_token = {"bos": adds_token(tokenizer, tokenizer.bos_token_id, True),
                                 "eos": adds_token(tokenizer, tokenizer.eos_token_id, False)}
    if tokenizer.chat_template and not special.chat_template:
        special.chat_template = tokenizer.chat_template
    special.add_to_gguf(writer, quiet=True)


def convert(folder: Path, out: Path, out_type: str = "f16", name: str | None = None, progress=None,
            _permute: bool = True) -> Path:
    """Write `folder` (a transformers Llama model) as the GGUF file `out`; progress(fraction, text) if given.

    _permute=False skips the Q/K permutation: only for the negative-control test.
    """
    import gguf

    if out_type not in TYPES:
        raise GGUFError(msg("Unknown GGUF type '{type}': choose one of {types}.", type=out_type,
                            types=", ".join(TYPES)))
    folder, out = Path(folder), Path(out)
    config, vocabulary = check(folder)  # refuse before any work starts
    report = progress or (lambda fraction, text: None)
    n_layers, n_head = config["num_hidden_layers"], config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    tied = config.get("tie_word_embeddings", False)
    n_weights = sum(1 for _ in _keys(folder))
    converted, n_params = [], 0
    for done, (hf_name, data) in enumerate(read_tensors(folder), 1):
        if hf_name.endswith("rotary_emb.inv_freq") or (tied and hf_name == "lm_head.weight"):
            continue
        new_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise GGUFError(msg("The weight '{name}' has no place in a llama.cpp Llama model.", name=hf_name))
        if _permute and hf_name.endswith("q_proj.weight"):
            data = permute(data, n_head, n_head)
        elif _permute and hf_name.endswith("k_proj.weight"):
            data = permute(data, n_head, n_kv)
        n_params += data.size
        converted.append((new_name, *encode(new_name, data, out_type)))
        report(0.85 * done / n_weights, msg("converting weights: {done} of {total}", done=done, total=n_weights))
    tmp = out.with_name(out.name + ".partial")
    writer = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    write_metadata(writer, folder, config, vocabulary, name or folder.name, n_params, out_type)
    for new_name, data, raw_type in converted:
        writer.add_tensor(new_name, data, raw_dtype=raw_type)
    report(0.9, msg("writing the file"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, out)
    report(1.0, msg("done"))
    return out


def _keys(folder: Path):
    from safetensors import safe_open

    for path in safetensors_files(folder):
        with safe_open(str(path), framework="pt") as f:
            yield from f.keys()
