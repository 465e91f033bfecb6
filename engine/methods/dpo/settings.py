"""DPO's own settings: the `dpo` section of a config."""
from __future__ import annotations

from dataclasses import dataclass

from ...fields import setting
from ...i18n import N_


@dataclass
class DPOSettings:
    """Preference tuning (DPO): how far the model may move from where it started."""

    beta: float = setting(0.1, "How strongly the model is held near where it started: higher stays closer and "
                          "learns the preference more gently; lower moves further (and forgets more). 0.1 is usual.",
                          min=0.001, max=10.0, label=N_("Beta"))
    loss_type: str = setting("sigmoid", "'sigmoid' is the DPO loss. 'ipo' stops pushing once a pair is clearly "
                             "preferred (less over-fitting on small data); 'hinge' is the SLiC loss; 'robust' allows "
                             "for some pairs labelled the wrong way round (see below).",
                             choices=["sigmoid", "ipo", "hinge", "robust"], advanced=True, label=N_("Loss"))
    label_noise: float = setting(0.1, "With loss 'robust': the share of pairs you think have chosen and rejected "
                                 "swapped by mistake.", min=0.0, max=0.49, advanced=True, label=N_("Label noise"))
