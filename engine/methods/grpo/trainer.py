"""Reinforcement learning from checks (GRPO) through TRL's GRPOTrainer.

Each step takes `training.batch_size` prompts, the model writes `grpo.num_generations` answers to each (a group),
the checks of the reward score them (reward.py), and the model learns to write more like the answers that scored
above their group's mean. The expected answer of a row, when there is one, is what comparing checks compare with.
The trainer shares the studio's callback, run folder, checkpoints and speed levers with every method
(methods/trainer.py). With beta above 0 the reference is the model with its adapter switched off (TRL's rule for a
PEFT model), or, started from a finished run, a frozen copy of that run's adapter.

On a CPU generation is most of a step (docs/performance.md, "GRPO"): the answers are sampled by transformers'
generate. On an NVIDIA GPU with the `vllm` package installed, TRL's vLLM generation runs in the same process
(`use_vllm`, colocate mode) instead.
"""
from __future__ import annotations

import functools
import importlib.util

from transformers import TrainerCallback

from ... import models
from ...i18n import msg
from .. import trainer as shared
from . import reward


def to_hf(examples: list[dict]):
    """The prompts with their expected answers ('' for prompts alone), as TRL's GRPOTrainer reads them."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": e["prompt"], "reference": reward.reference(e)} for e in examples])


def use_vllm(device) -> bool:
    """TRL's vLLM generation: on an NVIDIA GPU where the vllm package is installed."""
    return device.kind == "cuda" and importlib.util.find_spec("vllm") is not None


class WeightsGuard(TrainerCallback):
    """GRPO samples its next answers from the model: NaN weights would fail that sampling before any loss could
    show them, so the trained weights are checked after every step (a few ms for an adapter)."""

    def __init__(self, studio):
        self.studio = studio

    def on_step_end(self, args, state, control, model=None, **kw):
        if not self.studio.diverged and model is not None and not shared.weights_finite(model):
            self.studio.diverged = msg("The weights became NaN or infinite at step {step}.", step=state.global_step)


@functools.lru_cache(maxsize=1)
def trainer_class():
    """The studio's GRPOTrainer, generating under the training's autocast: the frozen weights may be bf16 (a speed
    lever) while the adapter is fp32, and TRL samples answers outside autocast."""
    base = shared._make_trainer_class("GRPOTrainer")

    class StudioGRPOTrainer(base):
        def _generate_single_turn(self, *args, **kwargs):
            with self.accelerator.autocast():
                return super()._generate_single_turn(*args, **kwargs)

    return StudioGRPOTrainer


def grpo_args(run, config, device, levers, has_val: bool, resuming: bool, fresh: bool) -> dict:
    """The GRPOConfig arguments: the shared ones, with batches counted in answers (prompts x group size)."""
    g, t = config.grpo, config.training
    args = shared.common_args(run, config, device, levers, has_val, resuming, fresh_adapter=fresh)
    args.pop("max_length")  # GRPO cuts answers at max_completion_length; prompts are kept whole
    answers = t.batch_size * g.num_generations
    args.update(per_device_train_batch_size=answers, per_device_eval_batch_size=answers,
                num_generations=g.num_generations, num_generations_eval=g.num_generations,
                max_completion_length=g.max_completion_length, temperature=g.temperature, top_p=1.0,
                beta=g.beta, reward_weights=[float(i.get("weight", 1.0)) for i in g.reward],
                use_vllm=use_vllm(device), log_completions=False)
    if args["use_vllm"]:
        args.update(vllm_mode="colocate")
    return args


# A decode step's fixed cost beyond its matmuls (Python, sampling, the cache) on the embedded model and 2 cores, as
# engine/everyday.py measured it; calibrated for GRPO in docs/performance.md ("GRPO").
DECODE_OVERHEAD_S = 0.07


def estimate_seconds(config, shape: dict, rate: float, stats: dict, steps: int) -> float:
    """The pre-flight's time: each step writes its answers (one decode step per answer token, all answers at once),
    then scores them with the model and, with beta above 0, the reference, and trains on them; each validation
    writes a group of answers to each validation prompt."""
    g, t = config.grpo, config.training
    params, length = shape["parameters"], g.max_completion_length
    prompt = min(stats.get("mean") or t.max_length, t.max_length)
    passes = 1 + (g.beta > 0)  # the policy's forward (and backward) and the reference's forward

    def write(answers: int) -> float:
        return length * (answers * 2 * params / rate + DECODE_OVERHEAD_S)

    answers = t.batch_size * t.grad_accum * g.num_generations
    seconds = steps * (write(answers) + answers * (prompt + length) * params * (2 + 2 * passes) / rate)
    if stats.get("val_rows"):
        evals = 1 + steps // t.eval_every
        held = min(g.eval_prompts, stats["val_rows"]) * g.num_generations
        seconds += evals * (write(held) + held * (prompt + length) * params * 2 * passes / rate)
    return seconds


def build_trainer(run, config, stop=None, callbacks=(), on_record=None, resuming: bool = False, start=None):
    """GRPOTrainer for this run, with the studio callback; returns (trainer, studio_callback)."""
    from trl import GRPOConfig

    method = config.method_info  # this folder's Method, from the registry

    g = config.grpo
    train_rows, val_rows = shared.prepare_data(config, method.kinds, method.needs)
    reward.check_references(g.reward, train_rows)
    val_rows = val_rows[:g.eval_prompts]  # each validation prompt costs a group of answers
    device = models.device_info()
    levers = shared.choose_levers(config, device)
    model, tokenizer = shared.load_model(config, device, levers)
    model, peft_config = shared.adapter(model, config, start)
    has_val, fresh = bool(val_rows), peft_config is not None
    args = GRPOConfig(**grpo_args(run, config, device, levers, has_val, resuming, fresh))
    scorer = reward.Scorer(g.reward, g.num_generations)
    studio = shared.callback(run, stop, on_record, method)
    trainer = trainer_class()(model=model, args=args, reward_funcs=scorer.functions(), train_dataset=to_hf(train_rows),
                              eval_dataset=to_hf(val_rows) if has_val else None, processing_class=tokenizer,
                              peft_config=peft_config, callbacks=[*callbacks, WeightsGuard(studio), studio])
    return shared.finish_build(trainer, studio, levers, late_start_eval=has_val and not resuming and fresh)
