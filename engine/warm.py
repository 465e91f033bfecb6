"""The training libraries imported once per process in a background thread, and the gate the rest waits at.

Importing torch, transformers, PEFT and TRL takes about 4 s on 2 cores; the studio starts it when a person opens
the Dataset, Model, Settings or Train page, so the first click on Start does not wait for it. transformers
resolves its names lazily, and a second thread resolving them while the warm-up imports fails ("cannot import
name 'AutoTokenizer' from 'transformers'", seen on the Settings page of a fresh server): so every engine
function that needs these libraries calls ready() first, which waits for a warm-up under way (and returns at
once otherwise).
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_thread: threading.Thread | None = None


def start() -> threading.Thread:
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_training_libraries, name="warm-up", daemon=True)
            _thread.start()
        return _thread


def ready(timeout: float = 300) -> None:
    """Wait for a warm-up under way; at once when there is none, or when called from the warm-up itself."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


def _import_training_libraries() -> None:
    try:
        import peft  # noqa: F401
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer  # noqa: F401
        from trl import DPOTrainer, SFTTrainer  # noqa: F401
        from trl.trainer import utils  # noqa: F401 (the compact head's switch)
    except Exception:  # a broken install shows its plain error when it is used, not here
        pass
