"""From a data file to training examples, with every problem reported by row.

Data is grouped by shape, not by method: `answers` holds the shapes with one answer per row, `pairs` the shapes
with a better and a worse answer (preference pairs), `labelled` answers marked good or bad (thumbs up/down). A
method says which kinds it reads (engine/methods).
- files.py   reading CSV, TSV, JSON(L), Parquet and Excel into rows; saving uploads
- rows.py    problems by row and column, the loaded file, reading a cell as text
- answers.py one-answer shapes, their statistics and findings
- pairs.py   pair shapes, their statistics and findings (transcripts.py: "Human: ... Assistant: ..." texts)
- labelled.py answers marked good or bad, their statistics and findings
- prompts.py prompts alone (no answer column), read as one-answer examples with an empty answer
- tokens.py  an example as tokens, as the trainers see it
"""
from __future__ import annotations

import random
from pathlib import Path

from ..i18n import N_, Message
from . import answers, labelled, pairs, prompts
from .files import MAX_FILE_BYTES, SUFFIXES, read_table, save_upload  # noqa: F401 (the package's API)
from .rows import (ANSWERS, LABELLED, PAIRS, PROMPTS, UNREADABLE, DataError, LoadedData, Problem,  # noqa: F401
                   first_problems)
from .tokens import render_example, tokenize_example  # noqa: F401

SHAPES = [*answers.SHAPES, *pairs.SHAPES, *labelled.SHAPES, *prompts.SHAPES]
SHAPE_NAMES = {**answers.SHAPE_NAMES, **pairs.SHAPE_NAMES, **labelled.SHAPE_NAMES, **prompts.SHAPE_NAMES}
KINDS = {ANSWERS: answers, PAIRS: pairs, LABELLED: labelled, PROMPTS: prompts}
# The preview table's column names (each kind's preview_rows), shown translated.
PREVIEW_COLUMNS = [N_("row"), N_("prompt"), N_("answer"), N_("chosen"), N_("rejected"), N_("label"), N_("system")]


def load_data(path, shape: str = "auto", prompt_column: str = "", answer_column: str = "",
              system_prompt: str = "", name: str | None = None) -> LoadedData:
    """Read, detect, map and validate a file. Raises DataError only when no row at all can be used."""
    path = Path(path)
    name = name or path.name
    columns, rows, problems, notes = read_table(path, name)
    pair_shape = pairs.detect_shape(columns, rows) if shape == "auto" else shape if shape in pairs.SHAPES else None
    if pair_shape:
        return pairs.load(name, columns, rows, problems, notes, pair_shape, system_prompt)
    if (shape == "auto" and labelled.detect_shape(columns)) or shape in labelled.SHAPES:
        return labelled.load(name, columns, rows, problems, notes, "labelled", system_prompt)
    if shape in prompts.SHAPES or shape == "auto" and prompts.detect_shape(columns):
        return prompts.load(name, columns, rows, problems, notes, system_prompt)
    return answers.load(name, columns, rows, problems, notes, shape, prompt_column, answer_column, system_prompt)


def split(examples: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Seeded train/validation split; at least one row on each side when there are two or more."""
    if val_fraction <= 0 or len(examples) < 2:
        return list(examples), []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_val = min(len(examples) - 1, max(1, round(len(examples) * val_fraction)))
    val = set(order[:n_val])
    return ([e for i, e in enumerate(examples) if i not in val], [e for i, e in enumerate(examples) if i in val])


def prepare(settings, loader=None) -> tuple[LoadedData, list[dict], list[dict], LoadedData | None]:
    """Load the data settings' files: (train data, train examples, validation examples, eval data).
    loader(path, shape, prompt_column, answer_column, system_prompt) reads one file (the studio's is cached)."""
    loader = loader or load_data
    train = loader(settings.train_file, settings.shape, settings.prompt_column, settings.answer_column,
                   settings.system_prompt)
    if settings.eval_file:
        held = loader(settings.eval_file, settings.shape, settings.prompt_column, settings.answer_column,
                      settings.system_prompt)
        return train, train.examples, held.examples, held
    train_rows, val_rows = split(train.examples, settings.val_fraction, settings.seed)
    return train, train_rows, val_rows, None


def preview_rows(data: LoadedData, limit: int = 200) -> list[dict]:
    """The usable examples as table rows, as the model will read them."""
    return KINDS[data.kind].preview_rows(data.examples[:limit])


def to_hf(examples: list[dict], kind: str = ANSWERS):
    return KINDS[kind].to_hf(examples)


def render_sides(data: LoadedData, tokenizer, example: dict, max_length: int | None = None) -> list[tuple[str, dict]]:
    """The example exactly as the model reads it, one rendering per answer: (msgid naming the answer, rendering).
    A pair is read twice, the prompt with the chosen answer and with the rejected one."""
    return [(label, render_example(tokenizer, side, max_length)) for label, side in KINDS[data.kind].sides(example)]


def compute_stats(data: LoadedData, tokenizer, max_length: int, train: list[dict] | None = None,
                  val: list[dict] | None = None) -> dict:
    """Token statistics of the data, measured with the model's tokenizer exactly as training will cut it."""
    return KINDS[data.kind].compute_stats(data, tokenizer, max_length, train, val)


def plain_findings(stats: dict) -> list[Message]:
    """Messages for the things worth a person's attention before training."""
    return KINDS[stats.get("kind", ANSWERS)].plain_findings(stats)


DEMOS_DIR = Path(__file__).resolve().parents[2] / "assets" / "data"


def demo_datasets() -> dict[str, dict]:
    """Bundled demo datasets: name -> {train, test, description}."""
    found = {}
    for folder in sorted(p for p in DEMOS_DIR.iterdir() if p.is_dir()) if DEMOS_DIR.exists() else []:
        train = next(iter(sorted(folder.glob("train.*"))), None)
        test = next(iter(sorted(folder.glob("test.*"))), None)
        if train:
            found[folder.name] = {"train": str(train), "test": str(test) if test else "",
                                  "description": DEMO_TEXT.get(folder.name, "")}
    return found


DEMO_TEXT = {
    "ticket_routing": N_("Route a customer support ticket to a team and a priority, in one fixed format "
                         "(CSV, instruction/input/output, 300 rows + 60 held out)."),
    "order_extraction": N_("Turn an order written in plain words into compact JSON "
                           "(JSONL chat messages, 300 rows + 60 held out)."),
    "support_feedback": N_("Answers marked good or bad: a support bot's replies with a thumbs up or down from the "
                           "customer (JSONL prompt/completion/label, 300 answers + 80 held out)."),
    "polite_replies": N_("Preference pairs: a shop assistant's reply that starts 'Happy to help!' and answers "
                         "in one sentence is preferred to a curt or rambling one (JSONL prompt/chosen/rejected, "
                         "300 pairs + 60 held out)."),
}
