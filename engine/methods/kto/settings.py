"""KTO's own settings: the `kto` section of a config."""
from __future__ import annotations

from dataclasses import dataclass

from ...fields import setting
from ...i18n import N_


@dataclass
class KTOSettings:
    """Preference tuning from answers marked good or bad (KTO): how far the model may move, and how the two sides
    weigh."""

    beta: float = setting(0.1, "How strongly the model is held near where it started: higher stays closer and "
                          "learns more gently; lower moves further (and forgets more). 0.1 is usual.",
                          min=0.001, max=10.0, label=N_("Beta"))
    balance: bool = setting(True, "Weigh good and bad answers so that both sides count the same in total, from "
                            "how many of each your training rows have: the smaller side's weight is raised (TRL's "
                            "advice: good weight × good answers ÷ (bad weight × bad answers) between 1 and 4/3). "
                            "Off: the two weights below are used as they are.", label=N_("Balance good and bad"))
    desirable_weight: float = setting(1.0, "With balance off: how much each good answer's loss counts.", min=0.01,
                                      max=100.0, advanced=True, label=N_("Good answers' weight"))
    undesirable_weight: float = setting(1.0, "With balance off: how much each bad answer's loss counts.", min=0.01,
                                        max=100.0, advanced=True, label=N_("Bad answers' weight"))
    loss_type: str = setting("kto", "'kto' is the KTO loss, which compares each answer with how far the model has "
                             "moved overall (an estimate from the other answers of the batch: needs a batch of 2 or "
                             "more). 'apo_zero_unpaired' pushes good answers up and bad ones down without that "
                             "estimate, for good answers clearly better than what the model writes now.",
                             choices=["kto", "apo_zero_unpaired"], advanced=True, label=N_("Loss"))
