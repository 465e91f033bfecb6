"""All settings of a run, as dataclasses: the one source of truth.

Each field's metadata carries its help text and, where it applies, its bounds
(`min`/`max`), its `choices` and whether it is `advanced`. The studio's forms,
the YAML files and the CLI flags are all generated from these. Labels and help
texts are English msgids: the pages and the CLI translate them (engine.i18n,
whose check reads them from describe()).
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .i18n import N_, msg


def setting(default, help: str, *, min=None, max=None, choices=None, advanced=False, label=None):
    meta = {"help": help, "min": min, "max": max, "choices": choices, "advanced": advanced, "label": label}
    return field(default=default, metadata=meta)


class SettingsError(ValueError):
    """A setting is missing, of the wrong type or out of its allowed range (its argument is a Message)."""


@dataclass
class DataSettings:
    """Which file to learn from and how to read it."""

    train_file: str = setting("", "The file with your examples (CSV, TSV, JSON, JSONL, Parquet or Excel).")
    eval_file: str = setting("", "Optional file of held-out examples used only to measure the model. "
                             "Leave empty to hold out part of the training file instead.")
    shape: str = setting("auto", "How rows are laid out. 'auto' detects instruction/input/output, messages, "
                         "conversations, prompt/completion and question/answer columns, and preference pairs "
                         "(prompt/chosen/rejected, chosen/rejected conversations, input/preferred_output/"
                         "non_preferred_output); 'columns' uses the two columns you name below.",
                         choices=["auto", "alpaca", "messages", "sharegpt", "prompt_completion", "question_answer",
                                  "columns", "preference", "preference_messages", "preference_hosted"])
    prompt_column: str = setting("", "With shape 'columns': the column holding what the user says.", advanced=True)
    answer_column: str = setting("", "With shape 'columns': the column holding the answer the model should learn.",
                                 advanced=True)
    system_prompt: str = setting("", "Optional instruction put before every example (a 'system' message).")
    val_fraction: float = setting(0.1, "Share of the training file held out to measure validation loss "
                                  "(used only when there is no separate held-out file).", min=0.0, max=0.5)
    seed: int = setting(42, "Seed of the train/validation split, so the same split comes back every time.",
                        min=0, max=2**31 - 1, advanced=True)


@dataclass
class ModelSettings:
    """Which pre-trained model to start from."""

    name: str = setting("default", "'default' for the embedded SmolLM2-135M-Instruct, a local model folder, "
                        "or a Hugging Face Hub id such as 'Qwen/Qwen2.5-0.5B-Instruct'.")
    allow_pickle: bool = setting(False, "Allow weight files in pickle format (.bin/.pt). Pickle files can run "
                                 "code when loaded: only allow them for models you trust.", advanced=True)


@dataclass
class MethodSettings:
    """How the model's weights are changed."""

    method: str = setting("lora", "'lora' trains small adapter matrices (fast, little memory, a few MB to save); "
                          "'full' trains every weight (more memory, a full copy to save); 'qlora' is LoRA on a "
                          "4-bit base model (needs an NVIDIA GPU and bitsandbytes); 'dpo' teaches which of two answers "
                          "is better, from preference pairs (prompt, chosen, rejected), with a LoRA adapter.",
                          choices=["lora", "full", "qlora", "dpo"])
    lora_r: int = setting(16, "LoRA rank: size of the adapter. Larger learns more but is slower.", min=1, max=256,
                          label="LoRA rank")
    lora_alpha: int = setting(32, "LoRA scaling. A common choice is twice the rank.", min=1, max=512,
                              label="LoRA alpha")
    lora_dropout: float = setting(0.0, "Dropout on the adapter input, against over-fitting on small data. 0 is "
                                  "faster (no random masks) and scored as well on the demo sets.", min=0.0, max=0.5,
                                  advanced=True, label="LoRA dropout")
    target_modules: str = setting("all-linear", "Which layers get adapters: 'all-linear' or a comma-separated "
                                  "list such as 'q_proj,v_proj'.", advanced=True)
    answers_only: bool = setting(True, "Learn only from the answers, not from the prompts (recommended).",
                                 advanced=True)


@dataclass
class DPOSettings:
    """Preference tuning (method 'dpo'): how far the model may move from where it started."""

    beta: float = setting(0.1, "How strongly the model is held near where it started: higher stays closer and "
                          "learns the preference more gently; lower moves further (and forgets more). 0.1 is usual.",
                          min=0.001, max=10.0, label="Beta")
    loss_type: str = setting("sigmoid", "'sigmoid' is the DPO loss. 'ipo' stops pushing once a pair is clearly "
                             "preferred (less over-fitting on small data); 'hinge' is the SLiC loss; 'robust' allows "
                             "for some pairs labelled the wrong way round (see below).",
                             choices=["sigmoid", "ipo", "hinge", "robust"], advanced=True, label="Loss")
    label_noise: float = setting(0.1, "With loss 'robust': the share of pairs you think have chosen and rejected "
                                 "swapped by mistake.", min=0.0, max=0.49, advanced=True)
    start_from: str = setting("", "Run id of a finished LoRA run to start from (the usual two steps: first teach "
                              "the answers with LoRA, then the preference with DPO). Its adapter goes on training "
                              "and its model is the reference. Empty: start from the base model.", advanced=True)


@dataclass
class TrainingSettings:
    """How long and how fast to train."""

    preset: str = setting("quick", "Start from measured settings: 'quick' (a demo that finishes in minutes on a "
                          "laptop CPU), 'balanced', 'thorough'; 'custom' keeps your own values.",
                          choices=["quick", "balanced", "thorough", "custom"])
    max_steps: int = setting(40, "Number of training steps. 0 means train for the number of epochs below.",
                             min=0, max=1_000_000)
    epochs: float = setting(1.0, "Passes over the training data (used when steps is 0).", min=0.01, max=100.0)
    learning_rate: float = setting(1e-3, "How big each update is. Too high diverges, too low learns nothing.",
                                   min=1e-7, max=1e-1)
    batch_size: int = setting(8, "Examples per step on each device.", min=1, max=512)
    grad_accum: int = setting(1, "Steps whose gradients are added before one update (a larger batch in the "
                              "same memory).", min=1, max=1024, advanced=True)
    max_length: int = setting(256, "Longest example in tokens; longer ones are cut.", min=16, max=32768,
                            label="Max length (tokens)")
    everyday_share: float = setting(0.1, "Mix in the starting model's own answers to everyday questions, as this "
                                    "share of your rows (at most 40), so the tuned model keeps answering ordinary "
                                    "questions as before instead of answering everything in your task's format. 0 "
                                    "turns it off. Not used by DPO.", min=0.0, max=0.5,
                                    label="Keep everyday skills (share of rows)")
    warmup_ratio: float = setting(0.1, "Share of steps spent ramping the learning rate up.", min=0.0, max=0.5,
                                  advanced=True)
    lr_scheduler: str = setting("cosine", "How the learning rate changes over the run.",
                                choices=["cosine", "linear", "constant", "constant_with_warmup"], advanced=True)
    weight_decay: float = setting(0.0, "Pull on weights towards zero, against over-fitting.", min=0.0, max=1.0,
                                  advanced=True)
    packing: bool = setting(False, "Pack several short examples into one sequence (faster on short data).",
                            advanced=True)
    log_every: int = setting(2, "Record the loss every this many steps.", min=1, max=10_000, advanced=True)
    eval_every: int = setting(40, "Measure validation loss every this many steps, besides at the start and the "
                              "end (one pass over 60 rows costs about as much as three training steps).",
                              min=1, max=100_000, advanced=True)
    save_every: int = setting(10, "Save a checkpoint every this many steps (what resume starts from).",
                              min=1, max=100_000, advanced=True)
    keep_checkpoints: int = setting(2, "How many recent checkpoints to keep on disk.", min=1, max=100,
                                    advanced=True)
    precision: str = setting("auto", "Number format for training: 'auto' uses bf16 on GPUs that support it and "
                             "fp32 elsewhere.", choices=["auto", "fp32", "bf16", "fp16"], advanced=True)
    gradient_checkpointing: bool = setting(False, "Recompute activations to save memory (about 30% slower).",
                                           advanced=True)
    seed: int = setting(42, "Seed for everything random in training, so a run can be repeated.",
                        min=0, max=2**31 - 1, advanced=True)


@dataclass
class GenerationSettings:
    """How answers are generated in evaluation and chat."""

    max_new_tokens: int = setting(64, "Longest answer, in tokens.", min=1, max=4096)
    temperature: float = setting(0.0, "0 always picks the likeliest word (repeatable); higher is more varied.",
                                 min=0.0, max=2.0)
    top_p: float = setting(0.9, "With temperature above 0: sample only from the likeliest words making up this "
                           "share of probability.", min=0.05, max=1.0, advanced=True)
    repetition_penalty: float = setting(1.0, "Above 1 discourages repeating the same words.", min=1.0, max=2.0,
                                        advanced=True)
    eval_rows: int = setting(60, "How many held-out rows evaluation answers.", min=1, max=100_000,
                             label="Rows to evaluate")


SECTIONS = {
    "data": DataSettings,
    "model": ModelSettings,
    "method": MethodSettings,
    "dpo": DPOSettings,
    "training": TrainingSettings,
    "generation": GenerationSettings,
}
ADAPTER_METHODS = ("lora", "qlora", "dpo")  # methods that train a LoRA adapter on a frozen base

# What each preset is for, as the Settings page offers them: (short name, description).
PRESET_TEXT = {
    "quick": (N_("Quick demo"), N_("40 steps, finishes in about 2 minutes on a 2-core laptop CPU with short "
                                   "examples. Shows clearly that the model learned your format.")),
    "balanced": (N_("Balanced"), N_("One pass over all your examples. Better results; time grows with your data.")),
    "thorough": (N_("Thorough"), N_("Three passes, a gentler learning rate and a larger adapter. For the best "
                                    "model when you have time (or a GPU).")),
    "custom": (N_("Custom"), N_("Keep your own values below.")),
}

# Measured on a 2-core CPU with the embedded model on both demo datasets: docs/presets.md has the figures.
PRESETS = {
    "quick": {"training": {"max_steps": 40, "learning_rate": 1e-3, "batch_size": 8, "grad_accum": 1,
                           "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 40},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}},
    "balanced": {"training": {"max_steps": 0, "epochs": 1.0, "learning_rate": 5e-4, "batch_size": 8,
                              "grad_accum": 1, "warmup_ratio": 0.05, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}},
    "thorough": {"training": {"max_steps": 0, "epochs": 3.0, "learning_rate": 2e-4, "batch_size": 8,
                              "grad_accum": 2, "warmup_ratio": 0.05, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.0}},
}
# DPO's own presets, measured on the polite_replies demo pairs (docs/presets.md): its learning rate is DPO's, not
# SFT's (a switch of method re-applies the preset, so the SFT rate is never kept by mistake).
DPO_PRESETS = {
    "quick": {"training": {"max_steps": 30, "learning_rate": 5e-4, "batch_size": 8, "grad_accum": 1,
                           "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 15},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
    "balanced": {"training": {"max_steps": 0, "epochs": 1.0, "learning_rate": 2e-4, "batch_size": 8,
                              "grad_accum": 1, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
    "thorough": {"training": {"max_steps": 0, "epochs": 2.0, "learning_rate": 1e-4, "batch_size": 8,
                              "grad_accum": 2, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
}


PRESET_NOTES = {"dpo": N_("DPO presets: quick is 30 steps of 8 pairs at learning rate 5e-4 and beta 0.1, measured "
                           "on the demo pairs (docs/presets.md); DPO needs a lower rate than supervised tuning.")}


def presets_for(method: str) -> dict:
    return DPO_PRESETS if method == "dpo" else PRESETS


@dataclass
class RunConfig:
    name: str = ""
    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    method: MethodSettings = field(default_factory=MethodSettings)
    dpo: DPOSettings = field(default_factory=DPOSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def save(self, path) -> None:
        from .paths import write_atomic
        write_atomic(Path(path), self.to_yaml())

    @classmethod
    def from_dict(cls, data: dict | None) -> "RunConfig":
        """Defaults, then the named preset's values, then every value the mapping gives explicitly."""
        data = dict(data or {})
        unknown = set(data) - set(SECTIONS) - {"name"}
        if unknown:
            raise SettingsError(msg("Unknown section(s) {unknown}; expected {expected}.", unknown=str(sorted(unknown)),
                                    expected=str(["name", *SECTIONS])))
        config = cls(name=str(data.get("name") or ""))
        for section in SECTIONS:
            if not isinstance(data.get(section) or {}, dict):
                raise SettingsError(msg("{section} must be a mapping of settings, not {kind}.", section=section,
                                        kind=type(data[section]).__name__))
        if "method" in (data.get("method") or {}):  # the method picks the preset table
            set_value(config, "method.method", data["method"]["method"])
        preset = (data.get("training") or {}).get("preset", config.training.preset)
        set_value(config, "training.preset", preset)
        config.apply_preset()
        for section in SECTIONS:
            for key, value in (data.get(section) or {}).items():
                set_value(config, f"{section}.{key}", value)
        return config

    @classmethod
    def load(cls, path) -> "RunConfig":
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise SettingsError(msg("{path} is not valid YAML: {error}", path=str(path), error=str(err))) from None
        if data is not None and not isinstance(data, dict):
            raise SettingsError(msg("{path} must hold a mapping of sections, not {kind}.", path=str(path),
                                    kind=type(data).__name__))
        return cls.from_dict(data)

    def apply_preset(self, preset: str | None = None) -> "RunConfig":
        """Overwrite the preset's fields (all others stay as they are)."""
        preset = preset or self.training.preset
        if preset == "custom":
            return self
        table = presets_for(self.method.method)
        if preset not in table:
            raise SettingsError(msg("training.preset: {value} is not one of {allowed}.", value=repr(preset),
                                    allowed=str(list(table) + ["custom"])))
        self.training.preset = preset
        for section, values in table[preset].items():
            for key, value in values.items():
                setattr(getattr(self, section), key, value)
        return self

    def validate(self) -> "RunConfig":
        for section in SECTIONS:
            obj = getattr(self, section)
            for f in fields(obj):
                name = f"{section}.{f.name}"
                check_value(name, f, coerce(name, f, getattr(obj, f.name)))
        if self.data.shape == "columns" and not (self.data.prompt_column and self.data.answer_column):
            raise SettingsError(msg("data.prompt_column and data.answer_column are needed with data.shape "
                                    "'columns'."))
        return self


def field_type(f) -> type:
    hints = typing.get_type_hints(_owner(f))
    return hints[f.name]


def _owner(f):
    for klass in SECTIONS.values():
        if f in fields(klass):
            return klass
    raise KeyError(f.name)


def coerce(name: str, f, value):
    """Turn a value from YAML, a form or a CLI string into the field's type, or say why not."""
    kind = field_type(f)
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "yes", "1", "on"):
                    return True
                if low in ("false", "no", "0", "off"):
                    return False
                raise ValueError
            if isinstance(value, (bool, int)) and value in (0, 1):
                return bool(value)
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if isinstance(value, (str, float)) else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError  # 2.5 steps is a mistake, not 2
            return int(number)
        if kind is float:
            if isinstance(value, bool) or not math.isfinite(float(value)):
                raise ValueError
            return float(value)
        if value is None:
            return ""
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(msg("{name}: {value} is not a valid {kind}. {allowed}", name=name, value=repr(value),
                                kind=kind.__name__, allowed=_allowed(f))) from None


def check_value(name: str, f, value) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(msg("{name}: {value} is not allowed. {allowed}", name=name, value=repr(value),
                                allowed=_allowed(f)))
    if meta.get("min") is not None and value < meta["min"]:
        raise SettingsError(msg("{name}: {value} is below the minimum. {allowed}", name=name, value=str(value),
                                allowed=_allowed(f)))
    if meta.get("max") is not None and value > meta["max"]:
        raise SettingsError(msg("{name}: {value} is above the maximum. {allowed}", name=name, value=str(value),
                                allowed=_allowed(f)))


def _allowed(f):
    meta = f.metadata
    if meta.get("choices"):
        return msg("Allowed: {choices}.", choices=", ".join(map(str, meta["choices"])))
    if meta.get("min") is not None or meta.get("max") is not None:
        return msg("Allowed range: {min} to {max}.", min=str(meta.get("min")), max=str(meta.get("max")))
    return msg("Expected a {kind}.", kind=field_type(f).__name__)


def set_value(config: RunConfig, dotted: str, value) -> None:
    """Set 'section.field' from any value (used by the CLI and the forms), with the same checks as YAML."""
    section, _, key = dotted.partition(".")
    if section not in SECTIONS:
        raise SettingsError(msg("{name}: unknown section {section}. Known: {known}.", name=dotted,
                                section=repr(section), known=str(list(SECTIONS))))
    known = {f.name: f for f in fields(SECTIONS[section])}
    if key not in known:
        raise SettingsError(msg("{name}: unknown setting. Known in {section}: {known}.", name=dotted,
                                section=section, known=str(sorted(known))))
    typed = coerce(dotted, known[key], value)
    check_value(dotted, known[key], typed)
    setattr(getattr(config, section), key, typed)


def describe() -> list[dict]:
    """Every setting with its type, default and metadata, for building forms and CLI flags."""
    rows = []
    for section, klass in SECTIONS.items():
        for f in fields(klass):
            rows.append({"section": section, "name": f.name, "key": f"{section}.{f.name}",
                         "type": field_type(f).__name__, "default": f.default, **f.metadata,
                         "label": f.metadata.get("label") or f.name.replace("_", " ").capitalize()})
    return rows
