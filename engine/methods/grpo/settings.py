"""GRPO's own settings: the `grpo` section of a config, with the reward as a list of checks (data, never code)."""
from __future__ import annotations

from dataclasses import dataclass

from ...fields import setting
from ...i18n import N_
from .checks import ITEMS

DEFAULT_REWARD = [{"kind": "equals", "weight": 1.0}]


@dataclass
class GRPOSettings:
    """Reinforcement learning from checks (GRPO): the model writes several answers to each prompt, the checks score
    them, and it learns to write more like the better ones."""

    reward: list = setting(DEFAULT_REWARD, "The reward, as a list of checks: each answer the model writes gets the "
                           "weights of the checks it passes added up (a negative weight is a penalty). In a YAML file "
                           "or on the command line: a list such as [{kind: valid_json, weight: 1}, {kind: json_field, "
                           "field: city, weight: 2}]. Kinds: valid_json, json_keys (keys), json_field (field), equals, "
                           "number (which), contains (words, all), not_contains (words), pattern (pattern), length "
                           "(min, max, unit: words, characters or tokens), starts_with (text), ends_with (text).",
                           items=ITEMS, label=N_("Reward"))
    num_generations: int = setting(4, "Answers written to each prompt (the group). GRPO learns from the differences "
                                   "within a group, so at least 2; more gives a surer signal and costs more time.",
                                   min=2, max=64, label=N_("Answers per prompt"))
    max_completion_length: int = setting(48, "Longest answer the model writes while training, in tokens. Generating "
                                         "is most of a step's time: keep it just above your answers' length.",
                                         min=4, max=4096, label=N_("Longest answer (tokens)"))
    temperature: float = setting(1.0, "How varied the answers to one prompt are. Too low and they are all the same "
                                 "(nothing to compare); 1.0 is usual.", min=0.1, max=2.0, advanced=True,
                                 label=N_("Sampling temperature"))
    beta: float = setting(0.04, "How strongly the model is held near where it started (the KL penalty). 0 lets it "
                          "move freely and skips the reference pass (faster).", min=0.0, max=10.0, advanced=True,
                          label=N_("Beta (KL)"))
    eval_prompts: int = setting(8, "Held-out prompts answered at each validation during training (each gets a full "
                                "group of answers). The Evaluate page answers more, once training is over.",
                                min=1, max=1000, advanced=True, label=N_("Validation prompts"))
