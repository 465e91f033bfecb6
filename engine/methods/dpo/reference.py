"""The reference's scores of the pairs, computed once before training and kept in the run folder.

The reference (the model DPO starts from) is frozen, so its log-probability of each chosen and rejected answer never
changes. TRL's `precompute_ref_log_probs` scores the pairs with it in one pass before the first step, and the steps
and validations then read those scores instead of running the reference again. This module adds to TRL's pass:

- only the training pairs the run will draw are scored: a run of fixed steps shorter than an epoch (the quick preset
  draws 240 of the 300 demo pairs) would otherwise score pairs it never sees. The Trainer draws them in the order of
  accelerate's seedable sampler (a permutation seeded with data_seed + epoch), which `drawn_rows` repeats. Should a
  batch hold a pair without a score all the same, the step scores that batch with the reference as TRL does without
  the pass (`late` counts them; the tests check there are none);
- the pass takes the pairs shortest first, in batches of similar length (the scores come back in the data's order),
  so it pads little; the validation pairs stay in that order, so every validation pads little as well;
- the scores are kept in the run folder (ref_logps.json, written atomically), so a resumed run reads them instead of
  scoring again. The file records a fingerprint of what the scores depend on (the tokenised pairs, max length,
  truncation, the model's files, the starting adapter, precision and attention): any difference and they are
  computed again.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path

from ...paths import read_json, write_json
from . import shared_prompt

FILE = "ref_logps.json"
COLUMNS = ("ref_chosen_logps", "ref_rejected_logps")
ID_COLUMNS = ("prompt_ids", "chosen_ids", "rejected_ids")


def source(config, start: Path | None, model_folder: Path | None) -> dict:
    """What the reference is: the model's files and the starting adapter (a finished run's, or none)."""
    return {"model": config.model.name, "files": _files(model_folder), "start": _digest(start)}


def _files(folder: Path | None) -> list:
    """Name, size and modification time of the model's weight and config files (a changed file scores anew)."""
    if folder is None or not Path(folder).is_dir():
        return []
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(Path(folder).iterdir())
            if p.suffix in (".safetensors", ".bin", ".json", ".pt")]


def _digest(folder: Path | None) -> str | None:
    """The starting adapter's files, hashed (a few MB)."""
    if folder is None:
        return None
    h = hashlib.sha256()
    for p in sorted(Path(folder).glob("adapter_*")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


class Store:
    """The run folder's ref_logps.json: per dataset name ("train", "eval"), its fingerprint and the scores in the
    dataset's order (null for a pair the run does not draw). Only the main process writes it."""

    def __init__(self, path: Path, source: dict, writes: bool = True):
        self.path, self.source, self.writes = Path(path), source, writes
        self.read, self.computed = [], []  # dataset names read from the file / scored here
        self.late = 0  # pairs scored in a step because the pass had not scored them

    def fingerprint(self, trainer, dataset) -> str:
        h = hashlib.sha256()
        args = trainer.args
        settings = {"source": self.source, "max_length": args.max_length, "truncation": args.truncation_mode,
                    "ld_alpha": trainer.ld_alpha, "bf16": bool(args.bf16), "fp16": bool(args.fp16),
                    "attention": trainer.model.config._attn_implementation}
        h.update(json.dumps(settings, sort_keys=True, default=str).encode())
        ids = columns(dataset, ID_COLUMNS)
        for column in ID_COLUMNS:
            h.update(json.dumps(ids[column]).encode())
        return h.hexdigest()

    def load(self, name: str, fingerprint: str, needed: list[int]) -> dict | None:
        """The stored scores of this dataset, if they are for it and hold every pair needed."""
        stored = (read_json(self.path, {}) or {}).get(name) or {}
        if stored.get("fingerprint") != fingerprint:
            return None
        values = {c: [math.nan if v is None else v for v in stored.get(c) or []] for c in COLUMNS}
        if any(len(v) != stored.get("rows") or any(math.isnan(v[i]) for i in needed) for v in values.values()):
            return None
        return values

    def save(self, name: str, fingerprint: str, values: dict) -> None:
        if not self.writes:
            return
        data = read_json(self.path, {}) or {}
        data[name] = {"fingerprint": fingerprint, "rows": len(values[COLUMNS[0]]),
                      **{c: [None if math.isnan(v) else v for v in values[c]] for c in COLUMNS}}
        write_json(self.path, data)


def columns(dataset, names) -> dict[str, list]:
    """Those columns of a dataset as plain lists, in the dataset's order."""
    return dataset.select_columns(list(names))[:]


def lengths(dataset) -> list[int]:
    """Each pair's longer sequence in tokens: what its row costs in a padded batch."""
    ids = columns(dataset, ID_COLUMNS)
    return [len(p) + max(len(c), len(r)) for p, c, r in zip(*(ids[c] for c in ID_COLUMNS))]


def by_length(dataset, rows: list[int] | None = None):
    """The dataset's rows (all, or those given) shortest first, and their positions in the dataset."""
    size = lengths(dataset)
    order = sorted(range(len(dataset)) if rows is None else rows, key=size.__getitem__)
    return dataset.select(order), order


def drawn_rows(args, rows: int) -> list[int]:
    """The training rows a run draws: all of them once it runs an epoch or more, else the first of accelerate's
    seedable sampler's order for epoch 0 (torch.randperm seeded with data_seed), as many as the steps take."""
    import torch

    needed = args.max_steps * args.per_device_train_batch_size * args.gradient_accumulation_steps
    predictable = args.world_size == 1 and args.train_sampling_strategy == "random" and \
        args.accelerator_config.use_seedable_sampler
    if args.max_steps <= 0 or needed >= rows or not predictable:
        return list(range(rows))
    seed = args.data_seed if args.data_seed is not None else args.seed
    return torch.randperm(rows, generator=torch.Generator().manual_seed(seed)).tolist()[:needed]


@functools.lru_cache(maxsize=1)
def trainer_class():
    """TRL's DPOTrainer (as the studio's trainer) whose reference pass scores the pairs the run uses, once, and reads
    and writes them in the run folder's store."""
    import torch

    class ReferenceOnce(shared_prompt.trainer_class()):
        def __init__(self, *args, reference_store: Store, **kwargs):
            self.studio_store = reference_store  # read by _precompute_ref_logps, which TRL calls in __init__
            super().__init__(*args, **kwargs)

        def _precompute_ref_logps(self, dataset, name, batch_size):
            store = self.studio_store
            needed = drawn_rows(self.args, len(dataset)) if name == "train" else list(range(len(dataset)))
            fingerprint = store.fingerprint(self, dataset)
            values = store.load(name, fingerprint, needed)
            if values is None:
                ordered, order = by_length(dataset, needed)
                scored = columns(super()._precompute_ref_logps(ordered, name, batch_size), COLUMNS)
                values = {c: [math.nan] * len(dataset) for c in COLUMNS}
                for column in COLUMNS:
                    for position, value in zip(order, scored[column]):
                        values[column][position] = value
                store.save(name, fingerprint, values)
                store.computed.append(name)
            else:
                store.read.append(name)
            for column in COLUMNS:
                dataset = dataset.add_column(column, values[column])
            # Validation reads the pairs in order: keep them by length so its batches pad little. (Training draws
            # its batches at random from the dataset's order, which stays the data's.)
            return dataset if name == "train" else by_length(dataset)[0]

        def compute_loss(self, model, inputs, *args, **kwargs):
            missing = torch.isnan(inputs[COLUMNS[0]]) | torch.isnan(inputs[COLUMNS[1]])
            if missing.any():  # a pair the pass did not score: the reference scores this batch, as TRL would
                scores = self.compute_ref_log_probs(model, inputs)
                for column, score in zip(COLUMNS, scores):
                    inputs[column] = torch.where(missing, score.to(inputs[column]), inputs[column])
                self.studio_store.late += int(missing.sum())
            return super().compute_loss(model, inputs, *args, **kwargs)

    return ReferenceOnce
