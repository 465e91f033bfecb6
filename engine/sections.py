"""The settings every run has, whatever its method: data, model, weights, training, answers.

A method's own settings (its section, such as the preference strength of a pair method) live in its folder,
engine/methods/<name>/settings.py; engine/settings.py gathers all sections into one RunConfig.
"""
from __future__ import annotations

from dataclasses import dataclass

from .fields import setting
from .i18n import N_

METHOD_NAMES: list[str] = []  # filled by the method registry (engine/methods/__init__.py), one name per method
ADAPTER_WEIGHTS = ("lora", "qlora")  # weights that train a LoRA adapter on a frozen base


@dataclass
class DataSettings:
    """Which file to learn from and how to read it."""

    train_file: str = setting("", "The file with your examples (CSV, TSV, JSON, JSONL, Parquet or Excel).",
                              label=N_("Train file"))
    eval_file: str = setting("", "Optional file of held-out examples used only to measure the model. "
                             "Leave empty to hold out part of the training file instead.", label=N_("Eval file"))
    shape: str = setting("auto", "How rows are laid out. 'auto' detects instruction/input/output, messages, "
                         "conversations, prompt/completion and question/answer columns, preference pairs "
                         "(prompt/chosen/rejected, chosen/rejected conversations or 'Human: … Assistant: …' "
                         "transcripts, input/preferred_output/non_preferred_output), answers marked good or bad "
                         "(prompt/completion/label) and prompts alone (a prompt, question or instruction column with "
                         "no answer, for methods that score their own answers); 'columns' uses the two columns you "
                         "name below.",
                         choices=["auto", "alpaca", "messages", "sharegpt", "prompt_completion", "question_answer",
                                  "columns", "preference", "preference_messages", "preference_transcripts",
                                  "preference_hosted", "labelled", "prompt_only"],
                         label=N_("Shape"))
    prompt_column: str = setting("", "With shape 'columns': the column holding what the user says.", advanced=True,
                                 label=N_("Prompt column"))
    answer_column: str = setting("", "With shape 'columns': the column holding the answer the model should learn.",
                                 advanced=True, label=N_("Answer column"))
    system_prompt: str = setting("", "Optional instruction put before every example (a 'system' message).",
                                 label=N_("System prompt"))
    val_fraction: float = setting(0.1, "Share of the training file held out to measure validation loss "
                                  "(used only when there is no separate held-out file).", min=0.0, max=0.5,
                                  label=N_("Val fraction"))
    seed: int = setting(42, "Seed of the train/validation split, so the same split comes back every time.",
                        min=0, max=2**31 - 1, advanced=True, label=N_("Seed"))


@dataclass
class ModelSettings:
    """Which pre-trained model to start from."""

    name: str = setting("default", "'default' for the embedded SmolLM2-135M-Instruct, a local model folder, "
                        "or a Hugging Face Hub id such as 'Qwen/Qwen2.5-0.5B-Instruct'.", label=N_("Name"))
    allow_pickle: bool = setting(False, "Allow weight files in pickle format (.bin/.pt). Pickle files can run "
                                 "code when loaded: only allow them for models you trust.", advanced=True,
                                 label=N_("Allow pickle"))


@dataclass
class MethodSettings:
    """What the model learns from (the method) and which of its weights change."""

    method: str = setting("", "What the model learns from: one of the registered methods (the Model page "
                          "describes each, and which kind of data it reads). Empty: the first registered, which "
                          "learns the answers of your examples.",
                          choices=METHOD_NAMES, label=N_("Method"))
    weights: str = setting("lora", "Which weights change: 'lora' trains small adapter matrices (fast, little memory, "
                           "a few MB to save); 'qlora' is LoRA on a 4-bit base model (needs an NVIDIA GPU and "
                           "bitsandbytes); 'full' trains every weight (more memory, a full copy to save).",
                           choices=["lora", "qlora", "full"], label=N_("Weights"))
    start_from: str = setting("", "Run id of a finished LoRA run to start from (for example: first teach the answers, "
                              "then the preference). Its adapter goes on training and, for methods that compare "
                              "with where they started, its model is the reference. Empty: start from the base "
                              "model.", advanced=True, label=N_("Start from"))
    lora_r: int = setting(16, "LoRA rank: size of the adapter. Larger learns more but is slower.", min=1, max=256,
                          label=N_("LoRA rank"))
    lora_alpha: int = setting(32, "LoRA scaling. A common choice is twice the rank.", min=1, max=512,
                              label=N_("LoRA alpha"))
    lora_dropout: float = setting(0.0, "Dropout on the adapter input, against over-fitting on small data. 0 is "
                                  "faster (no random masks) and scored as well on the demo sets.", min=0.0, max=0.5,
                                  advanced=True, label=N_("LoRA dropout"))
    target_modules: str = setting("all-linear", "Which layers get adapters: 'all-linear' or a comma-separated "
                                  "list such as 'q_proj,v_proj'.", advanced=True, label=N_("Target modules"))
    answers_only: bool = setting(True, "Learn only from the answers, not from the prompts (recommended).",
                                 advanced=True, label=N_("Answers only"))

    def __post_init__(self):
        self.method = self.method or METHOD_NAMES[0]  # the registry's first method is the default


@dataclass
class TrainingSettings:
    """How long and how fast to train."""

    preset: str = setting("quick", "Start from measured settings: 'quick' (a demo that finishes in minutes on a "
                          "laptop CPU), 'balanced', 'thorough'; 'custom' keeps your own values.",
                          choices=["quick", "balanced", "thorough", "custom"], label=N_("Preset"))
    max_steps: int = setting(0, "Number of training steps, when the time budget is 0. 0 means train for the number "
                             "of epochs below.",
                             min=0, max=1_000_000, label=N_("Max steps"))
    epochs: float = setting(1.0, "Passes over the training data (used when steps is 0).", min=0.01, max=100.0,
                            label=N_("Epochs"))
    minutes: float = setting(2.0, "Train for about this many minutes, validation included: the plan turns them into "
                             "whole passes over your examples from this machine's measured speed (corrected once the "
                             "first steps are timed), several passes for a small file. 0: train for the steps or "
                             "epochs above instead (setting either of them sets this to 0).", min=0.0, max=10_000.0,
                             label=N_("Time budget (minutes)"))
    learning_rate: float = setting(2e-3, "How big each update is. Too high diverges, too low learns nothing.",
                                   min=1e-7, max=1e-1, label=N_("Learning rate"))
    batch_size: int = setting(8, "Examples per step on each device.", min=1, max=512, label=N_("Batch size"))
    grad_accum: int = setting(1, "Steps whose gradients are added before one update (a larger batch in the "
                              "same memory).", min=1, max=1024, advanced=True, label=N_("Grad accum"))
    max_length: int = setting(256, "Longest example in tokens; longer ones are cut.", min=16, max=32768,
                            label=N_("Max length (tokens)"))
    everyday_share: float = setting(0.1, "Mix in the starting model's own answers to everyday questions, as this "
                                    "share of your rows (at most 40), so the tuned model keeps answering ordinary "
                                    "questions as before instead of answering everything in your task's format. 0 "
                                    "turns it off. Only for methods that learn answers, not pairs.", min=0.0, max=0.5,
                                    label=N_("Keep everyday skills (share of rows)"))
    warmup_ratio: float = setting(0.1, "Share of steps spent ramping the learning rate up.", min=0.0, max=0.5,
                                  advanced=True, label=N_("Warmup ratio"))
    lr_scheduler: str = setting("cosine", "How the learning rate changes over the run.",
                                choices=["cosine", "linear", "constant", "constant_with_warmup"], advanced=True,
                                label=N_("Lr scheduler"))
    weight_decay: float = setting(0.0, "Pull on weights towards zero, against over-fitting.", min=0.0, max=1.0,
                                  advanced=True, label=N_("Weight decay"))
    packing: bool = setting(False, "Pack several short examples into one sequence (faster on short data).",
                            advanced=True, label=N_("Packing"))
    log_every: int = setting(2, "Record the loss every this many steps.", min=1, max=10_000, advanced=True,
                             label=N_("Log every"))
    eval_every: int = setting(40, "Measure validation loss every this many steps, besides at the start and the "
                              "end (one pass over 60 rows costs about as much as three training steps). With a time "
                              "budget the plan chooses it: four validations after the start.",
                              min=1, max=100_000, advanced=True, label=N_("Eval every"))
    keep_best: bool = setting(True, "Keep the model of the best validation score (the lowest validation loss), not "
                              "the last one, when the last is worse.", label=N_("Keep the best model"))
    stop_early: bool = setting(False, "Stop when it stops improving: end the run when the validation score has not "
                               "improved for the number of validations below.", label=N_("Stop when it stops improving"))
    patience: int = setting(2, "With 'stop when it stops improving': validations without improvement before the run "
                            "ends.", min=1, max=100, advanced=True, label=N_("Patience (validations)"))
    save_every: int = setting(10, "Save a checkpoint every this many steps (what resume starts from).",
                              min=1, max=100_000, advanced=True, label=N_("Save every"))
    keep_checkpoints: int = setting(2, "How many recent checkpoints to keep on disk.", min=1, max=100,
                                    advanced=True, label=N_("Keep checkpoints"))
    precision: str = setting("auto", "Number format for training: 'auto' uses bf16 on GPUs that support it and "
                             "fp32 elsewhere.", choices=["auto", "fp32", "bf16", "fp16"], advanced=True,
                             label=N_("Precision"))
    gradient_checkpointing: bool = setting(False, "Recompute activations to save memory (about 30% slower).",
                                           advanced=True, label=N_("Gradient checkpointing"))
    seed: int = setting(42, "Seed for everything random in training, so a run can be repeated.",
                        min=0, max=2**31 - 1, advanced=True, label=N_("Seed"))


@dataclass
class GenerationSettings:
    """How answers are generated in evaluation and chat."""

    max_new_tokens: int = setting(0, "Longest answer, in tokens. 0: from your data, a little more than the usual "
                                  "longest answer of your training file (the 95th percentile of the answers' "
                                  "lengths × 1.25 + 8, between 16 and 512).", min=0, max=4096,
                                  label=N_("Max new tokens"))
    temperature: float = setting(0.0, "0 always picks the likeliest word (repeatable); higher is more varied.",
                                 min=0.0, max=2.0, label=N_("Temperature"))
    top_p: float = setting(0.9, "With temperature above 0: sample only from the likeliest words making up this "
                           "share of probability.", min=0.05, max=1.0, advanced=True, label=N_("Top p"))
    repetition_penalty: float = setting(1.0, "Above 1 discourages repeating the same words.", min=1.0, max=2.0,
                                        advanced=True, label=N_("Repetition penalty"))
    eval_rows: int = setting(60, "How many held-out rows evaluation answers.", min=1, max=100_000,
                             label=N_("Rows to evaluate"))
