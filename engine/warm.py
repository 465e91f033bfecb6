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


def start(trainers: tuple[str, ...] = ()) -> threading.Thread:
    """trainers: the TRL classes the registered methods train with (jobs.warm_up passes them)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_training_libraries, args=(trainers,), name="warm-up",
                                       daemon=True)
            _thread.start()
        return _thread


def ready(timeout: float = 300) -> None:
    """Wait for a warm-up under way; at once when there is none, or when called from the warm-up itself."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


def _import_training_libraries(trainers: tuple[str, ...]) -> None:
    try:
        import peft  # noqa: F401
        import trl
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer  # noqa: F401
        from trl.trainer import utils  # noqa: F401 (the compact head's switch)

        for name in trainers:
            getattr(trl, name)  # TRL resolves its names lazily: resolve them here, once
    except Exception:  # a broken install shows its plain error when it is used, not here
        pass
