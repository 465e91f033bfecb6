"""KTO's presets."""
from ...i18n import N_

# Measured on the support_feedback demo answers (docs/presets.md): like pair preference tuning, a lower rate than
# supervised tuning.
PRESETS = {
    "quick": {"training": {"max_steps": 30, "learning_rate": 5e-4, "batch_size": 8, "grad_accum": 1,
                           "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 15},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "kto": {"beta": 0.1}},
    "balanced": {"training": {"max_steps": 0, "epochs": 1.0, "learning_rate": 2e-4, "batch_size": 8,
                              "grad_accum": 1, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}, "kto": {"beta": 0.1}},
    "thorough": {"training": {"max_steps": 0, "epochs": 2.0, "learning_rate": 1e-4, "batch_size": 8,
                              "grad_accum": 2, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.0}, "kto": {"beta": 0.1}},
}

NOTE = N_("KTO presets: quick is 30 steps of 8 answers at learning rate 5e-4 and beta 0.1, measured on the demo "
          "answers (docs/presets.md); like preference tuning from pairs, it needs a lower rate than supervised "
          "tuning.")
