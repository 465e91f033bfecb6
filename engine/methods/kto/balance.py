"""How good and bad answers weigh in KTO, and the studio's advice on it.

KTO weighs each good answer's loss by desirable_weight and each bad one's by undesirable_weight. TRL (after the KTO
paper, eq. 8) advises desirable_weight × good answers ÷ (undesirable_weight × bad answers) between 1 and 4/3, and
warns in its log otherwise; the studio computes the same figure, explains it before training and, with
`kto.balance` on, raises the smaller side's weight so that the ratio is 1 (the paper's own example: 1 good answer
for 10 bad ones, desirable weight 10 to 13.33).
"""
from __future__ import annotations

import math

from ...data import LABELLED, PAIRS
from ...i18n import msg

LOW, HIGH = 1.0, 1.33  # TRL's advised range of the ratio (4/3, as TRL rounds it)


def ratio(good: int, bad: int, desirable: float, undesirable: float) -> float:
    return desirable * good / (undesirable * bad) if bad else math.inf


def balanced(good: int, bad: int) -> tuple[float, float]:
    """(desirable, undesirable) weights with the ratio at 1 (rounded to 2 decimals so that it stays at or above 1):
    the smaller side's weight is raised, the larger side's stays 1."""
    if not good or not bad or good == bad:
        return 1.0, 1.0
    if good > bad:
        return 1.0, math.floor(good / bad * 100) / 100
    return math.ceil(bad / good * 100) / 100, 1.0


def weights(settings, good: int, bad: int) -> tuple[float, float]:
    """The weights a run trains with: balanced from its counts, or the settings' own."""
    if settings.balance:
        return balanced(good, bad)
    return settings.desirable_weight, settings.undesirable_weight


def advised(good: int, bad: int, desirable: float, undesirable: float) -> dict:
    """TRL's advised ranges: the desirable weight with the undesirable one kept, or the reverse (not both)."""
    return {"desirable_low": round(LOW * undesirable * bad / good, 2),
            "desirable_high": round(HIGH * undesirable * bad / good, 2),
            "undesirable_low": round(desirable * good / (HIGH * bad), 2),
            "undesirable_high": round(desirable * good / (LOW * bad), 2)}


def counts(stats: dict) -> tuple[int, int]:
    """(good, bad) training answers from the data's statistics: labelled answers, or pairs read as one good and one
    bad answer each."""
    if stats.get("kind") == PAIRS:
        pairs = stats.get("train_rows", stats["usable"])
        return pairs, pairs
    return stats.get("good", 0), stats.get("bad", 0)


def advice(config, stats: dict) -> list:
    """What to know before training about the balance of good and bad answers (shown with the pre-flight)."""
    good, bad = counts(stats)
    if stats.get("kind") == PAIRS:
        return [msg("KTO reads each of your {pairs} training pairs as two answers, the chosen one good and the "
                    "rejected one bad: {good} good and {bad} bad answers, so the two sides are balanced.",
                    pairs=good, good=good, bad=bad)]
    if stats.get("kind") != LABELLED or not good or not bad:
        return []  # the data's own findings say when a side is missing
    k = config.kto
    desirable, undesirable = weights(k, good, bad)
    value = ratio(good, bad, desirable, undesirable)
    if k.balance:
        return [msg("{good} good and {bad} bad answers: training weighs each good answer {desirable:g} and each bad "
                    "one {undesirable:g}, so that both sides count the same in total (good weight × good answers ÷ "
                    "(bad weight × bad answers) = {ratio:.2f}; TRL advises 1 to 1.33).", good=good, bad=bad,
                    desirable=desirable, undesirable=undesirable, ratio=value)]
    if LOW <= round(value, 2) <= round(HIGH, 2):
        return [msg("{good} good and {bad} bad answers with the weights {desirable:g} (good) and {undesirable:g} "
                    "(bad): good weight × good answers ÷ (bad weight × bad answers) = {ratio:.2f}, within the 1 to "
                    "1.33 TRL advises.", good=good, bad=bad, desirable=desirable, undesirable=undesirable,
                    ratio=value)]
    a = advised(good, bad, desirable, undesirable)
    return [msg("{good} good and {bad} bad answers with the weights {desirable:g} (good) and {undesirable:g} (bad): "
                "good weight × good answers ÷ (bad weight × bad answers) = {ratio:.2f}, outside the 1 to 1.33 TRL "
                "advises, so one side will outweigh the other. Set the good answers' weight between "
                "{desirable_low:g} and {desirable_high:g}, or the bad answers' weight between {undesirable_low:g} "
                "and {undesirable_high:g} (not both), or turn on 'Balance good and bad'.", good=good, bad=bad,
                desirable=desirable, undesirable=undesirable, ratio=value, **a)]
