"""What a method is: one object that says what it reads, how it trains and evaluates, and how its results look.

A method's folder (engine/methods/<name>/) builds its `Method` in its __init__.py from its own modules: settings
and presets, trainer builder, evaluation, and views (live charts, result rows, report and model-card parts).
The runner, the evaluation shell, the pre-flight, the pages, the CLI, the report and the model card read these
fields through the registry (engine/methods/__init__.py); none of them names a method.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Method:
    name: str  # as configs say it: method.method
    label: str  # msgid: the short name pages show
    description: str  # msgid: one sentence on the Model page (what it learns from, what it is for)
    data_kind: str  # the kind of data it reads first: engine.data.ANSWERS, PAIRS or LABELLED (its demo, its tests)
    needs: str  # msgid: said when the data is of another kind (what it reads, what to do)
    build_trainer: Callable  # (run, config, stop, callbacks, on_record, resuming, start) -> (trainer, callback)
    evaluate: Callable  # (run, config, examples, train_rows, report_for, stop, start) -> (results, table,
    #                     base everyday answers, tuned everyday answers); report_for(total) -> report(phase, offset)
    views: Any  # a module with the functions of VIEWS below
    presets: dict  # preset name -> {section: {setting: value}}
    trainer_class: str  # the TRL class it trains with (imported by the warm-up)
    weights: tuple[str, ...] = ("lora", "qlora", "full")  # which weights it can train
    section: str = ""  # its own settings section in a config ("" when it has none)
    settings: type | None = None  # that section's dataclass
    preset_note: str = ""  # msgid: a caption under the presets on the Settings page
    sequences_per_row: int = 1  # sequences each row puts through the model at every step (pairs: 2)
    # (data statistics, max length, model shape) -> the tokens one row puts through the model, or None:
    # sequences_per_row x the rows' mean length (a method that runs a pair's shared prompt once counts it once)
    row_tokens: Callable | None = None
    reference_forwards: int = 0  # extra forward passes per sequence for a frozen reference model
    reference_once: bool = False  # the reference scores each training and validation row once, before training,
    #                               instead of at every step and validation
    mixes_everyday: bool = True  # whether the everyday-skills mix applies (engine/everyday.py)
    starts_from_runs: bool = False  # whether the Model page offers to start from a finished run's adapter
    logged: tuple[str, ...] = ()  # prefixes of the trainer's logged metrics kept in metrics.jsonl
    final_metrics: dict = field(default_factory=dict)  # last validation's metric -> its name in status.final
    phases: tuple[str, ...] = ()  # msgids: the evaluation's phases as the progress bar names them
    also_reads: tuple[str, ...] = ()  # other kinds of data it reads besides data_kind (engine.data.PROMPTS too)
    rows_per_pair: int = 1  # training rows each pair becomes (a method reading pairs as two answers: 2)
    advice: Callable | None = None  # (config, data statistics) -> [Message]: what to know about this data for it,
    #                                 shown with the pre-flight check
    preview: Any = None  # a module with the functions of PREVIEW below, or None: its settings seen at work
    # (config, model shape, training FLOP/s, data statistics, steps) -> seconds of training and validation, for a
    # method whose steps cost more than a forward and backward pass (writing answers); None: the shared estimate
    estimate_seconds: Callable | None = None
    best_metric: str = "eval_loss"  # the validation figure whose best step the run keeps (engine/methods/planned.py)
    best_higher: bool = False  # whether higher is better for it

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind of data it reads."""
        return (self.data_kind, *self.also_reads)


# The functions each method's views module has (checked for every registered method by tests/test_methods.py).
VIEWS = (
    "live_charts",  # (metrics) -> [plotly figures] beyond the loss, learning rate, throughput and gradient norm
    "final_figures",  # (final) -> [(label, value, help)] shown under the finished run's figures
    "summary_rows",  # (results) -> [dict] the Evaluate page's and the CLI's table (translated keys)
    "summary_chart",  # (results) -> plotly figure of the evaluation
    "summary_caption",  # () -> str, what the figures mean
    "summary_note",  # (results) -> str, one more line of figures under the table ("" when none)
    "side_by_side",  # (results) -> [dict] held-out rows with both models' answers (translated keys)
    "general_columns",  # () -> {key: translated column} for the everyday-questions table
    "report_training",  # (config) -> str appended to the report's "how it was trained" sentence
    "report_parts",  # (results, examples) -> (headline, metrics html, example rows, columns, what the data is)
    "report_charts",  # (metrics) -> [plotly figures] for the report
    "card_how",  # (config) -> str: "supervised fine-tuning (LoRA)" in the model card
    "compare_columns",  # (results, final) -> {msgid: value} in the Compare table
    "compare_formats",  # () -> {msgid: "percent" or a number of decimals} for those columns
)

# A method's optional preview (Method.preview): its own settings in words and at work on a few training rows, before
# any training, on the Settings page and in `python -m engine check`.
PREVIEW = (
    "TITLE", "CAPTION", "BUTTON",  # msgids: the Settings page's heading, what the preview does, its button
    "summary",  # (config) -> str: the method's own settings in one sentence, in the current language
    "run",  # (config, examples, start, stop) -> dict: the starting model (start: a run's adapter or None) at work
    "rows",  # (result) -> [dict] the preview's table (translated keys)
    "findings",  # (result) -> [(level, Message)]: "success", "info" or "warning", with what to change
)
