"""A run is a folder: config.yaml, status.json, metrics.jsonl, checkpoints/, adapter/ or model/, eval/.

Everything is written atomically (or appended line by line) so that the studio, a second tab, the CLI or a
restarted server reads the run exactly as it is. A checkpoint counts only once its marker file is written,
after transformers has finished saving it, so a half-written checkpoint is never resumed from.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
import time
from datetime import datetime
from pathlib import Path

from .i18n import N_, Message, msg
from .paths import inside, read_json, runs_dir, safe_name, write_atomic, write_json
from .checkpoints import checkpoint_ok
from .generation import answer_tokens, resolve
from .models import ModelError
from .sections import GenerationSettings
from .settings import RunConfig

STATES = ["queued", "running", "finished", "stopped", "diverged", "failed", "interrupted"]
ENDED = {"finished", "stopped", "diverged", "failed", "interrupted"}
_active: set[str] = set()  # run folders whose training is going on in this process
_active_lock = threading.Lock()


class Run:
    def __init__(self, path):
        self.path = Path(path)
        self.id = self.path.name

    # files
    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def adapter_dir(self) -> Path:
        return self.path / "adapter"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def eval_dir(self) -> Path:
        return self.path / "eval"

    def config(self) -> RunConfig:
        return RunConfig.load(self.config_path)

    def exists(self) -> bool:
        return self.config_path.exists()

    # status
    def status(self) -> dict:
        status = read_json(self.path / "status.json", {}) or {}
        status.setdefault("state", "queued")
        if status["state"] == "running" and not self._alive(status):
            status["state"] = "interrupted"
            message = msg("Training stopped unexpectedly (the program was closed or crashed). Resume continues "
                          "from the last saved checkpoint.")
            status["message"], status["message_key"] = str(message), message.to_dict()
        return status

    def _alive(self, status: dict) -> bool:
        pid = status.get("pid")
        if pid == os.getpid():
            with _active_lock:
                return str(self.path) in _active
        return bool(pid) and _pid_alive(pid)

    def set_status(self, state: str, **fields) -> dict:
        """A message is stored twice: in English (for people reading the file, and older studios) and as its
        key and values, so every reader shows it in their own language."""
        status = read_json(self.path / "status.json", {}) or {}
        if "message" in fields:
            message = fields["message"]
            fields["message_key"] = message.to_dict() if isinstance(message, Message) else None
            fields["message"] = str(message) if message is not None else None
        status.update(fields, state=state, updated=time.time())
        if state == "running":
            status["pid"] = os.getpid()
        write_json(self.path / "status.json", status)
        return status

    # stop requests from another process (the CLI's Ctrl-C, a second tab of another server)
    @property
    def stop_path(self) -> Path:
        return self.path / "stop.request"

    def request_stop(self) -> None:
        write_atomic(self.stop_path, str(time.time()))

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def clear_stop(self) -> None:
        self.stop_path.unlink(missing_ok=True)

    # metrics
    def append_metrics(self, record: dict) -> None:
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records after `step`, so a resumed run's chart continues without duplicates."""
        kept = [r for r in self.metrics() if r.get("step", 0) <= step]
        write_atomic(self.path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in kept))

    # checkpoints
    def checkpoints(self, verify: bool = False) -> list[Path]:
        """Complete checkpoints, oldest first (verify: also check every file's hash, as resume does)."""
        if not self.checkpoints_dir.exists():
            return []
        found = [p for p in self.checkpoints_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
        return sorted((p for p in found if checkpoint_ok(p, verify)), key=lambda p: int(p.name.split("-")[-1]))

    def last_checkpoint(self, verify: bool = False) -> Path | None:
        found = self.checkpoints(verify)
        return found[-1] if found else None

    def final_dir(self) -> Path | None:
        for path in (self.adapter_dir, self.model_dir):
            if (path / "config.json").exists() or (path / "adapter_config.json").exists():
                return path
        return None

    def can_resume(self) -> bool:
        return self.status()["state"] in ("stopped", "interrupted", "failed") and self.last_checkpoint() is not None

    def summary(self) -> dict:
        status = self.status()
        try:
            config = self.config()
        except Exception:
            config = None
        return {"id": self.id, "state": status["state"], "message": status.get("message", ""),
                "step": status.get("step", 0), "max_steps": status.get("max_steps", 0),
                "created": status.get("created"), "model": config.model.name if config else "?",
                "data": Path(config.data.train_file).name if config else "?",
                "method": config.method.method if config else "?", **(status.get("final") or {})}


STATE_TEXT = {
    "queued": ("info", N_("Waiting to start.")),
    "running": ("info", N_("Training is running.")),
    "finished": ("success", N_("Finished. Go on to evaluate the model, chat with it or export it.")),
    "stopped": ("warning", N_("Stopped by you. It can be resumed from its last checkpoint.")),
    "diverged": ("error", N_("Diverged: the loss stopped being a number, so training was stopped.")),
    "failed": ("error", N_("Failed.")),
    "interrupted": ("warning", N_("Interrupted: the program stopped while training.")),
}
# The state's name in a table or before its reason ("Failed: the device ran out of memory…").
STATE_NAMES = {"queued": N_("queued"), "running": N_("running"), "finished": N_("finished"), "stopped": N_("stopped"),
               "diverged": N_("diverged"), "failed": N_("failed"), "interrupted": N_("interrupted")}
WITH_REASON = {"diverged": N_("Diverged: {reason}"), "failed": N_("Failed: {reason}"),
               "interrupted": N_("Interrupted: {reason}")}
# Column names of runs.compare's results, shown translated.
COMPARE_COLUMNS = [N_("run"), N_("status"), N_("steps"), N_("validation loss"), N_("training loss"), N_("minutes")]
# (each method's own columns come from its views.compare_columns)


def status_message(status: dict) -> Message | None:
    """The status's reason as a message: its stored key and values, or an older run's English sentence."""
    if status.get("message_key"):
        return Message.from_dict(status["message_key"])
    return Message(status["message"]) if status.get("message") else None


METRIC_NAMES = {"eval_loss": N_("validation loss"), "eval_reward": N_("validation reward")}


def kept_words(status: dict) -> Message | None:
    """Which step's model a finished run kept and why, in words (Train, Evaluate, report, model card, CLI)."""
    final = status.get("final") or {}
    step, reason = final.get("kept_step"), final.get("kept_reason")
    if step is None or reason is None:
        return None  # a run trained before the best model was kept
    if reason == "last":
        return msg("Kept the model of the last step ({step}).", step=step)
    figure = msg(METRIC_NAMES.get(final.get("kept_metric"), final.get("kept_metric", "")))
    if reason == "best":
        text = msg("Kept the model of step {step} of {steps}: its {figure} ({value:.4g}) was the best; the later ones "
                   "were worse.", step=step, steps=final.get("steps", step), figure=figure, value=final["kept_value"])
    else:
        text = msg("Kept the model of the last step ({step}): its {figure} ({value:.4g}) was the best.", step=step,
                   figure=figure, value=final["kept_value"])
    if final.get("stopped_early"):
        text = msg("{kept} The run stopped early: validation had stopped improving.", kept=text)
    if final.get("start_value") is not None:
        text = msg("{kept} Before training, the model it started from scored better ({value:.4g}): on this figure, "
                   "training did not improve it.", kept=text, value=final["start_value"])
    return text


def describe_state(status: dict) -> tuple[str, Message]:
    """(level, plain sentence) for a status: level is info, success, warning or error."""
    state = status.get("state")
    level, text = STATE_TEXT.get(state, ("info", N_("Unknown state.")))
    reason = status_message(status)
    if state in ("diverged", "failed", "interrupted") and reason:
        return level, msg(WITH_REASON[state], reason=reason)
    return level, msg(text)


def load_results(run: Run) -> dict | None:
    """The run's last evaluation (eval/), or None before one."""
    results = read_json(run.eval_dir / "results.json")
    if results is not None:
        results["table"] = read_json(run.eval_dir / "rows.json", [])
        results["general_table"] = read_json(run.eval_dir / "general.json", [])
    return results


def compare(selected: list["Run"]) -> tuple[list[dict], list[dict]]:
    """(settings rows with a 'differs' flag, metrics rows) for runs side by side: the shared figures, then each
    run's method's own (a column stays empty for runs of another method)."""
    configs = {r.id: r.config() for r in selected}
    dicts = {rid: c.to_dict() for rid, c in configs.items()}
    sections = list(dict.fromkeys(s for d in dicts.values() for s in d if s != "name"))
    settings = []
    for section in sections:
        keys = list(dict.fromkeys(k for d in dicts.values() for k in d.get(section) or {}))
        for key in keys:
            values = {rid: (d.get(section) or {}).get(key, "") for rid, d in dicts.items()}
            settings.append({"setting": f"{section}.{key}", **{k: str(v) for k, v in values.items()},
                             "differs": len({str(v) for v in values.values()}) > 1})
    metrics = []
    for run in selected:
        status, results = run.status(), load_results(run) or {}
        final = status.get("final") or {}
        metrics.append({"run": run.id, "status": status["state"], "steps": status.get("step"),
                        "validation loss": final.get("eval_loss"), "training loss": final.get("train_loss"),
                        "minutes": round(final.get("runtime_s", 0) / 60, 1) if final else None,
                        **configs[run.id].method_info.views.compare_columns(results, final)})
    return settings, metrics


def data_statistics(config: RunConfig) -> tuple[list[dict], dict]:
    """(training rows, token statistics) of the config's data with its model's tokenizer: the same statistics the
    Settings page shows, for the answer length and the time plan."""
    from . import data, models

    loaded, train_rows, val_rows, _ = data.prepare(config.data)
    tokenizer = models.load_tokenizer(models.resolve(config.model.name, config.model.allow_pickle))
    return train_rows, data.compute_stats(loaded, tokenizer, config.training.max_length, train_rows, val_rows)


def measured_answer_tokens(config: RunConfig) -> int:
    """The answer length measured from the config's training file (engine.generation.answer_tokens)."""
    return answer_tokens(data_statistics(config)[1])


def answer_settings(run: Run, config: RunConfig | None = None) -> GenerationSettings:
    """The run's answer settings with the answer length decided: the config's number when set; else the one
    recorded when training started; else (a run trained before it was recorded) measured now from the data."""
    config = config or run.config()
    if config.generation.max_new_tokens:
        return dataclasses.replace(config.generation)
    recorded = run.status().get("answer_tokens")
    return resolve(config.generation, int(recorded) if recorded else measured_answer_tokens(config))


def start_adapter(config: RunConfig) -> Path:
    """The adapter folder of the finished LoRA run that config.method.start_from names, checked."""
    try:
        start = get_run(config.method.start_from)
    except (FileNotFoundError, ValueError):
        raise ModelError(msg("method.start_from: there is no run called {run}. Pick a finished LoRA run on the "
                             "Model page, or leave it empty to start from the base model.",
                             run=repr(config.method.start_from))) from None
    if start.final_dir() != start.adapter_dir:
        raise ModelError(msg("method.start_from: run {run} has no finished LoRA adapter. Let it finish first, "
                             "or pick another run.", run=start.id))
    base = start.config().model.name
    if base != config.model.name:
        raise ModelError(msg("method.start_from: run {run} was trained from the model {base}, this run uses "
                             "{model}. Choose the same model on the Model page.", run=start.id,
                             base=repr(base), model=repr(config.model.name)))
    return start.adapter_dir


def finished_adapter_runs(model_name: str | None = None) -> list[Run]:
    """Finished runs with a LoRA adapter that another run can start from, newest first."""
    found = []
    for run in list_runs():
        try:
            config = run.config()
        except Exception:
            continue
        if run.final_dir() == run.adapter_dir and (model_name is None or config.model.name == model_name):
            found.append(run)
    return found


def create_run(config: RunConfig, root: Path | None = None, run_id: str | None = None) -> Run:
    root = Path(root or runs_dir())
    if run_id is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        run_id = f"{stamp}-{safe_name(config.name or Path(config.data.train_file).stem)}"
        base, n = run_id, 1
        while (root / run_id).exists():
            n += 1
            run_id = f"{base}-{n}"
    path = inside(root, safe_name(run_id))
    path.mkdir(parents=True, exist_ok=True)
    run = Run(path)
    config.save(run.config_path)
    run.set_status("queued", created=time.time(), step=0)
    return run


def get_run(run_id: str, root: Path | None = None) -> Run:
    root = Path(root or runs_dir())
    run = Run(inside(root, safe_name(run_id, fallback="?")))
    if not run.exists():
        raise FileNotFoundError(msg("There is no run called {run} in {folder}.", run=repr(run_id), folder=str(root)))
    return run


def list_runs(root: Path | None = None) -> list[Run]:
    root = Path(root or runs_dir())
    found = [Run(p) for p in root.iterdir() if (p / "config.yaml").exists()] if root.exists() else []
    return sorted(found, key=lambda r: r.status().get("created") or 0, reverse=True)


def delete_run(run: Run) -> None:
    shutil.rmtree(run.path)


def set_active(run: Run, active: bool) -> None:
    with _active_lock:
        (_active.add if active else _active.discard)(str(run.path))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True
