"""Talking to a run's model: streamed answers from the tuned model and, for comparison, the base model.

One copy of the weights serves both: the base model answers with the LoRA adapter switched off. A lock keeps
one generation at a time, since the adapter switch is model-wide.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from .generation import resolve
from .i18n import msg
from . import models, runs, warm
from .runs import Run
from .settings import GenerationSettings


class ChatModels:
    def __init__(self, run: Run):
        warm.ready()  # see engine/warm.py
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        config = run.config()
        final = run.final_dir()
        if final is None:
            raise FileNotFoundError(msg("This run has no trained model yet: let it finish first."))
        self.run_id = run.id
        # a setting of 0 leaves the answer length to the run's data (recorded at training start)
        self.answer_tokens = runs.answer_settings(run, config).max_new_tokens
        self.base, self.tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
        if final == run.adapter_dir:
            self.tuned = PeftModel.from_pretrained(self.base, str(final)).eval()
            self.tokenizer = models.load_tokenizer(final)
        else:  # full fine-tuning: two separate models
            self.tuned = AutoModelForCausalLM.from_pretrained(final).eval()
        self.lock = threading.Lock()

    def stream(self, messages: list[dict], settings: GenerationSettings, which: str = "tuned",
               stop: list[str] | None = None, usage: dict | None = None) -> Iterator[str]:
        """Yield the answer piece by piece as it is generated. Generation ends at a `stop` text (which is still
        yielded: the caller cuts it) and as soon as the caller stops reading; `usage` gets the token counts."""
        import contextlib

        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        settings = resolve(settings, self.answer_tokens)
        model = self.tuned
        switch = contextlib.nullcontext()
        if which == "base":
            if hasattr(self.tuned, "disable_adapter"):
                switch = self.tuned.disable_adapter()
            else:
                model = self.base
        inputs = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                    return_dict=True).to(model.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        left = threading.Event()  # the reader went away: stop generating at the next token

        class ReaderLeft(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), left.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        kwargs = dict(**inputs, streamer=streamer, max_new_tokens=settings.max_new_tokens,
                      repetition_penalty=settings.repetition_penalty, pad_token_id=self.tokenizer.pad_token_id,
                      do_sample=settings.temperature > 0, stopping_criteria=StoppingCriteriaList([ReaderLeft()]))
        if settings.temperature > 0:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        failed = []

        def work():
            try:
                with switch, torch.no_grad():
                    out = model.generate(**kwargs)
            except Exception as err:  # raised in the reader's thread below, not lost in this one
                failed.append(err)
                streamer.end()
                return
            if usage is not None:
                prompt = inputs["input_ids"].shape[1]
                new = out[0, prompt:].tolist()
                ended = bool(new) and new[-1] in _end_ids(model, self.tokenizer)
                usage.update(prompt_tokens=prompt, completion_tokens=len(new),
                             hit_limit=len(new) >= settings.max_new_tokens and not ended)

        with self.lock:
            thread = threading.Thread(target=work, name="chat-generate", daemon=True)
            thread.start()
            try:
                yield from streamer
            finally:
                left.set()
                thread.join()
        if failed:
            raise failed[0]

    def answer(self, messages: list[dict], settings: GenerationSettings, which: str = "tuned") -> str:
        return "".join(self.stream(messages, settings, which)).strip()


def _end_ids(model, tokenizer) -> set[int]:
    """Token ids that end an answer: the generation config's and the tokenizer's end-of-sequence."""
    ids = model.generation_config.eos_token_id
    ids = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    return ids | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set())
