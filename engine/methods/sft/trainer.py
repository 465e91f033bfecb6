"""Supervised fine-tuning through TRL's SFTTrainer: the answers of the examples are learned (loss on the answers)."""
from __future__ import annotations

from ... import data as data_mod
from ... import everyday, models, speed
from ...i18n import N_, msg
from .. import trainer as shared

WRITING_EVERYDAY = N_("Writing the starting model's answers to everyday questions (once per model; about a "
                      "minute on a CPU).")


def build_trainer(run, config, stop=None, callbacks=(), on_record=None, resuming: bool = False, start=None):
    """Everything SFTTrainer needs for this run; returns (trainer, studio_callback)."""
    from trl import SFTConfig

    method = config.method_info  # this folder's Method, from the registry

    t, m = config.training, config.method
    train_rows, val_rows = shared.prepare_data(config, method.data_kind, method.needs)
    device = models.device_info()
    levers = shared.choose_levers(config, device)
    model, tokenizer = shared.load_model(config, device, levers)
    train_rows = train_rows + everyday.for_run(run, config, model, tokenizer, len(train_rows), on_generate=lambda:
                                               run.set_status("running", message=msg(WRITING_EVERYDAY)))
    model, peft_config = shared.adapter(model, config, start)
    has_val = bool(val_rows)
    fresh = peft_config is not None
    args = SFTConfig(
        **shared.common_args(run, config, device, levers, has_val, resuming, fresh_adapter=fresh),
        packing=t.packing, packing_strategy="bfd" if t.packing and device.kind == "cuda" else "wrapped",
        padding_free=levers.padding_free, use_liger_kernel=levers.liger,
        completion_only_loss=m.answers_only,
    )
    cut = speed.padding_free_cut(args, t.packing)  # padding-free batches: the rows are cut here, not by TRL
    studio = shared.callback(run, stop, on_record, method)
    trainer = shared.StudioTrainer(method.trainer_class, model=model, args=args,
                                   train_dataset=data_mod.to_hf(train_rows),
                                   eval_dataset=data_mod.to_hf(val_rows) if has_val else None,
                                   processing_class=tokenizer, peft_config=peft_config,
                                   callbacks=[*callbacks, studio])  # injected faults act within the step, first
    speed.cut_rows(trainer, cut)
    return shared.finish_build(trainer, studio, levers, late_start_eval=has_val and not resuming and fresh)
