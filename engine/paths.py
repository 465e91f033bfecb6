"""Where the studio keeps things: one home folder, set by STUDIO_HOME.

Every file the studio writes or reads on the user's behalf lives under it, so
names coming from the user go through `safe_name` / `inside_home` first.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path

DEFAULT_HOME = Path.home() / ".finetune-studio"


def home() -> Path:
    path = Path(os.environ.get("STUDIO_HOME") or DEFAULT_HOME).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    return _sub("models")


def runs_dir() -> Path:
    return _sub("runs")


def uploads_dir() -> Path:
    return _sub("uploads")


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(text: str, fallback: str = "run") -> str:
    """A file-name-safe version of user text: ASCII letters, digits, '-', '_' and '.'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-_")[:64]
    return text or fallback


def inside(base: Path, *parts: str) -> Path:
    """Join parts under base and refuse any result that escapes it (../, absolute parts, links)."""
    base = Path(base).resolve()
    if any("\x00" in p for p in parts):
        raise ValueError("A path contains a NUL character.")
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"The path {'/'.join(parts)!r} points outside {base}.")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Write a whole file so that a reader (or a crash) never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str))


def read_json(path: Path, default=None):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
