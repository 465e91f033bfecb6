"""Reinforcement learning from checks (GRPO): the model writes several answers to each prompt, a reward built from
checks (data, never code) scores them, and it learns to write more like the better ones."""
from ...data import ANSWERS, PROMPTS
from ...i18n import N_
from ..base import Method
from . import evaluate, preview, trainer, views
from .presets import NOTE, PRESETS
from .settings import GRPOSettings

METHOD = Method(
    name="grpo", label=N_("Checks (GRPO)"),
    description=N_("GRPO: the model writes several answers per prompt and learns from a reward you build from checks "
                   "(valid JSON, fields matching, words, length...), with a LoRA adapter"),
    data_kind=ANSWERS, also_reads=(PROMPTS,),
    needs=N_("GRPO learns from prompts (with the expected answer when there is one), but this file holds pairs of "
             "answers. Choose preference tuning on the Model page, or pick a file with one answer per row or prompts "
             "alone."),
    build_trainer=trainer.build_trainer, evaluate=evaluate.evaluate, views=views, presets=PRESETS, preset_note=NOTE,
    weights=("lora", "qlora"), section="grpo", settings=GRPOSettings, trainer_class="GRPOTrainer",
    reference_forwards=1, mixes_everyday=False, starts_from_runs=True,
    logged=("reward", "rewards/", "completions/", "kl", "frac_reward_zero_std", "eval_reward", "eval_rewards/",
            "eval_completions/", "eval_kl", "eval_frac_reward_zero_std"),
    final_metrics={"eval_reward": "eval_reward"}, phases=evaluate.PHASES, preview=preview,
    estimate_seconds=trainer.estimate_seconds, best_metric="eval_reward", best_higher=True,
)
