"""Did supervised fine-tuning work? The base model, the base model shown a few training examples in its prompt
(the prompting baseline) and the tuned model answer the same held-out rows; exact match, token F1, loss."""
from __future__ import annotations

import math
import time

from ... import models
from ...generation import generate
from ...i18n import N_
from ...scoring import answer_loss, exact_match, few_shot_prompt, general_check, pick_shots, score

PHASES = (N_("base model"), N_("prompting baseline"), N_("tuned model"))


def evaluate(run, config, examples: list[dict], train_rows: list[dict], report_for, stop=None, start=None,
             shots: int = 3):
    """(results, side-by-side table, base everyday answers, tuned everyday answers) on the held-out rows."""
    from peft import PeftModel

    n, t0, gen = len(examples), time.time(), config.generation
    report = report_for(3 * n)  # the three answer passes
    prompts = [e["prompt"] for e in examples]
    references = [e["completion"][0]["content"] for e in examples]
    model, tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
    base = generate(model, tokenizer, prompts, gen, progress=report(PHASES[0], 0), stop=stop)
    shot_rows = pick_shots(train_rows, shots, config.data.seed)
    prompted = generate(model, tokenizer, [few_shot_prompt(shot_rows, e) for e in examples], gen,
                        progress=report(PHASES[1], n), stop=stop)
    base_general = general_check(model, tokenizer, gen, stop)
    base_loss = answer_loss(model, tokenizer, examples, stop)
    final = run.final_dir()
    if final == run.adapter_dir:
        model = PeftModel.from_pretrained(model, str(final))
    else:
        model, tokenizer = _load_full(final)
    tuned = generate(model, tokenizer, prompts, gen, progress=report(PHASES[2], 2 * n), stop=stop)
    tuned_general = general_check(model, tokenizer, gen, stop)
    tuned_loss = answer_loss(model, tokenizer, examples, stop)
    results = {
        "rows": n, "seconds": round(time.time() - t0, 1), "shots": len(shot_rows),
        "base": {**score(base, references), "loss": base_loss, "perplexity": math.exp(base_loss)},
        "prompted": score(prompted, references),
        "tuned": {**score(tuned, references), "loss": tuned_loss, "perplexity": math.exp(tuned_loss)},
    }
    table = [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "expected": ref, "base": b, "prompted": p,
              "tuned": t, "base_match": exact_match(b, ref), "prompted_match": exact_match(p, ref),
              "tuned_match": exact_match(t, ref)}
             for e, ref, b, p, t in zip(examples, references, base, prompted, tuned)]
    return results, table, base_general, tuned_general


def _load_full(folder):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder), models.load_tokenizer(folder)
