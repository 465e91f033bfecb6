"""DPO's presets."""
from ...i18n import N_

# DPO's own presets, measured on the polite_replies demo pairs (docs/presets.md): its learning rate is DPO's, not
# supervised tuning's (a switch of method re-applies the preset, so that rate is never kept by mistake). Quick
# validates at the start (free: the model is its own reference) and at the end only: a validation of the 60 demo
# pairs costs about three steps (docs/performance.md).
PRESETS = {
    "quick": {"training": {"max_steps": 14, "learning_rate": 7e-4, "batch_size": 8, "grad_accum": 1,
                           "warmup_ratio": 0.1, "lr_scheduler": "constant", "eval_every": 14},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
    "balanced": {"training": {"max_steps": 0, "epochs": 1.0, "learning_rate": 2e-4, "batch_size": 8,
                              "grad_accum": 1, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
    "thorough": {"training": {"max_steps": 0, "epochs": 2.0, "learning_rate": 1e-4, "batch_size": 8,
                              "grad_accum": 2, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.0}, "dpo": {"beta": 0.1}},
}

NOTE = N_("DPO presets: quick is 14 steps of 8 pairs at learning rate 7e-4 and beta 0.1, measured on the demo pairs "
          "(docs/presets.md); DPO needs a lower rate than supervised tuning.")
