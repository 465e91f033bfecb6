"""Run settings: YAML round trips, bounds and types, validation, the field catalogue and presets."""
from __future__ import annotations

import math
from dataclasses import fields

import pytest
import yaml

from engine.methods.sft.presets import PRESETS
from engine.settings import SECTIONS, RunConfig, SettingsError, describe, set_value


def _flat(config: RunConfig) -> dict:
    return {f"{section}.{key}": value for section in SECTIONS
            for key, value in config.to_dict()[section].items()}


def _customised() -> RunConfig:
    config = RunConfig(name="my run: ünïcode")
    config.data.train_file = "/data/train.csv"
    config.data.eval_file = "/data/test.csv"
    config.data.shape = "columns"
    config.data.prompt_column = "ticket"
    config.data.answer_column = "team"
    config.data.system_prompt = "You route tickets.\nAnswer briefly."
    config.data.val_fraction = 0.25
    config.model.allow_pickle = True
    config.method.weights = "full"
    config.method.target_modules = "q_proj,v_proj"
    config.training.max_length = 1024
    config.training.packing = True
    config.training.precision = "bf16"
    config.generation.temperature = 0.7
    return config.validate()


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("make", [RunConfig, _customised], ids=["defaults", "customised"])
def test_yaml_round_trip(tmp_path, make):
    config = make()
    path = tmp_path / "run.yaml"
    path.write_text(config.to_yaml(), encoding="utf-8")
    assert RunConfig.load(path) == config
    config.save(tmp_path / "saved.yaml")
    assert RunConfig.load(tmp_path / "saved.yaml") == config


@pytest.mark.parametrize("preset", [*PRESETS, "custom"])
def test_yaml_round_trip_after_preset(tmp_path, preset):
    config = _customised()
    config.apply_preset(preset)
    path = tmp_path / "run.yaml"
    path.write_text(config.to_yaml(), encoding="utf-8")
    loaded = RunConfig.load(path)
    assert loaded == config
    assert loaded.data.train_file == "/data/train.csv"


def test_custom_preset_values_survive_round_trip(tmp_path):
    config = RunConfig()
    set_value(config, "training.preset", "custom")
    set_value(config, "training.learning_rate", "3e-4")
    set_value(config, "method.lora_r", "8")
    config.save(tmp_path / "run.yaml")
    loaded = RunConfig.load(tmp_path / "run.yaml")
    assert (loaded.training.preset, loaded.training.learning_rate, loaded.method.lora_r) == ("custom", 3e-4, 8)


def test_explicit_values_win_over_the_named_preset():
    config = RunConfig.from_dict({"training": {"preset": "thorough", "learning_rate": 1e-4}})
    assert config.training.learning_rate == 1e-4
    assert (config.training.minutes, config.training.batch_size, config.method.lora_r) == (20.0, 8, 16)


def test_empty_yaml_gives_defaults(tmp_path):
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert RunConfig.load(tmp_path / "empty.yaml") == RunConfig()


# ---------------------------------------------------------------- bounds and types

BAD_VALUES = [
    ("training.learning_rate", 1.0, ["training.learning_rate", "above the maximum", "1e-07 to 0.1"]),
    ("training.learning_rate", 0, ["training.learning_rate", "below the minimum", "1e-07 to 0.1"]),
    ("training.batch_size", 0, ["training.batch_size", "1 to 512"]),
    ("training.max_length", 8, ["training.max_length", "16 to 32768"]),
    ("data.val_fraction", 0.9, ["data.val_fraction", "0.0 to 0.5"]),
    ("generation.temperature", 3, ["generation.temperature", "0.0 to 2.0"]),
    ("method.method", "bogus", ["method.method", "'bogus' is not allowed", "Allowed: sft, dpo"]),
    ("data.shape", "xml", ["data.shape", "Allowed: auto, alpaca, messages, sharegpt"]),
    ("training.preset", "fast", ["training.preset", "Allowed: quick, balanced, thorough, custom"]),
    ("training.max_steps", "abc", ["training.max_steps", "'abc' is not a valid int", "0 to 1000000"]),
    ("training.batch_size", 2.5, ["training.batch_size", "not a valid int"]),
    ("training.batch_size", True, ["training.batch_size", "not a valid int"]),
    ("training.epochs", "many", ["training.epochs", "not a valid float", "0.01 to 100.0"]),
    ("model.allow_pickle", "maybe", ["model.allow_pickle", "not a valid bool", "Expected a bool"]),
    ("training.packing", 2, ["training.packing", "not a valid bool"]),
]


@pytest.mark.parametrize("key, value, fragments", BAD_VALUES)
def test_set_value_rejects(key, value, fragments):
    config = RunConfig()
    before = config.to_dict()
    with pytest.raises(SettingsError) as err:
        set_value(config, key, value)
    for fragment in fragments:
        assert fragment in str(err.value)
    assert config.to_dict() == before


@pytest.mark.parametrize("key, value, fragments", BAD_VALUES)
def test_from_dict_rejects(key, value, fragments):
    section, _, name = key.partition(".")
    with pytest.raises(SettingsError) as err:
        RunConfig.from_dict({section: {name: value}})
    for fragment in fragments:
        assert fragment in str(err.value)


@pytest.mark.parametrize("key, value, expected", [
    ("training.max_steps", "120", 120), ("training.max_steps", "1e3", 1000), ("training.batch_size", 4.0, 4),
    ("training.learning_rate", "5e-4", 5e-4), ("training.epochs", 2, 2.0), ("model.allow_pickle", "yes", True),
    ("model.allow_pickle", "off", False), ("training.packing", 1, True), ("data.system_prompt", None, ""),
    ("data.prompt_column", 42, "42"),
])
def test_set_value_coerces(key, value, expected):
    config = RunConfig()
    set_value(config, key, value)
    section, _, name = key.partition(".")
    got = getattr(getattr(config, section), name)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value", ["nan", float("nan")], ids=["string", "float"])
def test_nan_is_rejected(value):
    config = RunConfig()
    with pytest.raises(SettingsError, match="training.learning_rate"):
        set_value(config, "training.learning_rate", value)
    assert not math.isnan(config.training.learning_rate)


def test_fractional_e_notation_string_is_rejected_for_int():
    config = RunConfig()
    with pytest.raises(SettingsError, match="training.batch_size"):
        set_value(config, "training.batch_size", "2.5e0")


@pytest.mark.parametrize("key, fragment", [
    ("optimizer.lr", "unknown section 'optimizer'"),
    ("training.bogus", "training.bogus: unknown setting"),
    ("training", "training: unknown setting"),
])
def test_set_value_unknown_names(key, fragment):
    with pytest.raises(SettingsError, match=fragment):
        set_value(RunConfig(), key, 1)


@pytest.mark.parametrize("data, fragment", [
    ({"optimizer": {"lr": 1}}, "Unknown section(s) ['optimizer']"),
    ({"training": {"bogus": 1}}, "training.bogus: unknown setting"),
    ({"training": [1, 2]}, "training must be a mapping of settings, not list"),
    ({"model": "default"}, "model must be a mapping of settings, not str"),
])
def test_from_dict_unknown_or_malformed(data, fragment):
    with pytest.raises(SettingsError) as err:
        RunConfig.from_dict(data)
    assert fragment in str(err.value)


@pytest.mark.parametrize("text, fragment", [
    ("- data\n- model\n", "must hold a mapping of sections, not list"),
    ("just words\n", "must hold a mapping of sections, not str"),
    ("training: [unclosed\n", "is not valid YAML"),
    ("training:\n  learning_rate: 2.0\n", "Allowed range: 1e-07 to 0.1"),
])
def test_load_rejects_bad_yaml(tmp_path, text, fragment):
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        RunConfig.load(path)
    assert fragment in str(err.value)


# ---------------------------------------------------------------- validate

@pytest.mark.parametrize("prompt_column, answer_column, ok", [
    ("", "", False), ("ticket", "", False), ("", "team", False), ("ticket", "team", True),
])
def test_validate_needs_both_columns_for_shape_columns(prompt_column, answer_column, ok):
    config = RunConfig()
    config.data.shape = "columns"
    config.data.prompt_column, config.data.answer_column = prompt_column, answer_column
    if ok:
        assert config.validate() is config
    else:
        with pytest.raises(SettingsError, match="data.prompt_column and data.answer_column"):
            config.validate()


def test_validate_catches_values_set_directly():
    config = RunConfig()
    assert config.validate() is config
    config.training.batch_size = 0
    with pytest.raises(SettingsError, match=r"training\.batch_size.*1 to 512"):
        config.validate()


# ---------------------------------------------------------------- describe

def test_describe_lists_every_field_with_help():
    rows = describe()
    expected = [f"{section}.{f.name}" for section, klass in SECTIONS.items() for f in fields(klass)]
    assert [row["key"] for row in rows] == expected
    for row in rows:
        assert row["help"].strip(), row["key"]
        assert row["label"].strip(), row["key"]
        assert row["type"] in ("str", "int", "float", "bool", "list"), row["key"]


def test_describe_defaults_are_allowed():
    config = RunConfig()
    for row in describe():
        default = row["default"]
        assert getattr(getattr(config, row["section"]), row["name"]) == default
        if row["min"] is not None:
            assert default >= row["min"], row["key"]
        if row["max"] is not None:
            assert default <= row["max"], row["key"]
        if row["choices"]:
            assert default in row["choices"], row["key"]
    bounded = [row["key"] for row in describe() if row["min"] is not None]
    assert "training.learning_rate" in bounded and "data.val_fraction" in bounded


# ---------------------------------------------------------------- presets

@pytest.mark.parametrize("preset", list(PRESETS))
def test_apply_preset_changes_only_its_fields(preset):
    config = RunConfig()
    other = "thorough" if preset != "thorough" else "quick"
    config.apply_preset(other)
    config.data.train_file = "mine.csv"
    config.training.max_length = 1024
    config.generation.max_new_tokens = 10
    before = _flat(config)
    config.apply_preset(preset)
    after = _flat(config)
    preset_keys = {f"{section}.{key}" for section, values in PRESETS[preset].items() for key in values}
    changed = {key for key in before if before[key] != after[key]}
    assert changed <= preset_keys | {"training.preset"}
    assert changed  # each preset differs from the other one somewhere
    for key in preset_keys:
        section, _, name = key.partition(".")
        assert after[key] == PRESETS[preset][section][name]
    assert after["training.preset"] == preset
    assert (config.data.train_file, config.training.max_length, config.generation.max_new_tokens) == (
        "mine.csv", 1024, 10)


def test_quick_preset_hard_values():
    config = RunConfig()
    config.apply_preset("thorough")
    assert (config.training.minutes, config.training.learning_rate, config.method.lora_r) == (20.0, 1e-3, 16)
    config.training.weight_decay = 0.1
    config.apply_preset("quick")
    assert (config.training.minutes, config.training.learning_rate, config.method.lora_r) == (2.0, 2e-3, 16)
    assert config.training.weight_decay == 0.1  # not a quick-preset field


def test_custom_preset_changes_nothing():
    config = _customised()
    config.training.learning_rate = 2e-5
    config.training.max_steps = 7
    before = config.to_dict()
    assert config.apply_preset("custom") is config
    assert config.to_dict() == before


def test_unknown_preset_is_refused():
    with pytest.raises(SettingsError, match="'turbo' is not one of"):
        RunConfig().apply_preset("turbo")


@pytest.mark.parametrize("old, method, weights", [("lora", "sft", "lora"), ("qlora", "sft", "qlora"),
                                                  ("full", "sft", "full"), ("dpo", "dpo", "lora")])
def test_the_old_form_where_the_method_named_the_weights_still_loads(old, method, weights, tmp_path):
    path = tmp_path / "old.yaml"
    start = {"dpo": {"beta": 0.3, "start_from": "earlier-run"}} if old == "dpo" else {}
    path.write_text(yaml.safe_dump({"method": {"method": old, "lora_r": 8}, **start}))
    config = RunConfig.load(path)
    assert (config.method.method, config.method.weights, config.method.lora_r) == (method, weights, 8)
    if old == "dpo":
        assert config.method.start_from == "earlier-run" and config.dpo.beta == 0.3
    again = RunConfig()
    set_value(again, "method.method", old)  # a CLI flag or a form in the old words
    assert (again.method.method, again.method.weights) == (method, weights)
    assert RunConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()  # the new form round-trips


def test_weights_a_method_cannot_train_are_refused():
    config = RunConfig.from_dict({"method": {"method": "dpo"}})
    config.method.weights = "full"
    with pytest.raises(SettingsError, match="method.weights: dpo trains lora, qlora, not 'full'"):
        config.validate()
