"""Training speed of the studio's engine on the embedded model, measured against this machine and a plain
SFTTrainer script with library defaults, all in one run.

Prints: real (non-padding) tokens per second for both, the machine's measured fp32 matmul rate, the share of
it that training reaches, and the ratio studio / plain. Usage: python bench/train_speed.py [--steps 12]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", str(ROOT / ".studio" / "bench-home"))

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from engine import data, models, runs, train  # noqa: E402
from engine.settings import RunConfig  # noqa: E402

CONFIG = ROOT / "assets/configs/ticket_routing.yaml"


def matmul_rate(n: int = 2048, repeats: int = 10) -> float:
    """Measured fp32 matmul FLOP/s of this machine with torch's own threads."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t)


class Clock(TrainerCallback):
    """Training-step time and real tokens (attention-mask sum) after a warm-up step."""

    def __init__(self, warmup: int = 2):
        self.warmup, self.seconds, self.tokens, self.t = warmup, 0.0, 0, None

    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        if state.global_step > self.warmup:
            self.seconds += time.perf_counter() - self.t

    def rate(self, trainer) -> float:
        return self.tokens / self.seconds


def count_tokens(trainer, clock: Clock):
    """Wrap training_step so every real token of a measured step is counted."""
    original = trainer.training_step

    def step(model, inputs, *args, **kwargs):
        if trainer.state.global_step >= clock.warmup:
            clock.tokens += int(inputs["attention_mask"].sum()) if "attention_mask" in inputs else \
                inputs["input_ids"].numel()
        return original(model, inputs, *args, **kwargs)

    trainer.training_step = step


def studio_run(config: RunConfig, steps: int) -> float:
    config.training.max_steps, config.training.save_every = steps, 10**5
    config.data.eval_file, config.data.val_fraction = "", 0.0  # time training only
    run = runs.create_run(config)
    clock = Clock()
    trainer, _ = train.build_trainer(run, callbacks=[clock])
    count_tokens(trainer, clock)
    trainer.train()
    return clock.rate(trainer)


def plain_run(config: RunConfig, steps: int) -> tuple[float, str]:
    """SFTTrainer with library defaults; only what this machine or a fair comparison requires is set."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    config.data.eval_file, config.data.val_fraction = "", 0.0
    _, train_rows, _, _ = data.prepare(config.data)
    folder = models.default_model_dir()
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = models.load_tokenizer(folder)
    changed = "same steps, batch size, learning rate and LoRA settings; report_to=none"
    kwargs = dict(output_dir=tempfile.mkdtemp(), max_steps=steps, report_to="none", save_strategy="no",
                  per_device_train_batch_size=config.training.batch_size, learning_rate=config.training.learning_rate)
    if not torch.cuda.is_available():
        kwargs.update(bf16=False, use_cpu=True)
        changed += "; bf16=False (TRL's default bf16 needs a GPU)"
    clock = Clock()
    trainer = SFTTrainer(model=model, args=SFTConfig(**kwargs), train_dataset=data.to_hf(train_rows),
                         processing_class=tokenizer, callbacks=[clock],
                         peft_config=LoraConfig(r=config.method.lora_r, lora_alpha=config.method.lora_alpha,
                                                lora_dropout=config.method.lora_dropout,
                                                target_modules="all-linear", task_type="CAUSAL_LM"))
    count_tokens(trainer, clock)
    trainer.train()
    return clock.rate(trainer), changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    config = RunConfig.load(CONFIG)
    device = models.device_info()
    n_params = sum(p.numel() for p in models.load()[0].parameters())
    rate = matmul_rate()
    print(f"device: {device.describe()}; torch threads {torch.get_num_threads()}")
    print(f"measured fp32 matmul rate: {rate / 1e9:.1f} GFLOP/s")
    studio = studio_run(config, args.steps)
    plain, changed = plain_run(RunConfig.load(CONFIG), args.steps)
    # LoRA: forward (2N) + backward through activations (2N) per token; frozen weights get no weight gradient.
    flops_per_token = 4 * n_params
    print(f"model: {n_params / 1e6:.1f}M parameters, LoRA r={config.method.lora_r}, batch "
          f"{config.training.batch_size}, {args.steps} steps (first 2 not timed)")
    print(f"studio engine : {studio:8.1f} real tokens/s = {studio * flops_per_token / 1e9:6.1f} GFLOP/s = "
          f"{studio * flops_per_token / rate:.1%} of the measured matmul rate")
    print(f"plain SFTTrainer: {plain:6.1f} real tokens/s = {plain * flops_per_token / 1e9:6.1f} GFLOP/s = "
          f"{plain * flops_per_token / rate:.1%} of the measured matmul rate  ({changed})")
    print(f"ratio studio / plain: {studio / plain:.2f}x")


if __name__ == "__main__":
    main()
