"""The reference's scores of every pair, computed once before training and kept in the run folder.

The reference (the model DPO starts from) is frozen, so its log-probability of each chosen and rejected answer never
changes. TRL's `precompute_ref_log_probs` scores every pair with it in one pass before the first step, and the steps
and validations then read those scores instead of running the reference again. This module adds two things to TRL's
pass:

- the scores are kept in the run folder (ref_logps.json, written atomically), so a resumed run reads them instead of
  scoring every pair again. The file records a fingerprint of what the scores depend on (the tokenised pairs, max
  length, truncation, the model's files, the starting adapter, precision and attention); any difference and they are
  computed again;
- the pass scores the pairs shortest first, in batches of similar length (the scores come back in the data's order),
  so it pads almost nothing; validation pairs stay in that order, so every validation pads little as well.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from ...paths import read_json, write_json
from .. import trainer as shared

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
    dataset's order. Only the main process writes it (the others compute or read the same values)."""

    def __init__(self, path: Path, source: dict, writes: bool = True):
        self.path, self.source, self.writes = Path(path), source, writes
        self.read, self.computed = [], []  # dataset names read from the file / computed here (for tests and benches)

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

    def load(self, name: str, fingerprint: str, rows: int) -> dict | None:
        stored = (read_json(self.path, {}) or {}).get(name) or {}
        if stored.get("fingerprint") != fingerprint or any(len(stored.get(c) or []) != rows for c in COLUMNS):
            return None
        return {c: stored[c] for c in COLUMNS}

    def save(self, name: str, fingerprint: str, values: dict) -> None:
        if not self.writes:
            return
        data = read_json(self.path, {}) or {}
        data[name] = {"fingerprint": fingerprint, "rows": len(values[COLUMNS[0]]), **values}
        write_json(self.path, data)


def columns(dataset, names) -> dict[str, list]:
    """Those columns of a dataset as plain lists, in the dataset's order."""
    return dataset.select_columns(list(names))[:]


def lengths(dataset) -> list[int]:
    """Each pair's longer sequence in tokens: what its row costs in a padded batch."""
    ids = columns(dataset, ID_COLUMNS)
    return [len(p) + max(len(c), len(r)) for p, c, r in zip(*(ids[c] for c in ID_COLUMNS))]


def by_length(dataset):
    """The dataset shortest pair first, and the order that puts it back."""
    order = sorted(range(len(dataset)), key=lengths(dataset).__getitem__)
    return dataset.select(order), order


@functools.lru_cache(maxsize=1)
def trainer_class():
    """TRL's DPOTrainer (as the studio's trainer) whose reference pass reads and writes the run folder's store."""
    base = shared.trainer_class("DPOTrainer")

    class ReferenceOnce(base):
        def __init__(self, *args, reference_store: Store, **kwargs):
            self.studio_store = reference_store  # read by _precompute_ref_logps, which TRL calls in __init__
            super().__init__(*args, **kwargs)

        def _precompute_ref_logps(self, dataset, name, batch_size):
            store = self.studio_store
            fingerprint = store.fingerprint(self, dataset)
            values = store.load(name, fingerprint, len(dataset))
            if values is None:
                ordered, order = by_length(dataset)
                scored = columns(super()._precompute_ref_logps(ordered, name, batch_size), COLUMNS)
                values = {c: [0.0] * len(order) for c in COLUMNS}
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

    return ReferenceOnce
