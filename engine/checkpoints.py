"""A checkpoint counts only once its marker file is written, after transformers has finished saving it, so a
half-written checkpoint is never resumed from: the marker lists every file's size and hash."""
from __future__ import annotations

import time
from pathlib import Path

from .paths import read_json, write_json

MARKER = "studio_complete.json"


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mark_checkpoint(path: Path) -> None:
    """Written after transformers has saved the checkpoint: sizes and hashes of what a resume will read."""
    files = {f.name: {"size": f.stat().st_size, "sha256": _sha256(f)}
             for f in sorted(Path(path).iterdir()) if f.is_file() and f.name != MARKER}
    write_json(Path(path) / MARKER, {"files": files, "time": time.time()})


def checkpoint_ok(path: Path, verify: bool = False) -> bool:
    """The marker exists and every file it lists is there with its size (and, with verify, its hash)."""
    marker = read_json(Path(path) / MARKER)
    if not marker or not marker.get("files"):
        return False
    for name, meta in marker["files"].items():
        file = Path(path) / name
        if not file.exists() or file.stat().st_size != meta["size"]:
            return False
        if verify and _sha256(file) != meta["sha256"]:
            return False
    return True
