"""One self-contained HTML file to show what fine-tuning did: no server, no internet, no external links.

Plotly's JavaScript is inlined once; every chart is interactive; every text from the data is escaped.
"""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from . import arena, charts, data, everyday, export, i18n, models, runs
from .i18n import msg, render, t
from .markup import figure as _figure
from .markup import pct as _pct
from .markup import table as _table
from .paths import write_atomic
from .runs import Run, load_results

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.5}h1{margin-bottom:0.2em}h2{margin-top:1.8em;border-bottom:2px solid #eee;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0}td,th{border:1px solid #ddd;padding:.35em .6em;text-align:left;
vertical-align:top}th{background:#f6f6f6}.big{font-size:1.25em}.ok{color:#1a7f37;font-weight:600}
.bad{color:#b42318;font-weight:600}.muted{color:#666}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{white-space:pre-wrap;margin:0;font-family:ui-monospace,monospace;font-size:.9em}
"""


def plain_settings(run: Run) -> str:
    config = run.config()
    tr, m = config.training, config.method
    model = t(models.DEFAULT_LABEL) if config.model.name == models.DEFAULT_NAME else config.model.name
    how = (t("a LoRA adapter of rank {rank} (a small add-on; the original weights stay unchanged)", rank=m.lora_r)
           if m.weights != "full" else t("every weight of the model"))
    how += config.method_info.views.report_training(config)
    status = run.status()
    planned = status.get("plan") or {}
    if tr.minutes and planned:  # a time budget: the plan it became
        length = t("about {minutes:g} minutes ({steps} steps, {passes:g} passes over {rows} examples)",
                   minutes=tr.minutes, steps=planned["steps"], passes=planned["passes"], rows=planned["rows"])
    else:
        length = (t("{steps} steps", steps=tr.max_steps) if tr.max_steps else
                  t("{epochs:g} passes over the data", epochs=tr.epochs))
    kept = runs.kept_words(status)
    return t("We started from <b>{model}</b> and trained {how} for {length}, looking at {examples} examples per "
              "step, with learning rate {lr:g} ({schedule} schedule) and examples up to {max_length} tokens long. "
              "{loss_on} Training took {minutes:.1f} minutes.", model=html.escape(model), how=how, length=length,
              examples=tr.batch_size * tr.grad_accum, lr=tr.learning_rate, schedule=tr.lr_scheduler,
              max_length=tr.max_length, loss_on=t("Loss was computed on the answers only.") if m.answers_only else
              t("Loss was computed on whole examples."),
              minutes=status.get("final", {}).get("runtime_s", 0) / 60) + (" " + render(kept) if kept else "") + \
        answers_sentence(run) + everyday_sentence(run)


def answers_sentence(run: Run) -> str:
    """How long the answers of the evaluation could be, and where that number came from."""
    config = run.config()
    tokens = runs.answer_settings(run, config).max_new_tokens
    if config.generation.max_new_tokens:
        return " " + t("Answers were written up to {tokens} tokens long, as set.", tokens=tokens)
    return " " + t("Answers were written up to {tokens} tokens long, measured from the answers of the training "
                   "file.", tokens=tokens)


def everyday_sentence(run: Run) -> str:
    n = everyday.mixed_in(run)
    return " " + t("We also mixed in {n} of the starting model's own answers to everyday questions, so that it "
                   "keeps answering ordinary questions as before.", n=n) if n else ""


def take_home(run: Run) -> str:
    """A sentence about the GGUF export when there is one."""
    path = export.latest_gguf(run)
    if path is None:
        return ""
    name = export.ollama_name(run)
    return ("<h2>" + t("Take it home") + "</h2><p>"
            + t("The model is also saved as <code>{file}</code> ({mb:.0f} MB, GGUF), which runs on a laptop without "
                "Python in Ollama (<code>{create}</code>, then <code>{run}</code>), llama.cpp and LM Studio.",
                file=html.escape(path.name), mb=path.stat().st_size / 1e6,
                create=html.escape(f"ollama create {name} -f Modelfile"), run=html.escape(f"ollama run {name}"))
            + "</p>")


def build(run: Run, examples: int = 6) -> str:
    config = run.config()
    results = load_results(run)
    if results is None:
        raise FileNotFoundError(msg("Evaluate this run first: the report shows the before/after measurements."))
    loaded, train_rows, val_rows, _ = data.prepare(config.data)
    tokenizer = models.load_tokenizer(run.final_dir() or models.resolve(config.model.name))
    s = data.compute_stats(loaded, tokenizer, config.training.max_length, train_rows, val_rows)
    views = config.method_info.views
    headline, metrics, example_rows, columns, what = views.report_parts(results, examples)
    general = results.get("general", {})
    general_text = t("Everyday questions (general knowledge and manners, {prompts} prompts) answered acceptably: "
                     "{before} before, {after} after. A large drop would mean the model forgot what it knew.",
                     prompts=len(results.get("general_table", [])), before=_pct(general.get("base")),
                     after=_pct(general.get("tuned")))
    num = i18n.number
    data_rows = [[t("rows in the file"), num(s["rows"], 0)], [t("usable examples"), num(s["usable"], 0)],
                 [t("set aside (problems)"), num(s["set_aside"], 0)], [t("duplicates"), num(s["duplicate_rows"], 0)],
                 [t("trained on / held out"), f"{num(len(train_rows), 0)} / {num(len(val_rows), 0)}"],
                 [t("median tokens per example"), num(s.get("median"))],
                 [t("cut by the max length"), num(s["rows_over_max"], 0)]]
    lengths = charts.length_histogram(s)
    if s["kind"] == data.PAIRS:
        data_rows.append([t("chosen answer is the longer one"), _pct(s["chosen_longer"])])
        lengths = charts.pair_lengths(s)
    if s["kind"] == data.LABELLED:
        data_rows.append([t("answers marked good / bad (trained on)"), f"{num(s['good'], 0)} / {num(s['bad'], 0)}"])
    extra_chart = "".join(_figure(fig) for fig in views.report_charts(run.metrics()))
    kept_step = (run.status().get("final") or {}).get("kept_step")  # marked on the loss curve
    from plotly.offline import get_plotlyjs

    words = {  # every sentence of the page, in the reader's language, before the layout below
        "title": t("What we taught the model"),
        "made": t("Run {run} · report made {date}", run=html.escape(run.id), date=i18n.date(datetime.now())),
        "data": t("The task and the data"),
        "learned": t("The model learned from <b>{file}</b>: {what} Examples held out for measuring were never used "
                     "in training.", file=html.escape(Path(config.data.train_file).name), what=what),
        "how": t("How it was trained"),
        "curve": t("Loss during training (lower is better)"),
        "losses": t("Training loss measures mistakes on the training examples; validation loss on held-out ones. "
                    "Both falling together means the model learned the task rather than memorising the examples."),
        "before_after": t("Before and after"),
        "examples": t("Examples"),
        "repeat": t("Repeat it"),
        "repeat_how": t("The exact settings are in <code>config.yaml</code> of the run; on any machine: {command}, or "
                        "on several GPUs {multi_gpu}.", command="<code>python -m engine train config.yaml</code>",
                        multi_gpu="<code>accelerate launch -m engine train config.yaml</code>"),
        "page_title": t("Fine-tuning report: {run}", run=html.escape(run.id)),
    }
    body = f"""
<h1>{words["title"]}</h1>
<p class="muted">{words["made"]}</p>
<p class="big">{headline}</p>
<h2>{words["data"]}</h2>
<p>{words["learned"]}</p>
<div class="grid"><div>{_table(["", ""], data_rows)}</div><div>{_figure(lengths)}</div></div>
<h2>{words["how"]}</h2><p>{plain_settings(run)}</p>
{_figure(charts.loss_chart(run.metrics(), words["curve"], kept_step))}{extra_chart}
<p class="muted">{words["losses"]}</p>
<h2>{words["before_after"]}</h2>{metrics}<p>{general_text}</p>
{arena.report_section(run)}
<h2>{words["examples"]}</h2>{_table(columns, example_rows)}
<h2>{words["repeat"]}</h2><p>{words["repeat_how"]}</p>
{take_home(run)}
"""
    return (f"<!DOCTYPE html><html lang='{i18n.language()}'><head><meta charset='utf-8'><title>{words['page_title']}"
            f"</title><style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>{body}</body></html>")


def save(run: Run) -> Path:
    path = run.path / "export" / f"{run.id}-report.html"
    write_atomic(path, build(run))
    return path
