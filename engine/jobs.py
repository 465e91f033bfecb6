"""One training job at a time per process, run in a background thread.

The studio keeps a single JobManager (shared by every browser session); pages call start/stop/current and read
the run folder for everything else, so a subprocess could replace the thread without the pages noticing.
"""
from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field

from .i18n import N_, Message, msg
from . import runs
from .runs import Run


def warm_up() -> threading.Thread:
    """Import the training libraries in the background (engine/warm.py); pages call it."""
    from . import methods, warm

    return warm.start(tuple(dict.fromkeys(m.trainer_class for m in methods.METHODS.values())))


class JobBusy(RuntimeError):
    def __init__(self, run_id: str):
        super().__init__(msg("A training run is already going ({run}). Wait for it to finish or stop it first.",
                             run=run_id))
        self.run_id = run_id


@dataclass
class Job:
    run: Run
    thread: threading.Thread
    stop_event: threading.Event = field(default_factory=threading.Event)
    result: dict | None = None
    progress: tuple[float, str] = (0.0, "starting")

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


class JobManager:
    def __init__(self):
        self._lock = threading.Lock()
        self._job: Job | None = None

    def current(self) -> Job | None:
        with self._lock:
            return self._job if self._job and self._job.alive else None

    def start(self, run: Run, resume: bool = False, callbacks=()) -> Job:
        from .train import train_run

        with self._lock:
            if self._job and self._job.alive:
                raise JobBusy(self._job.run.id)
            if run.status()["state"] == "running":
                raise JobBusy(run.id)  # trained by another process (the CLI, say)
            job = Job(run, thread=None)  # type: ignore[arg-type]

            def work():
                job.result = train_run(run, job.stop_event, resume=resume, callbacks=callbacks)

            job.thread = threading.Thread(target=work, name=f"train-{run.id}", daemon=True)
            run.set_status("running", message=msg("Starting."), step=run.status().get("step", 0))
            runs.set_active(run, True)  # counted as live from now, before the thread has started
            self._job = job
            job.thread.start()
            return job

    def stop(self, run_id: str | None = None) -> bool:
        """Ask the running job to stop after its current step (it saves a checkpoint). False if none runs."""
        job = self.current()
        if job is None or (run_id and job.run.id != run_id):
            return False
        job.stop_event.set()
        return True

    def wait(self, timeout: float | None = None) -> dict | None:
        job = self._job
        if job:
            job.thread.join(timeout)
            return job.result
        return None

    def training_threads(self) -> int:
        return sum(1 for t in threading.enumerate() if t.name.startswith("train-") and t.is_alive())


MANAGER = JobManager()


class BackgroundJobs:
    """One job at a time in a background thread (evaluations, exports); a failure is a plain message by run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._job: Job | None = None
        self.error: dict[str, str] = {}

    def current(self) -> Job | None:
        with self._lock:
            return self._job if self._job and self._job.alive else None

    def _launch(self, run: Run, work, name: str, busy=JobBusy) -> Job:
        """Start work(job) in a thread unless a job is going (then busy(run id) is raised)."""
        with self._lock:
            if self._job and self._job.alive:
                raise busy(self._job.run.id)
            job = Job(run, thread=None)  # type: ignore[arg-type]
            self.error.pop(run.id, None)
            # In the starter's context: files the job writes for people (a model card, a README) come out in
            # the language of the page that asked for them.
            job.thread = threading.Thread(target=contextvars.copy_context().run, args=(work, job),
                                          name=f"{name}-{run.id}", daemon=True)
            self._job = job
            job.thread.start()
            return job


class EvalJobs(BackgroundJobs):
    """Evaluations, one at a time; progress is in the run's eval/progress.json."""

    def start(self, run: Run, rows: int | None = None) -> Job:
        from .evaluate import Cancelled, evaluate_run
        from .train import plain_reason

        def work(job):
            try:
                job.result = evaluate_run(run, rows=rows, stop=job.stop_event)
            except Cancelled:
                self.error[run.id] = msg("Evaluation was cancelled.")
            except Exception as err:  # shown on the page as a message
                self.error[run.id] = plain_reason(err, N_("Evaluation failed: {error} (details in error.log in the "
                                                          "run folder)."))
            finally:
                (run.eval_dir / "progress.json").unlink(missing_ok=True)

        return self._launch(run, work, "eval")

    def cancel(self) -> bool:
        job = self.current()
        if job:
            job.stop_event.set()
        return job is not None


EVALS = EvalJobs()


class ExportBusy(JobBusy):
    def __init__(self, run_id: str):
        RuntimeError.__init__(self, msg("A GGUF file is already being written for {run}. Wait for it to finish.",
                                        run=run_id))
        self.run_id = run_id


class ExportJobs(BackgroundJobs):
    """GGUF exports, one at a time (they take tens of seconds); progress on the job."""

    def __init__(self):
        super().__init__()
        self.done: dict[str, dict] = {}  # run id -> the last export's result

    def start(self, run: Run, out_type: str = "f16") -> Job:
        from .export import gguf_export

        def work(job):
            try:
                job.result = gguf_export(run, out_type, progress=lambda f, text: setattr(job, "progress", (f, text)))
                self.done[run.id] = job.result
            except Exception as err:  # shown on the page as a message
                self.error[run.id] = export_reason(err)

        return self._launch(run, work, "gguf", ExportBusy)


def export_reason(err: Exception) -> Message:
    from .export.gguf import GGUFError
    from .train import plain_reason

    if isinstance(err, (GGUFError, FileNotFoundError)) and not getattr(err, "filename", None):
        return err.args[0] if isinstance(err.args[0], Message) else msg(str(err))
    return plain_reason(err, N_("The GGUF export failed: {error}"))


EXPORTS = ExportJobs()
