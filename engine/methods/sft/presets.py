"""Supervised fine-tuning's presets: time budgets, planned from the data (engine/plan.py).

Chosen on bench/suite.py's tasks and the demo sets, with the embedded model on a 2-core CPU: docs/presets.md has
the figures. The budget counts training and validation; the plan turns it into passes over the rows, and halves
the rate for a file of fewer than 100 rows (engine/plan.py).

Thorough is balanced's plan with 20 minutes: it goes further only where 6 minutes cannot cover the plan's passes
(many or long rows). Measured and rejected for it: rank 32 (text_qa, validation loss 0.21 against 0.09 at step
60, 80% exact match against 90%), 5e-4 with 16 rows a step, more passes than the plan's cap (the model overfitted
while the long schedule's rate was still high) and eight validations (one noisy one stopped the run).
"""

BALANCED = {"training": {"minutes": 6.0, "max_steps": 0, "epochs": 1.0, "learning_rate": 1e-3, "batch_size": 8,
                         "grad_accum": 1, "warmup_ratio": 0.05, "lr_scheduler": "cosine", "keep_best": True,
                         "stop_early": True},
            "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}}

PRESETS = {
    "quick": {"training": {"minutes": 2.0, "max_steps": 0, "epochs": 1.0, "learning_rate": 2e-3, "batch_size": 8,
                           "grad_accum": 1, "warmup_ratio": 0.1, "lr_scheduler": "cosine", "keep_best": True,
                           "stop_early": False},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0}},
    "balanced": BALANCED,
    "thorough": {"training": {**BALANCED["training"], "minutes": 20.0}, "method": dict(BALANCED["method"])},
}
