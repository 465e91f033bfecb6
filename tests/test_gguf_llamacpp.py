"""The GGUF export runs in llama.cpp itself: the fine-tuned default model, exported, loaded by llama.cpp.

llama.cpp comes prebuilt from npm (node-llama-cpp with its @node-llama-cpp/linux-x64 binary), installed by
`make test` with `npm ci` in tests/llamacpp; nothing is compiled or downloaded at run time.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import torch

from engine import export, runs, scoring, train
from engine.settings import RunConfig

ROOT = Path(__file__).resolve().parents[1]
LLAMACPP = ROOT / "tests" / "llamacpp"
ROWS = 20  # held-out rows answered by both
MAX_TOKENS = 48

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (LLAMACPP / "node_modules" / "@node-llama-cpp" / "linux-x64").exists(),
                                 reason="llama.cpp for the tests is not installed: run `make llamacpp`")]


@pytest.fixture(scope="module")
def order_run():
    """The default model fine-tuned on the order-extraction demo: a short run that already answers in JSON."""
    config = RunConfig.load(ROOT / "assets/configs/order_extraction.yaml")
    config.data.train_file = str(ROOT / config.data.train_file)
    config.data.eval_file, config.data.val_fraction = "", 0.0  # no validation passes: the test file is read below
    config.training.preset = "custom"
    config.training.max_steps, config.training.learning_rate = 12, 3e-3  # training loss ~0.01 by then
    config.training.minutes = 0.0  # those 12 steps, not the quick preset's 2-minute budget
    config.training.save_every = 12
    run = runs.create_run(config)
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


@pytest.fixture(scope="module")
def held_out(order_run):
    from engine import models

    merged = export.merged_model(order_run)
    tokenizer = models.load_tokenizer(merged)
    rows = [json.loads(line) for line in (ROOT / "assets/data/order_extraction/test.jsonl").open()][:ROWS]
    texts = [tokenizer.apply_chat_template(r["messages"][:-1], tokenize=False, add_generation_prompt=True)
             for r in rows]
    expected = [r["messages"][-1]["content"] for r in rows]
    return merged, tokenizer, texts, expected


@pytest.fixture(scope="module")
def merged_answers(held_out):
    """Greedy answers of the merged safetensors model, one prompt at a time (no padding)."""
    from transformers import AutoModelForCausalLM

    merged, tokenizer, texts, _ = held_out
    model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    answers = []
    for text in texts:
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=MAX_TOKENS, do_sample=False, temperature=None, top_p=None,
                                 top_k=None, pad_token_id=tokenizer.pad_token_id)
        answer = out[0, ids.shape[1]:].tolist()
        answers.append(answer[:-1] if answer and answer[-1] == tokenizer.eos_token_id else answer)
    return answers


def llamacpp(model: Path, prompts: list[str]) -> list[dict]:
    job = json.dumps({"model": str(model), "prompts": prompts, "max_tokens": MAX_TOKENS})
    done = subprocess.run(["node", "answer.mjs"], input=job, cwd=LLAMACPP, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def exported(run, out_type: str) -> dict:
    started = time.time()
    made = export.gguf_export(run, out_type)
    print(f"\n{out_type}: {made['size_bytes'] / 1e6:.0f} MB written in {time.time() - started:.1f} s")
    return made


def test_llamacpp_answers_like_the_merged_model_in_f16(order_run, held_out, merged_answers):
    _, tokenizer, texts, expected = held_out
    made = exported(order_run, "f16")
    results = llamacpp(Path(made["gguf"]), texts)
    for text, result in zip(texts, results):
        assert result["prompt_ids"] == tokenizer(text, add_special_tokens=False)["input_ids"]
    same = [r["answer_ids"] == a for r, a in zip(results, merged_answers)]
    correct = [scoring.exact_match(r["answer"], e) for r, e in zip(results, expected)]
    print(f"F16 in llama.cpp: {sum(same)}/{len(same)} answers identical to the merged model, "
          f"{sum(correct):.0f}/{len(correct)} exactly right")
    assert all(same), [(r["answer"], tokenizer.decode(a)) for r, a, s in zip(results, merged_answers, same) if not s]
    assert sum(correct) / len(correct) >= 0.7  # the fine-tuned model answers the demo task
    modelfile = Path(made["modelfile"]).read_text()
    assert modelfile.startswith(f"FROM ./{Path(made['gguf']).name}") and 'PARAMETER stop "<|im_end|>"' in modelfile


def test_llamacpp_q8_0_still_answers_the_demo_task(order_run, held_out, merged_answers):
    _, tokenizer, texts, expected = held_out
    made = exported(order_run, "q8_0")
    f16 = export.gguf_dir(order_run) / f"{made['name']}-f16.gguf"
    assert made["size_bytes"] < 0.6 * f16.stat().st_size
    results = llamacpp(Path(made["gguf"]), texts)
    same = [r["answer_ids"] == a for r, a in zip(results, merged_answers)]
    correct = [scoring.exact_match(r["answer"], e) for r, e in zip(results, expected)]
    print(f"Q8_0 in llama.cpp: {sum(same)}/{len(same)} answers identical to the merged model, "
          f"{sum(correct):.0f}/{len(correct)} exactly right")
    assert sum(same) / len(same) >= 0.8
    assert sum(correct) / len(correct) >= 0.7
