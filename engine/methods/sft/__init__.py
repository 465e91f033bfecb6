"""Supervised fine-tuning (SFT): the model learns the answers of your examples."""
from ...data import ANSWERS
from ...i18n import N_
from ..base import Method
from . import evaluate, trainer, views
from .presets import PRESETS

METHOD = Method(
    name="sft", label=N_("Supervised (SFT)"),
    description=N_("Learns the answers of your examples: one prompt and the answer you want per row."),
    data_kind=ANSWERS,
    needs=N_("This method learns from one answer per row (prompt and answer), but this file holds pairs of answers "
             "(a better and a worse one), answers marked good or bad, or prompts alone. Choose a method that learns "
             "from them on the Model page, or pick a file with one answer per row."),
    build_trainer=trainer.build_trainer, evaluate=evaluate.evaluate, views=views, presets=PRESETS,
    trainer_class="SFTTrainer", mixes_everyday=True, starts_from_runs=False, phases=evaluate.PHASES,
)
