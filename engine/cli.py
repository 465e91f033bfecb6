"""python -m engine {train,evaluate,export,runs,check,serve}: the studio's engine without the studio.

Every setting is also a flag (--training.learning_rate 1e-4), generated from the settings dataclasses.
Under `accelerate launch -m engine train CONFIG.yaml` each GPU runs one process; they share one run folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import everyday, i18n
from . import settings as settings_mod
from .i18n import render, t
from .settings import RunConfig, SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="Train a run from a YAML config (and flags that override it).")
    train.add_argument("config", nargs="?", help="YAML config; its data paths are relative to where you run.")
    train.add_argument("--resume", metavar="RUN_ID", help="Resume a stopped or interrupted run instead.")
    group = train.add_argument_group("settings (override the YAML)")
    for row in settings_mod.describe():
        extra = f" [{', '.join(map(str, row['choices']))}]" if row["choices"] else ""
        bounds = f" ({row['min']} to {row['max']})" if row["min"] is not None else ""
        group.add_argument(f"--{row['key']}", dest=row["key"], metavar=row["type"].upper(),
                           help=(f"{t(row['help'])}{extra}{bounds} " + t("Default: {value}.", value=repr(
                               row["default"]))).replace("%", "%%"))  # argparse formats help with %
    evaluate = sub.add_parser("evaluate", help="Answer held-out rows with the base and tuned model; score both.")
    evaluate.add_argument("run", help="Run id (see `runs`) or run folder.")
    evaluate.add_argument("--rows", type=int, help="How many held-out rows (default: generation.eval_rows).")
    export = sub.add_parser("export", help="Write the adapter zip, the YAML and (with --merged) a merged model.")
    export.add_argument("run", help="Run id or run folder.")
    export.add_argument("--merged", action="store_true", help="Also build the merged model (safetensors).")
    export.add_argument("--out", help="Folder for the merged model (default: the run's export/merged).")
    export.add_argument("--gguf", choices=["f16", "f32", "q8_0"], help="Also write a GGUF file with an Ollama "
                        "Modelfile (for Ollama, llama.cpp, LM Studio), zipped; builds the merged model first. "
                        "K-quants (Q4_K_M) need llama.cpp's llama-quantize on the F16 file.")
    stop = sub.add_parser("stop", help="Ask a training run (in the studio or another terminal) to stop after "
                                        "its current step; it saves a checkpoint and can be resumed.")
    stop.add_argument("run", help="Run id or run folder.")
    sub.add_parser("runs", help="List every run with its status and final metrics.")
    check = sub.add_parser("check", help="Check a config's data: problems by row and token statistics.")
    check.add_argument("config")
    from . import serve

    serve.add_command(sub)
    check.add_argument("--preview", action="store_true", help="Also run the method's preview, where it has one "
                       "(its settings at work on a few training rows with the starting model).")
    return parser


def load_config(args) -> RunConfig:
    config = RunConfig.load(args.config) if args.config else RunConfig()
    flags = {k: v for k, v in vars(args).items() if "." in k and v is not None}
    if "training.preset" in flags or "method.method" in flags:  # re-apply the preset (each method has its own
        for key in ("method.method", "training.preset"):        # table); other flags still win
            if key in flags:
                settings_mod.set_value(config, key, flags[key])
        config.apply_preset()
    for key, value in flags.items():
        settings_mod.set_value(config, key, value)
    if config.data.train_file and not Path(config.data.train_file).exists() and args.config:
        # Paths in a config are tried relative to the config file when not found from here.
        for attr in ("train_file", "eval_file"):
            value = getattr(config.data, attr)
            if value and (Path(args.config).parent / value).exists():
                setattr(config.data, attr, str(Path(args.config).parent / value))
    return config.validate()


def find_run(ref: str):
    from . import runs

    path = Path(ref)
    if (path / "config.yaml").exists():
        return runs.Run(path)
    return runs.get_run(ref)


def _fmt_time(seconds) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def print_record(record: dict, state) -> None:
    parts = [f"step {record['step']}/{state.max_steps}"]
    for key, label in (("loss", "loss"), ("eval_loss", "val loss"), ("learning_rate", "lr"),
                       ("tokens_per_s", "tok/s")):
        if record.get(key) is not None:
            parts.append(f"{label} {record[key]:.4g}")
    parts.append(f"elapsed {_fmt_time(record['elapsed_s'])}, left {_fmt_time(record['remaining_s'])}")
    print("  ".join(parts), flush=True)


def cmd_train(args) -> int:
    from . import runs, train

    if args.resume:
        run = find_run(args.resume)
        if not run.can_resume():
            print(t("Run {run} cannot be resumed (state {state}, checkpoint {checkpoint}).", run=run.id,
                    state=run.status()["state"], checkpoint=str(run.last_checkpoint())), file=sys.stderr)
            return 2
    else:
        if not args.config:
            print(t("Give a config file, e.g. assets/configs/ticket_routing.yaml"), file=sys.stderr)
            return 2
        run = shared_run(load_config(args))
    print(f"Run {run.id} in {run.path}", flush=True)
    status = train.train_run(run, resume=bool(args.resume), on_record=print_record)
    print(f"{status['state']}: {render(runs.status_message(status))}")
    kept = runs.kept_words(status)
    if kept:
        print(render(kept))
    if status.get("final"):
        print("final: " + ", ".join(f"{k} {v}" for k, v in status["final"].items()))
    return 0 if status["state"] in ("finished", "stopped") else 1


def shared_run(config: RunConfig):
    """Create the run folder once; under accelerate every process gets the main process's folder."""
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    from . import runs

    state = PartialState()
    if state.num_processes == 1:
        return runs.create_run(config)
    holder = [runs.create_run(config).id if state.is_main_process else None]
    broadcast_object_list(holder)
    return runs.get_run(holder[0])


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_run

    run = find_run(args.run)

    def progress(done, total, phase):
        print("\r" + t("{phase}: {done} of {total} answers", phase=t(phase), done=done, total=total), end="",
              flush=True)

    results = evaluate_run(run, rows=args.rows, progress=progress)
    print()
    config = run.config()
    print_table(config.method_info.views.summary_rows(results))
    note = config.method_info.views.summary_note(results)
    if note:
        print(note)
    general = results["general"]
    print(t("everyday questions answered acceptably: {base:.0%} base, {tuned:.0%} tuned", base=general["base"],
            tuned=general["tuned"]))
    advice = everyday.forgetting_advice(config.training.everyday_share, general) \
        if config.method_info.mixes_everyday else None
    if advice:
        print(render(advice))
    print(t("on {rows} held-out rows in {seconds} s; table in {path}", rows=results["rows"],
            seconds=results["seconds"], path=str(run.eval_dir / "rows.json")))
    return 0


def print_table(rows: list[dict]) -> None:
    """A method's summary rows (already translated and formatted) as aligned columns."""
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) + 2 for c in columns]
    print("".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(columns, widths))))
    for row in rows:
        print("".join(f"{row[c]!s:<{w}}" if i == 0 else f"{row[c]!s:>{w}}"
                      for i, (c, w) in enumerate(zip(columns, widths))))


def cmd_export(args) -> int:
    from . import export

    run = find_run(args.run)
    if run.adapter_dir.exists():
        print(f"adapter:  {export.adapter_zip(run)}")
    print(f"config:   {export.config_file(run)}")
    if args.merged:
        print(f"merged:   {export.merged_model(run, Path(args.out) if args.out else None)}")
    if args.gguf:
        def progress(fraction, text):
            print(f"\rGGUF: {fraction:4.0%} {render(text):40}", end="", flush=True)

        made = export.gguf_export(run, args.gguf, progress)
        print(f"\ngguf:     {made['gguf']} ({made['size_bytes'] / 1e6:.0f} MB in {made['seconds']} s)")
        print(f"ollama:   {made['modelfile']}; zip with both: {made['zip']}")
        print(f"          cd {Path(made['gguf']).parent} && {made['commands']['create']} && {made['commands']['run']}")
        print(f"llama.cpp: {made['commands']['llama_cli']}")
    for label, command in export.commands(run).items():
        print(f"{label + ':':10}{command}")
    return 0


def cmd_stop(args) -> int:
    run = find_run(args.run)
    if run.status()["state"] != "running":
        print(t("Run {run} is not training (state {state}).", run=run.id, state=run.status()["state"]),
              file=sys.stderr)
        return 2
    run.request_stop()
    print(t("Asked run {run} to stop after its current step.", run=run.id))
    return 0


def cmd_runs(args) -> int:
    from . import runs

    found = runs.list_runs()
    if not found:
        print(t("No runs yet."))
    for run in found:
        s = run.summary()
        metrics = " ".join(f"{k}={s[k]}" for k in ("eval_loss", "train_loss") if k in s)
        print(f"{s['id']:40} {s['state']:12} step {s['step']}/{s['max_steps']}  {metrics}")
    return 0


def cmd_check(args) -> int:
    from . import data, models

    config = RunConfig.load(args.config).validate()
    loaded, train_rows, val_rows, _ = data.prepare(config.data)
    print(render(loaded.summary()))
    for note in loaded.notes:
        print("-", render(note))
    for problem in loaded.problems[:50]:
        print(f"  {render(problem.text())}")
    tokenizer = models.load_tokenizer(models.resolve(config.model.name, config.model.allow_pickle))
    s = data.compute_stats(loaded, tokenizer, config.training.max_length, train_rows, val_rows)
    print(f"tokens per row: mean {s.get('mean')}, median {s.get('median')}, 90% under {s.get('p90')}, "
          f"longest {s.get('longest')}; train {s['train_rows']} / validation {s['val_rows']} rows")
    if s.get("kind") == data.PAIRS:
        print(t("pairs: median tokens prompt {prompt}, chosen {chosen}, rejected {rejected}; cut by the max length: "
                "chosen {chosen_cut}, rejected {rejected_cut}; the chosen answer is the longer one in {share:.0%} of "
                "pairs", prompt=s["prompt_median"], chosen=s["chosen_median"], rejected=s["rejected_median"],
                chosen_cut=s["chosen_cut"], rejected_cut=s["rejected_cut"], share=s["chosen_longer"]))
    if s.get("kind") == data.LABELLED:
        print(t("answers marked good / bad in training: {good} / {bad}; median answer tokens good {good_median}, bad "
                "{bad_median}", good=s["good"], bad=s["bad"], good_median=s["good_median"],
                bad_median=s["bad_median"]))
    from .preflight import plan_for, plan_words

    planned = plan_for(config, len(train_rows), s)
    for _, words in plan_words(planned) if planned else []:
        print(render(words))
    from .generation import answer_tokens, length_note

    print(render(length_note(config.generation.max_new_tokens, answer_tokens(s))))
    for finding in data.plain_findings(s):
        print("-", render(finding))
    for advice in (config.method_info.advice(config, s) if config.method_info.advice else []):
        print("-", render(advice))
    preview = config.method_info.preview
    if preview:
        print(preview.summary(config))
    if preview and args.preview:
        from .evaluate import preview_method

        result = preview_method(config)
        for row in preview.rows(result):
            print(" | ".join(f"{k}: {' '.join(str(v).split())[:60]}" for k, v in row.items()))
        for level, text in preview.findings(result):
            print(f"{level}: {render(text)}")
    return 0


def cmd_serve(args) -> int:
    from .serve import run_command

    return run_command(args, [find_run(ref) for ref in args.runs])


def main(argv=None) -> int:
    i18n.set_language(i18n.from_environment())  # STUDIO_LANG=fr, or the system's locale
    args = build_parser().parse_args(argv)
    handlers = {"train": cmd_train, "evaluate": cmd_evaluate, "export": cmd_export, "runs": cmd_runs, "stop": cmd_stop,
                "check": cmd_check, "serve": cmd_serve}
    try:
        return handlers[args.command](args)
    except (SettingsError, FileNotFoundError) as err:
        print(t("error: {message}", message=render(err)), file=sys.stderr)
        return 2
    except Exception as err:
        from .data import DataError
        from .export.gguf import GGUFError
        from .models import ModelError

        if isinstance(err, (DataError, ModelError, GGUFError)):
            print(t("error: {message}", message=render(err)), file=sys.stderr)
            return 2
        raise
