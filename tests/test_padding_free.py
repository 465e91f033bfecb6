"""Padding-free batches (the GPU lever with FlashAttention): TRL refuses them with a max length unless it packs,
so the engine cuts the tokenised rows itself; the loss must be the padded batch's, row boundaries kept."""
from __future__ import annotations

import torch

from conftest import tiny_config
from engine import runs, speed, train

CHOOSE = speed.choose


def build(tmp_path, model_dir, monkeypatch, padding_free: bool, max_length: int):
    choose = CHOOSE
    tmp_path.mkdir()

    def forced(*args, **kwargs):
        levers = choose(*args, **kwargs)
        levers.padding_free, levers.precision, levers.attention = padding_free, "fp32", "sdpa"
        return levers

    monkeypatch.setattr(speed, "choose", forced)
    config = tiny_config(tmp_path, model_dir, max_length=max_length, max_steps=1, eval_every=100)
    trainer, _ = train.build_trainer(runs.create_run(config))
    return trainer


def test_padding_free_rows_are_cut_like_trl_and_give_the_padded_loss(tmp_path, tiny_model_dir, monkeypatch):
    padded = build(tmp_path / "padded", tiny_model_dir, monkeypatch, False, 80)
    free = build(tmp_path / "free", tiny_model_dir, monkeypatch, True, 80)
    assert padded.args.max_length == 80 and free.args.max_length is None and free.padding_free
    # the same rows, cut at the same place (rows of 70-91 tokens) and dropped alike
    assert free.train_dataset["input_ids"] == padded.train_dataset["input_ids"]
    assert free.train_dataset["labels"] == padded.train_dataset["labels"]
    assert max(map(len, free.train_dataset["input_ids"])) == 80  # rows over 80 tokens cut
    assert 0 < len(free.train_dataset) < 32  # rows whose prompt fills the 80 tokens dropped
    assert free.eval_dataset["input_ids"] == padded.eval_dataset["input_ids"]

    rows = [{k: padded.train_dataset[i][k] for k in ("input_ids", "labels")} for i in range(4)]
    assert len({len(r["input_ids"]) for r in rows}) > 1  # uneven rows: the padded batch has padding
    losses = []
    for trainer in (padded, free):
        batch = trainer.data_collator(rows)
        trainer.model.eval()
        with torch.no_grad():
            losses.append(float(trainer.compute_loss(trainer.model, batch)))
    assert "attention_mask" not in free.data_collator(rows)  # one flat row, no padding
    assert abs(losses[0] - losses[1]) < 1e-4, losses
