"""Preference tuning from answers marked good or bad (KTO): the model learns to make good answers more likely and
bad ones less likely, from thumbs up/down on single answers, or from pairs (each read as a good and a bad answer)."""
from ...data import LABELLED, PAIRS
from ...i18n import N_
from ..base import Method
from . import balance, evaluate, trainer, views
from .presets import NOTE, PRESETS
from .settings import KTOSettings

METHOD = Method(
    name="kto", label=N_("Good/bad answers (KTO)"),
    description=N_("KTO: learns from answers marked good or bad (thumbs up/down, no pairs needed), or from pairs "
                   "(LoRA adapter)"),
    data_kind=LABELLED, also_reads=(PAIRS,), rows_per_pair=2,
    needs=N_("KTO learns from answers marked good or bad (prompt, completion, label) or from pairs of answers "
             "(prompt, chosen, rejected), but this file has one answer per row with no label. Add a label column "
             "(true/false, 👍/👎), choose supervised tuning on the Model page, or pick another file."),
    build_trainer=trainer.build_trainer, evaluate=evaluate.evaluate, views=views, presets=PRESETS, preset_note=NOTE,
    weights=("lora", "qlora"), section="kto", settings=KTOSettings, trainer_class="KTOTrainer",
    # Each answer: the policy's forward and backward; no-grad forwards of the policy on the mismatched (KL)
    # answer and of the reference on both.
    sequences_per_row=1, reference_forwards=3, mixes_everyday=False, starts_from_runs=True,
    logged=("rewards/", "eval_rewards/", "logps/", "eval_logps/", "kl", "eval_kl"),
    final_metrics={"eval_rewards/margins": "eval_margin", "eval_rewards/chosen": "eval_reward_good",
                   "eval_rewards/rejected": "eval_reward_bad"},
    phases=tuple(evaluate.PHASES), advice=balance.advice,
)
