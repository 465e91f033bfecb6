"""The reward TRL trains with, built from the checks of a config: one reward function per check (1 when the answer
passes it, 0 when not) weighted by the check's weight, so TRL's logged mean of each function is that check's pass
rate and their weighted sum is the reward. The spread of rewards within each group is logged too (no spread: the
answers to a prompt all scored the same, and GRPO learns nothing from that prompt)."""
from __future__ import annotations

import statistics

from ...data import DataError
from ...i18n import msg
from . import checks


def answer_text(completion) -> str:
    """A completion as TRL passes it: a list of messages for chat data, else the text."""
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return str(completion)


def reference(example: dict) -> str:
    """The expected answer of a one-answer example ('' for prompts alone)."""
    return example["completion"][0]["content"] if example.get("completion") else ""


def check_references(items: list[dict], examples: list[dict]) -> None:
    """Refuse checks that compare with the expected answer when the data has none."""
    needing = [str(i) for i, item in enumerate(items, start=1) if item["kind"] in checks.NEEDS_REFERENCE]
    if needing and not any(reference(e).strip() for e in examples):
        raise DataError(msg("Check {numbers} of the reward compares the answer with the expected one, but this data "
                            "has prompts alone. Remove that check, or use a file with an answer per row.",
                            numbers=", ".join(needing)))


def group_spread(totals: list[float], size: int) -> float | None:
    """Mean standard deviation of the rewards within each group of `size` answers to one prompt."""
    if size < 2 or not totals or len(totals) % size:
        return None
    groups = [totals[i:i + size] for i in range(0, len(totals), size)]
    return statistics.fmean(statistics.pstdev(g) for g in groups)


class Scorer:
    """Scores a batch of answers once for all its checks; TRL then asks each check's function for its column."""

    def __init__(self, items: list[dict], group_size: int):
        self.items, self.group_size = items, group_size
        self.key, self.results = None, []

    def score(self, completions, references, completion_ids=None) -> list[tuple[float, list]]:
        texts = [answer_text(c) for c in completions]
        key = (texts, list(references))
        if key != self.key:
            ids = completion_ids or [None] * len(texts)
            self.results = [checks.reward(self.items, a, r, len(i) if i is not None else None)
                            for a, r, i in zip(texts, references, ids)]
            self.key = key
        return self.results

    def functions(self) -> list:
        """One function per check, in TRL's reward-function form, named after the check (rewards/<name>/mean)."""
        return [self._function(i, item) for i, item in enumerate(self.items)]

    def _function(self, index: int, item: dict):
        def check(prompts=None, completions=None, completion_ids=None, reference=None, log_metric=None, **_):
            refs = reference if reference is not None else [""] * len(completions)
            results = self.score(completions, refs, completion_ids)
            if index == 0 and log_metric is not None:  # once a batch (TRL calls the functions in order)
                spread = group_spread([total for total, _ in results], self.group_size)
                if spread is not None:
                    log_metric("reward_spread", spread)
            return [1.0 if passed[index] else 0.0 for _, passed in results]

        check.__name__ = name(index, item)
        return check


def name(index: int, item: dict) -> str:
    """A check's name in the logged metrics: check1_valid_json."""
    return f"check{index + 1}_{item['kind']}"
