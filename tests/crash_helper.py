"""Trains a run in its own process and, on request, kills itself with SIGKILL (used by test_reliability.py).

python tests/crash_helper.py RUN_DIR none|step|save N fresh|resume
  step N: SIGKILL at the end of step N (before it is logged or saved)
  save N: SIGKILL halfway through writing checkpoint-N (weights written, optimizer state cut short)
"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import Trainer, TrainerCallback  # noqa: E402

from engine import runs, train  # noqa: E402


class KillAtStep(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kw):
        if state.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def kill_while_saving(step):
    original = Trainer._save_optimizer_and_scheduler

    def dying(self, output_dir):
        if str(output_dir).endswith(f"checkpoint-{step}"):
            with open(os.path.join(output_dir, "optimizer.pt"), "wb") as fh:
                fh.write(b"half of an optimizer state")
                fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, output_dir)

    Trainer._save_optimizer_and_scheduler = dying


def main():
    run_dir, mode, n, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    callbacks = [KillAtStep(n)] if mode == "step" else []
    if mode == "save":
        kill_while_saving(n)
    status = train.train_run(runs.Run(run_dir), resume=how == "resume", callbacks=callbacks)
    print(status["state"], status.get("step"))


if __name__ == "__main__":
    main()
