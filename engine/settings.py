"""All settings of a run, as one RunConfig: the one source of truth for the forms, the YAML files and the CLI.

The sections every run has come from engine/sections.py; each registered method adds its own section (from its
folder, engine/methods/<name>/settings.py) and its presets. Each field's metadata carries its help text and,
where it applies, its bounds (`min`/`max`), its `choices` and whether it is `advanced`. Labels and help texts
are English msgids: the pages and the CLI translate them (engine.i18n, whose check reads them from describe()).

Older configs named the weights as the method (`method: {method: lora|qlora|full}`) and kept start_from in a
method's own section: they still load, read as the method and the weights they meant (`translate_legacy`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import field, fields
from pathlib import Path

import yaml

from . import methods
from .fields import SettingsError, check_value, coerce
from .i18n import N_, msg
from .sections import DataSettings, GenerationSettings, MethodSettings, ModelSettings, TrainingSettings

GENERAL = {"data": DataSettings, "model": ModelSettings, "method": MethodSettings, "training": TrainingSettings,
           "generation": GenerationSettings}
# Every section of a config, in the order YAML files show them: the general ones around the methods' own.
SECTIONS = {"data": DataSettings, "model": ModelSettings, "method": MethodSettings,
            **{m.section: m.settings for m in methods.METHODS.values() if m.section},
            "training": TrainingSettings, "generation": GenerationSettings}

# What each preset is for, as the Settings page offers them: (short name, description).
PRESET_TEXT = {
    "quick": (N_("Quick demo"), N_("About 2 minutes of training on a 2-core laptop CPU, planned from your data: "
                                   "several passes over a small file, as much of a large one as fits. Shows clearly "
                                   "that the model learned your format.")),
    "balanced": (N_("Balanced"), N_("About 6 minutes, planned the same way, with more passes where they help; stops "
                                    "when it stops improving.")),
    "thorough": (N_("Thorough"), N_("Up to 20 minutes, planned as balanced is: it goes further only on files too "
                                    "large or too long for 6 minutes to cover; stops when it stops improving. For "
                                    "such files when you have time (or a GPU).")),
    "custom": (N_("Custom"), N_("Keep your own values below.")),
}

# Settings that, when changed, mean "train for this many steps or passes" instead of for a time budget.
STEPS_INSTEAD = ("training.max_steps", "training.epochs")

# The old `method.method` values that named weights: they meant the first method (learning answers) with them.
LEGACY_WEIGHTS = ("lora", "qlora", "full")


def presets_for(method: str) -> dict:
    return methods.get(method).presets


def translate_legacy(data: dict) -> dict:
    """A config mapping in today's form: an old method name becomes (method, weights), and a method section's
    start_from (the older form) moves to method.start_from."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in (data or {}).items()}
    section = data.get("method")
    if isinstance(section, dict) and section.get("method") in LEGACY_WEIGHTS:
        section.setdefault("weights", section["method"])
        section["method"] = methods.NAMES[0]
    for name, values in list(data.items()):
        if name not in GENERAL and isinstance(values, dict) and "start_from" in values:
            start = values.pop("start_from")
            if start and isinstance(section, dict):
                section.setdefault("start_from", start)
            elif start:
                data["method"] = section = {"start_from": start}
    return data


class _Config:
    """What every RunConfig does; RunConfig itself is built below with one field per section."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def save(self, path) -> None:
        from .paths import write_atomic
        write_atomic(Path(path), self.to_yaml())

    @property
    def method_info(self):
        """The registered method of this config (engine.methods)."""
        return methods.get(self.method.method)

    @classmethod
    def from_dict(cls, data: dict | None):
        """Defaults, then the named preset's values, then every value the mapping gives explicitly."""
        data = translate_legacy(dict(data or {}))
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
    def load(cls, path):
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise SettingsError(msg("{path} is not valid YAML: {error}", path=str(path), error=str(err))) from None
        if data is not None and not isinstance(data, dict):
            raise SettingsError(msg("{path} must hold a mapping of sections, not {kind}.", path=str(path),
                                    kind=type(data).__name__))
        return cls.from_dict(data)

    def apply_preset(self, preset: str | None = None):
        """Overwrite the preset's fields (all others stay as they are)."""
        preset = preset or self.training.preset
        if preset == "custom":
            return self
        table = presets_for(self.method.method)
        if preset not in table:
            raise SettingsError(msg("training.preset: {value} is not one of {allowed}.", value=repr(preset),
                                    allowed=str(list(table) + ["custom"])))
        self.training.preset = preset
        self.training.minutes = 0.0  # a preset without a time budget trains for its steps or epochs
        for section, values in table[preset].items():
            for key, value in values.items():
                setattr(getattr(self, section), key, value)
        return self

    def validate(self):
        for section, klass in SECTIONS.items():
            obj = getattr(self, section)
            for f in fields(obj):
                name = f"{section}.{f.name}"
                check_value(name, klass, f, coerce(name, klass, f, getattr(obj, f.name)))
        if self.data.shape == "columns" and not (self.data.prompt_column and self.data.answer_column):
            raise SettingsError(msg("data.prompt_column and data.answer_column are needed with data.shape "
                                    "'columns'."))
        method = self.method_info
        if self.method.weights not in method.weights:
            raise SettingsError(msg("method.weights: {method} trains {allowed}, not {weights}.",
                                    method=method.name, allowed=", ".join(method.weights),
                                    weights=repr(self.method.weights)))
        return self


RunConfig = dataclasses.make_dataclass(
    "RunConfig", [("name", str, field(default=""))] +
    [(section, klass, field(default_factory=klass)) for section, klass in SECTIONS.items()], bases=(_Config,))
RunConfig.__module__ = __name__


def set_value(config, dotted: str, value) -> tuple[str, ...]:
    """Set 'section.field' from any value (used by the CLI and the forms), with the same checks as YAML. Returns the
    other settings it changed too (a form shows their new values)."""
    section, _, key = dotted.partition(".")
    also = []
    if section not in SECTIONS:
        raise SettingsError(msg("{name}: unknown section {section}. Known: {known}.", name=dotted,
                                section=repr(section), known=str(list(SECTIONS))))
    if dotted == "method.method" and value in LEGACY_WEIGHTS:  # an old name: weights of the first method
        config.method.weights, value = value, methods.NAMES[0]
        also.append("method.weights")
    klass = SECTIONS[section]
    known = {f.name: f for f in fields(klass)}
    if key not in known:
        raise SettingsError(msg("{name}: unknown setting. Known in {section}: {known}.", name=dotted,
                                section=section, known=str(sorted(known))))
    typed = coerce(dotted, klass, known[key], value)
    check_value(dotted, klass, known[key], typed)
    if dotted in STEPS_INSTEAD and typed != getattr(config.training, key) and config.training.minutes:
        config.training.minutes = 0.0  # steps or epochs given: the run trains for them, not for a time budget
        also.append("training.minutes")
    setattr(getattr(config, section), key, typed)
    return tuple(also)


def describe() -> list[dict]:
    """Every setting with its type, default and metadata, for building forms and CLI flags."""
    from .fields import field_type

    rows = []
    for section, klass in SECTIONS.items():
        for f in fields(klass):
            rows.append({"section": section, "name": f.name, "key": f"{section}.{f.name}",
                         "type": field_type(klass, f).__name__, "default": getattr(klass(), f.name), **f.metadata,
                         "label": f.metadata.get("label") or f.name.replace("_", " ").capitalize()})
    return rows
