"""Supervised fine-tuning's presets."""

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
