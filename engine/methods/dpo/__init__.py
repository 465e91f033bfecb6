"""Preference tuning (DPO): the model learns which of two answers is better, from preference pairs."""
from ...data import PAIRS
from ...i18n import N_
from ..base import Method
from . import evaluate, trainer, views
from .presets import NOTE, PRESETS
from .settings import DPOSettings

METHOD = Method(
    name="dpo", label=N_("Preference (DPO)"),
    description=N_("DPO: teaches which of two answers is better (preference pairs, LoRA adapter)"),
    data_kind=PAIRS,
    needs=N_("DPO learns from pairs of answers (prompt, chosen, rejected), but this file has one answer per row. "
             "Choose supervised tuning on the Model page to learn these answers, or pick a file of pairs."),
    build_trainer=trainer.build_trainer, evaluate=evaluate.evaluate, views=views, presets=PRESETS, preset_note=NOTE,
    weights=("lora", "qlora"), section="dpo", settings=DPOSettings, trainer_class="DPOTrainer",
    sequences_per_row=2, row_tokens=trainer.row_tokens, reference_forwards=1, reference_once=True,
    mixes_everyday=False, starts_from_runs=True,
    logged=("rewards/", "eval_rewards/"),
    final_metrics={"eval_rewards/accuracies": "eval_accuracy", "eval_rewards/margins": "eval_margin"},
    phases=tuple(evaluate.PHASES),
)
