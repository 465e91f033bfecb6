"""Shared fixtures: a private STUDIO_HOME, the default tokenizer, and a tiny model built from a config."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import csv

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The embedded model's cache is shared by all test sessions so it is built from the GGUF only once.
MODEL_CACHE = Path(os.environ.get("STUDIO_TEST_CACHE", ROOT / ".studio" / "test-cache"))


@pytest.fixture(scope="session", autouse=True)
def studio_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("studio-home")
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    (home / "models").symlink_to(MODEL_CACHE, target_is_directory=True)
    os.environ["STUDIO_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture(scope="session")
def default_dir(studio_home):
    from engine import models

    return models.default_model_dir()


@pytest.fixture(scope="session")
def tokenizer(default_dir):
    from engine import models

    return models.load_tokenizer(default_dir)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    """A 2-layer Llama with the default tokenizer: trains in a fraction of a second per step."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    path = tmp_path_factory.mktemp("tiny-model")
    LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def data_dir():
    return ROOT / "assets" / "data"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can react to a failure (browser screenshots)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def small_csv(path: Path, n: int = 40) -> Path:
    with open(ROOT / "assets/data/ticket_routing/train.csv", newline="") as src:
        rows = list(csv.reader(src))[: n + 1]
    with open(path, "w", newline="") as dst:
        csv.writer(dst).writerows(rows)
    return path


def tiny_config(tmp_path, model_dir, **training):
    from engine.settings import RunConfig

    config = RunConfig(name="tiny")
    config.data.train_file = str(small_csv(tmp_path / "train.csv"))
    config.data.val_fraction = 0.2
    config.model.name = str(model_dir)
    config.training.preset = "custom"
    values = dict(minutes=0.0, max_steps=12, batch_size=4, learning_rate=5e-3, max_length=128, log_every=1, eval_every=4,
                  save_every=3, keep_checkpoints=5, warmup_ratio=0.0, lr_scheduler="constant")
    values.update(training)
    for key, value in values.items():
        setattr(config.training, key, value)
    return config.validate()




@pytest.fixture(scope="session")
def finished_tiny_run(tmp_path_factory, tiny_model_dir):
    """A LoRA run of the tiny model, trained to the end (12 steps)."""
    from engine import runs, train

    run = runs.create_run(tiny_config(tmp_path_factory.mktemp("finished"), tiny_model_dir))
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


# ---------------------------------------------------------------- preference tuning (DPO) on the tiny model

GOOD = ["Gladly", "Certainly", "Sure", "Happily", "Absolutely", "Definitely"]
BAD = ["No", "Whatever", "Nope", "Meh", "Never", "Ugh"]
TOPICS = ["the parcel", "my refund", "the invoice", "a new password", "the opening hours", "a gift card",
          "the warranty", "my order", "the delivery", "a phone number"]


def write_pairs(path: Path, n: int, seed: int) -> Path:
    """Pairs whose two answers differ only in their first word (polite vs rude), so their lengths match and
    the base model's preference is a coin toss: what DPO teaches shows in the held-out accuracy."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        rest = f"I will look at {topic} today."
        rows.append({"prompt": f"Question {seed}-{i}: can you help with {topic}?",
                     "chosen": f"{rng.choice(GOOD)}, {rest}", "rejected": f"{rng.choice(BAD)}, {rest}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def dpo_config(tmp_path, model_dir, **training):
    """80 training and 16 held-out pairs on the tiny model."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    train_file, held_file = write_pairs(tmp_path / "train.jsonl", 80, 1), write_pairs(tmp_path / "test.jsonl", 16, 2)
    from engine.settings import RunConfig

    config = RunConfig(name="tiny-dpo")
    config.method.method = "dpo"
    config.data.train_file, config.data.eval_file = str(train_file), str(held_file)
    config.model.name = str(model_dir)
    config.training.preset = "custom"
    values = dict(minutes=0.0, max_steps=10, batch_size=4, learning_rate=5e-3, max_length=128, log_every=1, eval_every=5,
                  save_every=5, keep_checkpoints=5, warmup_ratio=0.0, lr_scheduler="constant")
    values.update(training)
    for key, value in values.items():
        setattr(config.training, key, value)
    config.generation.max_new_tokens = 6
    config.generation.eval_rows = 16
    return config.validate()


@pytest.fixture(scope="session")
def finished_dpo_run(tmp_path_factory, tiny_model_dir):
    """A DPO run of the tiny model on 80 pairs, trained to the end (10 steps)."""
    from engine import runs, train

    run = runs.create_run(dpo_config(tmp_path_factory.mktemp("dpo"), tiny_model_dir))
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


# ---------------------------------------------------------------- answers marked good or bad on the tiny model

def write_labelled(path: Path, n: int, seed: int, good_share: float = 0.5) -> Path:
    """Answers marked good (a polite first word) or bad (a rude one), one per row with a thumbs label: the same
    words otherwise, so that what a method learns from the labels shows in the held-out log-probabilities."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        good = i < round(n * good_share)
        rows.append({"prompt": f"Question {seed}-{i}: can you help with {topic}?",
                     "completion": f"{rng.choice(GOOD if good else BAD)}, I will look at {topic} today.",
                     "label": "👍" if good else "👎"})
    rng.shuffle(rows)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def labelled_config(tmp_path, model_dir, method: str = "kto", **training):
    """80 training and 16 held-out answers marked good or bad, on the tiny model."""
    config = dpo_config(tmp_path, model_dir, **training)  # the same training values as the pairs
    train_file = write_labelled(tmp_path / "labelled-train.jsonl", 80, 1)
    held_file = write_labelled(tmp_path / "labelled-test.jsonl", 16, 2)
    config.method.method = method
    config.data.train_file, config.data.eval_file = str(train_file), str(held_file)
    return config.validate()
