"""Keep everyday skills: the starting model's own answers to everyday questions, mixed into training.

Forty steps at a demo's learning rate teach a small model its task so well that it answers everything in the
task's format: the ticket model answered "What is the capital of France?" with "team: administrative | ...".
Mixing in a few examples of how the starting model itself answers ordinary questions (self-distillation)
keeps that behaviour at little cost to the task (docs/presets.md).

The practice questions (assets/eval/everyday_practice.json) are not those of the forgetting check
(assets/eval/general.json), so the check still measures what was not practised. The answers are generated once
per model and cached; the embedded model's ship in assets/eval/everyday_answers_default.json (written by
`python -m engine.everyday build`), so a first demo does not wait for them. A run keeps the examples it mixed in
as everyday.json in its folder, so a resume trains on the same ones.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
from pathlib import Path

from . import models
from .i18n import Message, msg
from .paths import home, read_json, write_json

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "eval"
PRACTICE_FILE = ASSETS / "everyday_practice.json"
SHIPPED_FILE = ASSETS / "everyday_answers_default.json"
MAX_NEW_TOKENS = 64
BATCH = 20  # 40 answers in 12.8 s at 20 a batch against 18.7 s at 8 (bf16, 2 cores)
RUN_FILE = "everyday.json"
SENTENCE_CHARS = 160  # about 35 tokens: the answer's opening, in its own words


def prompts() -> list[str]:
    return list(_practice())


@functools.lru_cache(maxsize=1)
def _practice() -> tuple[str, ...]:  # read once: the Settings page asks on every rerun
    return tuple(json.loads(PRACTICE_FILE.read_text(encoding="utf-8"))["prompts"])


def rows_to_add(share: float, train_rows: int, applies: bool = True) -> int:
    """How many everyday examples a run mixes in: a share of its task rows, at most one per practice question.
    None for a method that does not learn answers (its Method says mixes_everyday=False)."""
    if not applies or share <= 0 or train_rows <= 0:
        return 0
    return min(max(1, round(share * train_rows)), len(prompts()))


def cache_file(model_name: str, allow_pickle: bool = False) -> Path:
    """Where a model's answers are cached: named after its folder, config and weight sizes, or after its Hub id
    (never downloading it: the Settings page asks before anything is fetched)."""
    name = (model_name or models.DEFAULT_NAME).strip()
    local = Path(name).expanduser()
    if name == models.DEFAULT_NAME or local.is_dir():
        folder = models.resolve(name, allow_pickle)
        identity = [str(folder.resolve()), (folder / "config.json").read_text(encoding="utf-8")]
        identity += [f"{p.name}:{p.stat().st_size}" for p in sorted(folder.glob("*.safetensors"))]
    else:
        identity = [name]
    digest = hashlib.sha256("\n".join(identity).encode()).hexdigest()[:16]
    return home() / "everyday" / f"{digest}.json"


def cached_answers(model_name: str, allow_pickle: bool = False) -> list[str] | None:
    """The answers already written for this model (shipped for the embedded one), or None."""
    wanted = prompts()
    if (model_name or models.DEFAULT_NAME).strip() == models.DEFAULT_NAME:
        shipped = read_json(SHIPPED_FILE)
        if shipped and shipped.get("prompts") == wanted:
            return shipped["answers"]
    found = read_json(cache_file(model_name, allow_pickle))
    return found["answers"] if found and found.get("prompts") == wanted else None


def generate_answers(model, tokenizer) -> list[str]:
    """The model's greedy answers to the practice questions (its padding side is left as it was)."""
    from .generation import generate
    from .sections import GenerationSettings

    side = tokenizer.padding_side
    try:
        return generate(model, tokenizer, [[{"role": "user", "content": p}] for p in prompts()],
                        GenerationSettings(max_new_tokens=MAX_NEW_TOKENS, temperature=0.0), batch_size=BATCH)
    finally:
        tokenizer.padding_side = side


def answers_for(model, tokenizer, model_name: str, allow_pickle: bool = False, on_generate=None) -> list[str]:
    """Shipped or cached answers, else generated now with `model` (the starting model) and cached."""
    found = cached_answers(model_name, allow_pickle)
    if found is not None:
        return found
    if on_generate:
        on_generate()
    answers = generate_answers(model, tokenizer)
    write_json(cache_file(model_name, allow_pickle), {"model": model_name, "prompts": prompts(), "answers": answers})
    return answers


def whole_sentences(text: str, limit: int = SENTENCE_CHARS) -> str:
    """The answer's first sentences up to `limit` characters (at least one), without a sentence cut off by the
    generation's length limit: the model learns to end answers where a sentence ends, and the shorter answers
    keep the step's cost down (the loss is computed on answer tokens)."""
    sentences = re.findall(r"[^.!?]*[.!?]+[\"')\]]*", text)
    kept = ""
    for sentence in sentences:
        if kept and len(kept) + len(sentence) > limit:
            break
        kept += sentence
    return kept.strip()


def examples(answers: list[str], n: int) -> list[dict]:
    """The first n question/answer pairs with a whole sentence to learn, as training examples (the shape
    data.prepare gives)."""
    pairs = [(p, whole_sentences(a)) for p, a in zip(prompts(), answers)]
    pairs = [(p, a) for p, a in pairs if a][:n]
    return [{"row": None, "everyday": True, "prompt": [{"role": "user", "content": p}],
             "completion": [{"role": "assistant", "content": a}]} for p, a in pairs]


def for_run(run, config, model, tokenizer, train_rows: int, on_generate=None) -> list[dict]:
    """The everyday examples this run mixes in: those it saved when it first started, else chosen now (called
    by the trainers of methods that learn answers)."""
    n = rows_to_add(config.training.everyday_share, train_rows)
    if n == 0:
        return []
    saved = read_json(run.path / RUN_FILE)
    if saved is not None:
        return saved
    chosen = examples(answers_for(model, tokenizer, config.model.name, config.model.allow_pickle, on_generate), n)
    write_json(run.path / RUN_FILE, chosen)
    return chosen


def mixed_in(run) -> int:
    """How many everyday examples a run trained on (0 when the setting was off, or before it existed)."""
    return len(read_json(run.path / RUN_FILE, []))


def forgetting_advice(share: float, general: dict) -> Message | None:
    """A plain next step when the tuned model answers clearly fewer everyday questions than the starting one."""
    if general["tuned"] >= general["base"] - 0.1:
        return None
    if share <= 0:
        return msg("It answers fewer everyday questions than before, and 'Keep everyday skills' was off for this "
                   "run: set it to 0.1 on the Settings page and train again.")
    return msg("It answers fewer everyday questions than before. Raise 'Keep everyday skills' on the Settings page "
               "(this run used {share:.0%}), or lower the learning rate or the number of steps, and train again.",
               share=share)


def generation_seconds(parameters: int, rate_flops: float) -> float:
    """Time to write the answers of a model not yet cached: decode steps of one batch each, at the matmul rate
    plus a per-step overhead measured on the embedded model (0.1 s a step at 135M parameters, 2 cores)."""
    batches = -(-len(prompts()) // BATCH)
    return batches * MAX_NEW_TOKENS * (BATCH * 2 * parameters / rate_flops + 0.07)


def build_shipped() -> None:
    """Write the embedded model's answers (fp32, greedy) to SHIPPED_FILE."""
    model, tokenizer, _ = models.load(models.DEFAULT_NAME)
    answers = generate_answers(model, tokenizer)
    write_json(SHIPPED_FILE, {"model": "embedded SmolLM2-135M-Instruct", "how": "python -m engine.everyday build "
                              "(fp32, greedy, at most 64 new tokens)", "prompts": prompts(), "answers": answers})
    print(f"{len(answers)} answers written to {SHIPPED_FILE}")


if __name__ == "__main__":
    if sys.argv[1:] == ["build"]:
        build_shipped()
    else:
        print("usage: python -m engine.everyday build")
