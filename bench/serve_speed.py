"""Speed of a streamed answer from the served embedded model (SmolLM2-135M-Instruct), in one run.

A run of the default model with a freshly made LoRA adapter (its B matrices are zero, so it answers exactly as
the base model) is served by engine/serve.py on localhost; the official `openai` client asks for streamed answers
(greedy, max_tokens tokens, usage included) to a few prompts, for the run and for "base". For each answer:
time to the first token (request sent -> first text chunk), decode speed ((tokens - 1) / (last chunk - first
chunk)) and overall speed (tokens / whole request). The same answers straight from ChatModels.stream, without
HTTP, show what the server adds. Medians are printed.

    python bench/serve_speed.py                   # 5 prompts, 128 tokens
    python bench/serve_speed.py --prompts 3 --max-tokens 64
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", str(ROOT / ".studio" / "bench-home"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROMPTS = [
    "Write a short, friendly reply to a customer whose parcel is late.",
    "Explain what a firewall does in three sentences.",
    "Give me three ideas for a team lunch.",
    "What should I check before a long car journey?",
    "Summarise the benefits of regular exercise.",
]


def zero_adapter_run():
    """A finished run of the default model whose adapter changes nothing (LoRA's B starts at zero)."""
    from peft import LoraConfig, get_peft_model

    from engine import models, runs
    from engine.settings import RunConfig

    config = RunConfig(name="serve-bench")
    config.data.train_file = str(ROOT / "assets/data/ticket_routing/train.csv")
    run = runs.create_run(config)
    model, tokenizer, _ = models.load("default")
    peft = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    peft.save_pretrained(run.adapter_dir)
    tokenizer.save_pretrained(run.adapter_dir)
    run.set_status("finished")
    return run


def timed_stream(client, model: str, prompt: str, max_tokens: int) -> dict:
    start = time.perf_counter()
    first = last = None
    tokens = 0
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                                max_tokens=max_tokens, temperature=0, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            last = time.perf_counter()
            first = first or last
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
    return {"ttft": first - start, "tokens": tokens, "decode": (tokens - 1) / (last - first) if last > first else 0,
            "overall": tokens / (last - start)}


def direct(chat, which: str, prompt: str, settings) -> dict:
    start = time.perf_counter()
    first = last = None
    usage: dict = {}
    for piece in chat.stream([{"role": "user", "content": prompt}], settings, which, usage=usage):
        if piece.strip():
            last = time.perf_counter()
            first = first or last
    tokens = usage["completion_tokens"]
    return {"ttft": first - start, "tokens": tokens, "decode": (tokens - 1) / (last - first), "overall":
            tokens / (last - start)}


def report(label: str, rows: list[dict]) -> None:
    med = {k: statistics.median(r[k] for r in rows) for k in ("ttft", "tokens", "decode", "overall")}
    print(f"{label:34} first token {med['ttft'] * 1000:6.0f} ms   decode {med['decode']:5.1f} tok/s   "
          f"overall {med['overall']:5.1f} tok/s   ({med['tokens']:.0f} tokens, median of {len(rows)})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=len(PROMPTS))
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()

    import openai
    import torch

    from engine import serve

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} (other processes on a shared machine slow every figure)", flush=True)
    run = zero_adapter_run()
    served = serve.load_models([run])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve.Server(served, serve.ServeSettings(port=port).validate()).start()
    client = openai.OpenAI(base_url=server.url, api_key="not-needed", max_retries=0, timeout=600)
    prompts = PROMPTS[: args.prompts]
    try:
        timed_stream(client, "base", "Hello", 8)  # warm-up: first allocations, kernel choice
        for name in (run.id, "base"):
            report(f"served, {'run (LoRA)' if name == run.id else 'base'}",
                   [timed_stream(client, name, p, args.max_tokens) for p in prompts])
        chat = served[run.id].chat
        settings = dataclasses.replace(served[run.id].generation, max_new_tokens=args.max_tokens, temperature=0.0)
        for which in ("tuned", "base"):
            report(f"ChatModels.stream, {'run (LoRA)' if which == 'tuned' else 'base'}",
                   [direct(chat, which, p, settings) for p in prompts])
    finally:
        server.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
