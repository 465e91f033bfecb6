"""Preference tuning (DPO) on the tiny 2-layer model: training with the preference metrics in the run folder,
held-out preference accuracy above the base's, the reference being the adapter-disabled base (one copy of the
weights), stop/resume equality, divergence, a start from a finished LoRA run, export and the CLI."""
from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from engine import cli, export, i18n, runs, train
from engine.evaluate import evaluate_run
from engine.methods.sft.presets import PRESETS
from engine.runs import load_results
from engine.settings import RunConfig
from conftest import dpo_config, write_pairs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dpo_run(finished_dpo_run):
    return finished_dpo_run


def test_a_dpo_run_writes_the_preference_metrics_the_train_page_polls(dpo_run):
    records = dpo_run.metrics()
    train_rows = [r for r in records if "loss" in r]
    assert [r["step"] for r in train_rows] == list(range(1, 11))
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "learning_rate"):
        assert all(key in r for r in train_rows), key
    evals = [r for r in records if "eval_loss" in r]
    assert [r["step"] for r in evals] == [0, 5, 10]
    assert all("eval_rewards/margins" in r and "eval_rewards/accuracies" in r for r in evals)
    assert evals[0]["eval_rewards/margins"] == 0.0  # before any step the model is its own reference
    assert evals[-1]["eval_rewards/margins"] > 0 and evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    final = dpo_run.status()["final"]
    assert final["eval_accuracy"] > 0.5 and final["eval_margin"] > 0
    assert (dpo_run.adapter_dir / "adapter_model.safetensors").exists()
    assert not (dpo_run.adapter_dir / "ref").exists()


def test_held_out_preference_accuracy_rises_above_the_base_and_cli_prints_it(dpo_run, capsys):
    assert cli.main(["evaluate", str(dpo_run.path)]) == 0
    out = capsys.readouterr().out
    results = load_results(dpo_run)
    assert results["kind"] == "preference" and results["rows"] == 16
    base, tuned = results["base"], results["tuned"]
    assert tuned["accuracy"] > base["accuracy"] and tuned["margin"] > base["margin"]
    assert results["reward_accuracy"] > 0.5
    assert "preference accuracy" in out and i18n.percent(tuned["accuracy"]) in out and "everyday questions" in out
    row = results["table"][0]
    assert {"prompt", "chosen", "rejected", "base", "tuned", "base_margin", "tuned_margin"} <= set(row)
    assert len(results["general_table"]) == 12


def test_the_reference_is_the_adapter_disabled_base_with_one_copy_of_the_weights(tmp_path, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, LlamaForCausalLM

    run = runs.create_run(dpo_config(tmp_path, tiny_model_dir, max_steps=1, precision="fp32"))  # exact compare
    gc.collect()
    trainer, _ = train.build_trainer(run)
    model = trainer.model
    assert trainer.ref_model is None and isinstance(model, PeftModel)
    assert list(model.peft_config) == ["default"]  # no second adapter standing in as reference
    # One copy of the weights: the only Llama in memory is the trained one, and its parameters' storage is the base
    # weights plus the adapter, each stored once.
    assert [m for m in gc.get_objects() if isinstance(m, LlamaForCausalLM)] == [model.base_model.model]
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    base_values = sum(p.numel() for p in base.parameters())
    storage = {p.untyped_storage().data_ptr(): p.untyped_storage().nbytes() // p.element_size()
               for p in model.parameters()}  # values held, each storage counted once (frozen ones may be bf16)
    adapter = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
    assert sum(storage.values()) == base_values + adapter
    # The reference's log-probabilities are the base model's: move the adapter away from zero, then compare.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.05)
    batch = next(iter(trainer.get_train_dataloader()))
    ref_chosen, ref_rejected = trainer.compute_ref_log_probs(model, batch)
    mask = batch["completion_mask"]
    labels = batch["input_ids"].masked_fill(mask == 0, -100)
    with torch.no_grad():
        logits = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        logps = torch.log_softmax(logits[:, :-1], -1).gather(-1, labels[:, 1:].clamp(min=0)[..., None])[..., 0]
        sums = (logps * (labels[:, 1:] != -100)).sum(1)
        tuned = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    expected_chosen, expected_rejected = sums.chunk(2)
    assert torch.allclose(ref_chosen.float(), expected_chosen, atol=1e-3)
    assert torch.allclose(ref_rejected.float(), expected_rejected, atol=1e-3)
    assert not torch.allclose(tuned, logits, atol=1e-3)  # the adapter is on for the policy, off for the reference


def test_dpo_starts_from_a_finished_lora_run_with_it_as_reference(tmp_path, tiny_model_dir, finished_tiny_run):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    assert finished_tiny_run.id in [r.id for r in runs.finished_adapter_runs(str(tiny_model_dir))]
    config = dpo_config(tmp_path, tiny_model_dir, max_steps=3, eval_every=100, save_every=3, precision="fp32")
    config.method.start_from = finished_tiny_run.id
    run = runs.create_run(config)
    trainer, _ = train.build_trainer(run)
    batch = next(iter(trainer.get_train_dataloader()))
    ref_chosen, _ = trainer.compute_ref_log_probs(trainer.model, batch)
    sft = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                                    str(finished_tiny_run.adapter_dir)).eval()
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    with torch.no_grad():
        logits = sft(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logps = torch.log_softmax(logits[:, :-1], -1).gather(-1, labels[:, 1:].clamp(min=0)[..., None])[..., 0]
    expected = (logps * (labels[:, 1:] != -100)).sum(1).chunk(2)[0]
    assert torch.allclose(ref_chosen.float(), expected, atol=1e-3)  # the reference is the SFT model
    del trainer
    status = train.train_run(run)
    assert status["state"] == "finished", status
    assert not (run.adapter_dir / "ref").exists()
    assert json.loads((run.adapter_dir / "adapter_config.json").read_text())["r"] == \
        json.loads((finished_tiny_run.adapter_dir / "adapter_config.json").read_text())["r"]
    results = evaluate_run(run, rows=4)
    assert results["started_from"] == finished_tiny_run.id


def test_a_bad_start_run_and_mismatched_data_get_plain_messages(tmp_path, tiny_model_dir, finished_tiny_run):
    config = dpo_config(tmp_path, tiny_model_dir, max_steps=2)
    config.method.start_from = "no-such-run"
    status = train.train_run(runs.create_run(config))
    assert status["state"] == "failed" and "there is no run called 'no-such-run'" in status["message"]
    config = finished_tiny_run.config()
    config.method.method = "dpo"
    status = train.train_run(runs.create_run(config))
    assert status["state"] == "failed" and status["message"].startswith("DPO learns from pairs of answers")


def test_export_adapter_merged_and_gguf_of_a_dpo_run(dpo_run, tmp_path):
    assert export.adapter_zip(dpo_run).stat().st_size > 0
    merged = export.merged_model(dpo_run, tmp_path / "merged")
    card = (merged / "README.md").read_text()
    assert "preference tuning (DPO" in card and "dpo.beta" in card
    made = export.gguf_export(dpo_run, "f32")
    assert Path(made["gguf"]).stat().st_size > 1e6 and Path(made["modelfile"]).exists()


def test_cli_trains_the_example_dpo_config(tmp_path, tiny_model_dir, capsys):
    yaml_path = ROOT / "assets" / "configs" / "polite_replies.yaml"
    config = RunConfig.load(yaml_path)
    assert config.method.method == "dpo" and config.training.learning_rate == 7e-4
    held = write_pairs(tmp_path / "held.jsonl", 8, 3)  # a short held-out file keeps the tiny run quick
    code = cli.main(["train", str(yaml_path), "--model.name", str(tiny_model_dir), "--training.max_steps", "2",
                     "--data.eval_file", str(held),
                     "--training.eval_every", "2", "--training.batch_size", "2", "--dpo.beta", "0.2"])
    out = capsys.readouterr().out
    assert code == 0 and "step 2/2" in out and "finished" in out
    run = runs.get_run(out.split("Run ", 1)[1].split()[0])
    assert run.config().dpo.beta == 0.2 and run.status()["final"]["eval_accuracy"] is not None


def test_dpo_presets_have_their_own_learning_rate():
    config = RunConfig.from_dict({"method": {"method": "dpo"}})
    assert config.training.learning_rate == 7e-4 != PRESETS["quick"]["training"]["learning_rate"]
    config.method.method = "sft"
    config.apply_preset()
    assert config.training.learning_rate == PRESETS["quick"]["training"]["learning_rate"]
    config.method.method = "dpo"
    config.apply_preset()  # the Model page re-applies the preset when the method changes
    assert config.training.learning_rate == 7e-4
    again = RunConfig.from_dict(config.to_dict())
    assert again.to_dict() == config.to_dict()
    args = cli.build_parser().parse_args(["train", str(ROOT / "assets/configs/ticket_routing.yaml"),
                                          "--method.method", "dpo"])
    assert cli.load_config(args).training.learning_rate == 7e-4  # a method flag never keeps the SFT rate
    args = cli.build_parser().parse_args(["train", str(ROOT / "assets/configs/ticket_routing.yaml"),
                                          "--method.method", "dpo", "--training.learning_rate", "1e-4"])
    assert cli.load_config(args).training.learning_rate == 1e-4  # an explicit rate still wins


# ---------------------------------------------------------------- the reference scored once, kept in the run folder

def count_reference_passes(monkeypatch) -> dict:
    """Count the reference's forward passes (TRL switches to the reference adapter, or off, for each batch it scores)
    and TRL's own scoring passes over a whole dataset."""
    import trl.trainer.dpo_trainer as trl_dpo

    counts = {"forwards": 0, "datasets": 0}
    use_adapter, precompute = trl_dpo.use_adapter, trl_dpo.DPOTrainer._precompute_ref_logps

    def counted_adapter(*args, **kwargs):
        counts["forwards"] += 1
        return use_adapter(*args, **kwargs)

    def counted_precompute(self, *args, **kwargs):
        counts["datasets"] += 1
        return precompute(self, *args, **kwargs)

    monkeypatch.setattr(trl_dpo, "use_adapter", counted_adapter)
    monkeypatch.setattr(trl_dpo.DPOTrainer, "_precompute_ref_logps", counted_precompute)
    return counts


def step_losses(run) -> tuple[list[float], list[float]]:
    records = run.metrics()
    return [r["loss"] for r in records if "loss" in r], [r["eval_loss"] for r in records if "eval_loss" in r]


def test_the_reference_scored_once_gives_the_losses_of_scoring_it_at_every_step(tmp_path, tiny_model_dir,
                                                                                 monkeypatch):
    from engine.methods.dpo import reference, trainer as dpo_trainer

    counts = count_reference_passes(monkeypatch)
    drawn = reference.drawn_rows
    got = {}
    for variant in ("once", "every step", "once, half the drawn pairs missed"):
        monkeypatch.setattr(dpo_trainer, "REFERENCE_ONCE", variant != "every step")
        if variant.endswith("missed"):  # the step scores a batch holding a pair the pass did not score
            monkeypatch.setattr(reference, "drawn_rows", lambda args, rows: drawn(args, rows)[::2])
        run = runs.create_run(dpo_config(tmp_path / variant, tiny_model_dir, max_steps=6, eval_every=3,
                                         precision="fp32"))
        before = dict(counts)
        assert train.train_run(run)["state"] == "finished"
        got[variant] = step_losses(run), {k: counts[k] - before[k] for k in counts}
        assert (run.path / reference.FILE).exists() == (variant != "every step")
        if variant == "once":
            stored = json.loads((run.path / reference.FILE).read_text())
    (once_train, once_eval), once_counts = got["once"]
    (every_train, every_eval), every_counts = got["every step"]
    assert len(once_train) == 6 and len(once_eval) == 3  # validations at steps 0, 3 and 6
    assert once_train == pytest.approx(every_train, abs=1e-5)
    assert once_eval == pytest.approx(every_eval, abs=1e-5)
    # 6 steps of 4 draw 24 of the 80 training pairs: only those are scored, in 2 batches of 16 (the validation batch
    # size), and the 16 validation pairs in 1; no reference pass in the steps and validations. At every step: one
    # per step and per validation after the start (the step-0 validation needs none: the model is its reference).
    assert once_counts == {"datasets": 2, "forwards": 2 + 1}
    assert every_counts == {"datasets": 0, "forwards": 6 + 2}
    scored = [v for v in stored["train"]["ref_chosen_logps"] if v is not None]
    assert stored["train"]["rows"] == 80 and len(scored) == 24
    assert len(stored["eval"]["ref_chosen_logps"]) == 16 and None not in stored["eval"]["ref_chosen_logps"]
    (late_train, late_eval), late_counts = got["once, half the drawn pairs missed"]
    assert late_train == pytest.approx(every_train, abs=1e-5) and late_eval == pytest.approx(every_eval, abs=1e-5)
    assert late_counts["forwards"] > 1 + 1  # 12 pairs scored before, the others in the steps that drew them


def test_a_resumed_run_reads_the_stored_reference_scores_and_gives_the_uninterrupted_losses(tmp_path, tiny_model_dir,
                                                                                          monkeypatch):
    import threading

    from engine.methods.dpo import reference
    from test_train import AtStep

    counts = count_reference_passes(monkeypatch)
    straight = runs.create_run(dpo_config(tmp_path / "a", tiny_model_dir, max_steps=6, eval_every=3, save_every=100,
                                          precision="fp32"))
    assert train.train_run(straight)["state"] == "finished"
    run = runs.create_run(dpo_config(tmp_path / "b", tiny_model_dir, max_steps=6, eval_every=3, save_every=100,
                                     precision="fp32"))
    stop = threading.Event()
    status = train.train_run(run, stop, callbacks=[AtStep(3, lambda model: stop.set())])
    assert status["state"] == "stopped" and status["step"] == 3
    stored = json.loads((run.path / reference.FILE).read_text())
    assert set(stored) == {"train", "eval"} and stored["train"]["rows"] == 80 and stored["eval"]["rows"] == 16
    assert len(stored["train"]["ref_chosen_logps"]) == len(stored["train"]["ref_rejected_logps"]) == 80
    reads = []
    load = reference.Store.load
    monkeypatch.setattr(reference.Store, "load", lambda self, *a: reads.append(a[0]) or load(self, *a))
    before = dict(counts)
    assert train.train_run(run, resume=True)["state"] == "finished"
    assert reads == ["train", "eval"]
    assert counts == before  # no reference pass, before training or in its steps: the stored scores were read
    got, expected = step_losses(run), step_losses(straight)
    assert got[0] == pytest.approx(expected[0], abs=1e-5) and got[1] == pytest.approx(expected[1], abs=1e-5)


def test_stored_reference_scores_are_used_only_for_the_same_pairs_and_settings(tmp_path, tiny_model_dir,
                                                                             monkeypatch):
    from engine.methods.dpo import reference

    counts = count_reference_passes(monkeypatch)
    run = runs.create_run(dpo_config(tmp_path, tiny_model_dir, max_steps=1, precision="fp32"))

    def build():
        before = counts["datasets"]
        trainer, _ = train.build_trainer(run)
        return counts["datasets"] - before, trainer

    assert build()[0] == 2  # computed: training and validation pairs
    computed, trainer = build()
    assert computed == 0  # read from the run folder
    stored = json.loads((run.path / reference.FILE).read_text())
    scored = [i for i, v in enumerate(stored["train"]["ref_chosen_logps"]) if v is not None]
    assert len(scored) == 4  # the one step's pairs
    assert trainer.train_dataset[scored]["ref_chosen_logps"] == \
        pytest.approx([stored["train"]["ref_chosen_logps"][i] for i in scored])
    config = run.config()
    config.data.train_file = str(write_pairs(tmp_path / "other.jsonl", 80, 7))  # other training pairs
    config.save(run.config_path)
    assert build()[0] == 1  # the validation pairs' scores are still those of the same pairs and settings
    again = json.loads((run.path / reference.FILE).read_text())
    assert again["train"]["fingerprint"] != stored["train"]["fingerprint"]
    assert again["train"]["ref_chosen_logps"] != stored["train"]["ref_chosen_logps"]
    assert again["eval"] == stored["eval"]
    config.training.max_length = 48  # answers cut shorter: other scores
    config.save(run.config_path)
    assert build()[0] == 2


def test_the_starting_validation_written_without_a_pass_equals_a_real_one(tmp_path, tiny_model_dir):
    """Before the first step the model is its own reference, so the step-0 validation is known: the engine logs it
    without scoring the validation pairs. Here it is checked against TRL's own validation pass, for every loss."""
    from engine.methods.dpo import trainer as dpo_trainer

    run = runs.create_run(dpo_config(tmp_path, tiny_model_dir, max_steps=1, precision="fp32"))
    trainer, _ = train.build_trainer(run)
    assert not trainer.args.eval_on_start
    assert any(isinstance(c, dpo_trainer.StartingPoint) for c in trainer.callback_handler.callbacks)
    d = run.config().dpo
    for loss_type, beta in (("sigmoid", 0.1), ("ipo", 0.1), ("hinge", 0.5), ("robust", 0.1)):
        d.loss_type, d.beta = loss_type, beta
        trainer.loss_types, trainer.beta = [loss_type], beta
        trainer.label_smoothing = d.label_noise if loss_type == "robust" else 0.0
        real = trainer.evaluate()
        for key, value in dpo_trainer.start_metrics(d).items():
            assert real[key] == pytest.approx(value, abs=1e-6), (loss_type, key)


def test_the_preflight_counts_the_reference_pass_once_instead_of_at_every_step(tmp_path, tiny_model_dir,
                                                                              monkeypatch):
    from dataclasses import replace

    from engine import methods, preflight
    from engine.data import PAIRS

    config = dpo_config(tmp_path, tiny_model_dir, max_steps=10, batch_size=4, eval_every=5)
    once = methods.METHODS["dpo"]
    assert once.reference_once and preflight.step_flops(config) == preflight.STEP_FLOPS["lora"]

    def seconds(method, rows, val_rows):
        monkeypatch.setitem(methods.METHODS, "dpo", method)
        return preflight.preflight(config, rows, {"mean": 60, "longest": 90, "val_rows": val_rows,
                                                  "kind": PAIRS})["seconds"]

    every = replace(once, reference_once=False)
    # One epoch and no validation: the same reference work, once before training or a little at every step.
    assert seconds(once, 40, 0) == pytest.approx(seconds(every, 40, 0))
    # The pass scores only the pairs the 10 steps draw, however many the file holds.
    assert seconds(once, 400, 0) == pytest.approx(seconds(once, 40, 0))
    # With validations (steps 0, 5 and 10) the validation pairs are scored by the reference once, not three times.
    assert seconds(once, 40, 16) < seconds(every, 40, 16)
    monkeypatch.setitem(methods.METHODS, "dpo", every)
    assert preflight.step_flops(config) == preflight.STEP_FLOPS["lora"] + 2


# ---------------------------------------------------------------- each pair's prompt run once for both answers

def tiny_llama(attention: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2,
                                         attn_implementation=attention))
    add_fused_lm_head(model)
    return model


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_a_shared_prompt_row_scores_each_answer_token_and_its_gradient_as_its_own_row_does(attention, monkeypatch):
    import torch
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    from engine import speed
    from engine.methods.dpo.shared_prompt import Forward, pack

    speed.set_compact_head(True)
    model = tiny_llama(attention)
    # Prompts of 2 to 7 tokens; a chosen answer longer, shorter and as long as the rejected one; a 1-token answer.
    pairs = [{"prompt_ids": [1, 5, 6, 7], "chosen_ids": [8, 9, 2], "rejected_ids": [10, 11, 12, 13, 14, 2]},
             {"prompt_ids": [1, 20, 21, 22, 23, 24, 25], "chosen_ids": [30, 31, 32, 33, 2], "rejected_ids": [40, 2]},
             {"prompt_ids": [1, 3], "chosen_ids": [2], "rejected_ids": [50, 51, 2]},
             {"prompt_ids": [1, 60, 61], "chosen_ids": [62, 63, 2], "rejected_ids": [64, 65, 2]}]
    batch = DataCollatorForPreference(pad_token_id=0)(pairs)
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    inputs = dict(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels,
                  fused_lm_head=True)
    packed = pack(batch["input_ids"], batch["attention_mask"], labels)
    assert packed["input_ids"].shape == (4, 15) and batch["input_ids"].shape == (8, 12)  # 60 tokens, not 96
    weight = model.model.layers[0].self_attn.q_proj.weight
    plain = model(**inputs).log_probs[:, -11:]
    shared = Forward(model, attention, torch.float32)(**inputs, use_cache=False).log_probs
    assert shared.shape == plain.shape
    assert torch.allclose(shared, plain, atol=1e-5)
    assert (shared == 0).equal(plain == 0)  # the same tokens scored, in the same places
    plain_grad = torch.autograd.grad(plain.sum(), weight)[0]
    shared_grad = torch.autograd.grad(Forward(model, attention, torch.float32)(**inputs).log_probs.sum(), weight)[0]
    assert torch.allclose(shared_grad, plain_grad, atol=1e-6)

    # Batches it cannot hold exactly run TRL's way: prompts that differ (a truncation from the end), FlashAttention.
    other = batch["input_ids"].clone()
    other[4, 1] = 99
    assert pack(other, batch["attention_mask"], labels) is None
    calls = []
    monkeypatch.setattr("engine.methods.dpo.shared_prompt.pack", lambda *a: calls.append(1))
    Forward(model, "flash_attention_2", torch.float32)(**inputs)
    assert calls == []


def test_shared_prompts_give_the_losses_of_one_row_per_answer(tmp_path, tiny_model_dir, monkeypatch):
    from engine.methods.dpo import shared_prompt, trainer as dpo_trainer

    pack, packed = shared_prompt.pack, []
    monkeypatch.setattr(shared_prompt, "pack", lambda *a: packed.append(pack(*a)) or packed[-1])
    got = {}
    for shared in (True, False):
        monkeypatch.setattr(dpo_trainer, "SHARED_PROMPT", shared)
        run = runs.create_run(dpo_config(tmp_path / str(shared), tiny_model_dir, max_steps=6, eval_every=3,
                                         precision="fp32"))
        assert train.train_run(run)["state"] == "finished"
        # shared: every batch (reference pass, steps, validations) ran as shared-prompt rows; else none did
        assert (bool(packed) and all(p is not None for p in packed)) if shared else not packed
        packed.clear()
        got[shared] = step_losses(run), json.loads((run.path / "ref_logps.json").read_text())
        got[shared, "metrics"] = [{k: v for k, v in r.items() if k.startswith("eval_") and "runtime" not in k
                                   and "per_second" not in k} for r in run.metrics() if "eval_loss" in r]
    # Every validation metric the run keeps (rewards, accuracies, margins) as well as the losses.
    for shared, plain in zip(got[True, "metrics"], got[False, "metrics"]):
        assert shared.keys() == plain.keys()
        assert shared == pytest.approx(plain, abs=1e-4)
    (shared_train, shared_eval), shared_ref = got[True]
    (plain_train, plain_eval), plain_ref = got[False]
    assert len(shared_train) == 6 and len(shared_eval) == 3
    assert shared_train == pytest.approx(plain_train, abs=1e-5)
    assert shared_eval == pytest.approx(plain_eval, abs=1e-5)
    assert shared_ref["eval"]["ref_chosen_logps"] == pytest.approx(plain_ref["eval"]["ref_chosen_logps"], abs=1e-5)


def test_shared_prompts_only_for_models_where_a_branch_cannot_see_the_other():
    """A sliding window (lost with a 4D mask) or a layer that reads straight along the row would let the rejected
    branch see the chosen one: those models run TRL's two rows."""
    from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                              Qwen2ForCausalLM)

    from engine.methods.dpo.shared_prompt import exact_for

    small = dict(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1)
    assert exact_for(LlamaForCausalLM(LlamaConfig(**small)))
    assert exact_for(Qwen2ForCausalLM(Qwen2Config(**small)))  # its window is off by default
    assert not exact_for(Qwen2ForCausalLM(Qwen2Config(use_sliding_window=True, max_window_layers=1, **small)))
    assert not exact_for(MistralForCausalLM(MistralConfig(**small)))  # a 4096-token window
    assert exact_for(MistralForCausalLM(MistralConfig(sliding_window=None, **small)))
    assert not exact_for(LlamaForCausalLM(LlamaConfig(output_router_logits=True, **small)))
    # The pre-flight counts what the trainer will run: the shared prompt once where it can, else two whole rows.
    from engine.methods.dpo.trainer import row_tokens

    stats = {"prompt_lengths": [50, 30], "chosen_lengths": [10, 10], "rejected_lengths": [20, 400]}
    assert row_tokens(stats, 100, {"branched_rows": True}) == ((50 + 10 + 20 + 1) + (30 + 10 + 70 + 1)) / 2
    assert row_tokens(stats, 100, {"branched_rows": False}) is None
