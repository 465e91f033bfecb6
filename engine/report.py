"""One self-contained HTML file to show what fine-tuning did: no server, no internet, no external links.

Plotly's JavaScript is inlined once; every chart is interactive; every text from the data is escaped.
"""
from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from . import charts, data, export, models, stats
from .evaluate import load_results
from .paths import write_atomic
from .runs import Run

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.5}h1{margin-bottom:0.2em}h2{margin-top:1.8em;border-bottom:2px solid #eee;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0}td,th{border:1px solid #ddd;padding:.35em .6em;text-align:left;
vertical-align:top}th{background:#f6f6f6}.big{font-size:1.25em}.ok{color:#1a7f37;font-weight:600}
.bad{color:#b42318;font-weight:600}.muted{color:#666}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{white-space:pre-wrap;margin:0;font-family:ui-monospace,monospace;font-size:.9em}
"""


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value, digits=3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(fig) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})


def plain_settings(run: Run) -> str:
    config = run.config()
    t, m = config.training, config.method
    model = models.DEFAULT_LABEL if config.model.name == models.DEFAULT_NAME else config.model.name
    how = (f"a LoRA adapter of rank {m.lora_r} (a small add-on; the original weights stay unchanged)"
           if m.method != "full" else "every weight of the model")
    if m.method == "dpo":
        how += (f" by preference tuning (DPO, beta {config.dpo.beta:g}, {config.dpo.loss_type} loss): it learned to "
                "make the chosen answers more likely than the rejected ones")
    length = f"{t.max_steps} steps" if t.max_steps else f"{t.epochs:g} passes over the data"
    status = run.status()
    return (f"We started from <b>{html.escape(model)}</b> and trained {how} for {length}, "
            f"looking at {t.batch_size * t.grad_accum} examples per step, with learning rate {t.learning_rate:g} "
            f"({t.lr_scheduler} schedule) and examples up to {t.max_length} tokens long. "
            f"Loss was computed {'on the answers only' if m.answers_only else 'on whole examples'}. "
            f"Training took {status.get('final', {}).get('runtime_s', 0) / 60:.1f} minutes.")


def take_home(run: Run) -> str:
    """A sentence about the GGUF export when there is one."""
    path = export.latest_gguf(run)
    if path is None:
        return ""
    name = export.ollama_name(run)
    return (f"<h2>Take it home</h2><p>The model is also saved as <code>{html.escape(path.name)}</code> "
            f"({path.stat().st_size / 1e6:.0f} MB, GGUF), which runs on a laptop without Python in Ollama "
            f"(<code>ollama create {html.escape(name)} -f Modelfile</code>, then <code>ollama run "
            f"{html.escape(name)}</code>), llama.cpp and LM Studio.</p>")


def build(run: Run, examples: int = 6) -> str:
    config = run.config()
    results = load_results(run)
    if results is None:
        raise FileNotFoundError("Evaluate this run first: the report shows the before/after measurements.")
    loaded, train_rows, val_rows, _ = data.prepare(config.data)
    tokenizer = models.load_tokenizer(run.final_dir() or models.resolve(config.model.name))
    s = stats.compute_stats(loaded, tokenizer, config.training.max_length, train_rows, val_rows)
    if results.get("kind") == "preference":
        headline, metrics, example_rows, columns, what = _preference_parts(results, examples)
    else:
        headline, metrics, example_rows, columns, what = _sft_parts(results, examples)
    general = results.get("general", {})
    general_text = (f"Everyday questions (general knowledge and manners, {len(results.get('general_table', []))} "
                    f"prompts) answered acceptably: {_pct(general.get('base'))} before, "
                    f"{_pct(general.get('tuned'))} after. A large drop would mean the model forgot what it knew.")
    data_rows = [["rows in the file", s["rows"]], ["usable examples", s["usable"]],
                 ["set aside (problems)", s["set_aside"]], ["duplicates", s["duplicate_rows"]],
                 ["trained on / held out", f"{len(train_rows)} / {len(val_rows)}"],
                 ["median tokens per example", s.get("median")], ["cut by the max length", s["rows_over_max"]]]
    lengths = charts.length_histogram(s)
    training = _figure(charts.loss_chart(run.metrics(), "Loss during training (lower is better)"))
    if results.get("kind") == "preference":
        data_rows.append(["chosen answer is the longer one", _pct(s["chosen_longer"])])
        lengths = charts.preference_lengths(s)
        training += _figure(charts.preference_chart(run.metrics(), "margins"))
    from plotly.offline import get_plotlyjs

    body = f"""
<h1>What we taught the model</h1>
<p class="muted">Run {html.escape(run.id)} · report made {datetime.now():%Y-%m-%d %H:%M}</p>
<p class="big">{headline}</p>
<h2>The task and the data</h2>
<p>The model learned from <b>{html.escape(Path(config.data.train_file).name)}</b>: {what} Examples held out for
measuring were never used in training.</p>
<div class="grid"><div>{_table(["", ""], data_rows)}</div><div>{_figure(lengths)}</div></div>
<h2>How it was trained</h2><p>{plain_settings(run)}</p>
{training}
<p class="muted">Training loss measures mistakes on the training examples; validation loss on held-out ones.
Both falling together means the model learned the task rather than memorising the examples.</p>
<h2>Before and after</h2>{metrics}<p>{general_text}</p>
<h2>Examples</h2>{_table(columns, example_rows)}
<h2>Repeat it</h2><p>The exact settings are in <code>config.yaml</code> of the run; on any machine:
<code>python -m engine train config.yaml</code>, or on several GPUs
<code>accelerate launch -m engine train config.yaml</code>.</p>
{take_home(run)}
"""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Fine-tuning report: "
            f"{html.escape(run.id)}</title><style>{STYLE}</style><script>{get_plotlyjs()}</script></head>"
            f"<body>{body}</body></html>")


def _sft_parts(results: dict, examples: int):
    base, prompted, tuned = results["base"], results.get("prompted", {}), results["tuned"]
    n = results["rows"]
    headline = (f"On {n} examples the model never saw in training, it now gives exactly the expected answer "
                f"<span class='ok'>{_pct(tuned['exact_match'])}</span> of the time, against "
                f"<span class='bad'>{_pct(base['exact_match'])}</span> before and "
                f"{_pct(prompted.get('exact_match'))} when we simply showed the original model "
                f"{results.get('shots', 3)} examples in its prompt.")
    metrics = _table(["", "before (base model)", "prompting baseline", "after (fine-tuned)"], [
        ["exact match", _pct(base["exact_match"]), _pct(prompted.get("exact_match")), _pct(tuned["exact_match"])],
        ["word overlap (token F1)", _num(base["token_f1"]), _num(prompted.get("token_f1")), _num(tuned["token_f1"])],
        ["validation loss (lower is better)", _num(base["loss"]), "–", _num(tuned["loss"])],
        ["perplexity (lower is better)", _num(base["perplexity"], 2), "–", _num(tuned["perplexity"], 2)],
    ])
    picked = sorted(results["table"], key=lambda r: (-(r["tuned_match"] - r["base_match"]), r["row"]))[:examples]
    example_rows = [[f"<pre>{html.escape(r['prompt'])}</pre>", f"<pre>{html.escape(r['base'])}</pre>",
                     f"<pre>{html.escape(r['tuned'])}</pre>", f"<pre>{html.escape(r['expected'])}</pre>"]
                    for r in picked]
    return (headline, metrics, example_rows, ["prompt", "before", "after", "expected"],
            "each example is a prompt and the answer we want.")


def _preference_parts(results: dict, examples: int):
    """Headline, before/after table and example rows of a DPO run (held-out pairs)."""
    base, tuned, n = results["base"], results["tuned"], results["rows"]
    headline = (f"On {n} pairs of answers the model never saw in training, it now prefers the better answer "
                f"<span class='ok'>{_pct(tuned['accuracy'])}</span> of the time, against "
                f"<span class='bad'>{_pct(base['accuracy'])}</span> before; its own answers are closer to the "
                f"preferred style {_pct(tuned['closer_to_chosen'])} of the time ({_pct(base['closer_to_chosen'])} "
                "before).")
    metrics = _table(["", "before", "after (DPO)"], [
        ["preference accuracy (chosen answer more likely)", _pct(base["accuracy"]), _pct(tuned["accuracy"])],
        ["mean margin, log-probability chosen − rejected", _num(base["margin"], 2), _num(tuned["margin"], 2)],
        ["own answers closer to the chosen ones", _pct(base["closer_to_chosen"]), _pct(tuned["closer_to_chosen"])],
    ])
    picked = sorted(results["table"], key=lambda r: (-(r["tuned_closer"] - r["base_closer"]), r["row"]))[:examples]
    example_rows = [[f"<pre>{html.escape(r[k])}</pre>" for k in ("prompt", "base", "tuned", "chosen")]
                    for r in picked]
    return (headline, metrics, example_rows, ["prompt", "before", "after", "preferred answer (chosen)"],
            "each example is a prompt with a better (chosen) and a worse (rejected) answer.")


def save(run: Run) -> Path:
    path = run.path / "export" / f"{run.id}-report.html"
    write_atomic(path, build(run))
    return path
