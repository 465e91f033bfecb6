"""GRPO's presets."""
from ...i18n import N_

# Measured on a 2-core CPU with the embedded model on the order-extraction demo (docs/presets.md, "GRPO"):
# generation is most of a step, so the quick preset keeps groups small and answers short. Four prompts a step
# rather than two: a step costs about 1.5x (the answers are written as one batch) and the gradient is less noisy;
# 12 such steps raised the held-out reward where 20 steps of two prompts did not.
PRESETS = {
    "quick": {"training": {"max_steps": 12, "learning_rate": 5e-4, "batch_size": 4, "grad_accum": 1,
                           "warmup_ratio": 0.0, "lr_scheduler": "constant", "eval_every": 6, "log_every": 1},
              "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0},
              "grpo": {"num_generations": 4, "max_completion_length": 48, "beta": 0.04, "eval_prompts": 4}},
    "balanced": {"training": {"max_steps": 0, "epochs": 1.0, "learning_rate": 2e-4, "batch_size": 4,
                              "grad_accum": 1, "warmup_ratio": 0.05, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0},
                 "grpo": {"num_generations": 8, "max_completion_length": 64, "beta": 0.04, "eval_prompts": 16}},
    "thorough": {"training": {"max_steps": 0, "epochs": 2.0, "learning_rate": 1e-4, "batch_size": 4,
                              "grad_accum": 2, "warmup_ratio": 0.05, "lr_scheduler": "cosine", "eval_every": 20},
                 "method": {"lora_r": 32, "lora_alpha": 64, "lora_dropout": 0.0},
                 "grpo": {"num_generations": 8, "max_completion_length": 128, "beta": 0.04, "eval_prompts": 32}},
}

NOTE = N_("GRPO presets: each step writes a group of answers to each prompt and scores them with your checks; writing "
          "answers is most of the time. Quick is 12 steps of 4 prompts with 4 answers each, within 5 minutes on 2 CPU cores (docs/presets.md).")
