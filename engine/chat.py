"""Talking to a run's model: streamed answers from the tuned model and, for comparison, the base model.

One copy of the weights serves both: the base model answers with the LoRA adapter switched off. A lock keeps
one generation at a time, since the adapter switch is model-wide.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from .i18n import msg
from . import models, warm
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
        self.base, self.tokenizer, _ = models.load(config.model.name, config.model.allow_pickle)
        if final == run.adapter_dir:
            self.tuned = PeftModel.from_pretrained(self.base, str(final)).eval()
            self.tokenizer = models.load_tokenizer(final)
        else:  # full fine-tuning: two separate models
            self.tuned = AutoModelForCausalLM.from_pretrained(final).eval()
        self.lock = threading.Lock()

    def stream(self, messages: list[dict], settings: GenerationSettings, which: str = "tuned") -> Iterator[str]:
        """Yield the answer piece by piece as it is generated."""
        import contextlib

        import torch
        from transformers import TextIteratorStreamer

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
        kwargs = dict(**inputs, streamer=streamer, max_new_tokens=settings.max_new_tokens,
                      repetition_penalty=settings.repetition_penalty, pad_token_id=self.tokenizer.pad_token_id,
                      do_sample=settings.temperature > 0)
        if settings.temperature > 0:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)

        def work():
            with switch, torch.no_grad():
                model.generate(**kwargs)

        with self.lock:
            thread = threading.Thread(target=work, name="chat-generate", daemon=True)
            thread.start()
            yield from streamer
            thread.join()

    def answer(self, messages: list[dict], settings: GenerationSettings, which: str = "tuned") -> str:
        return "".join(self.stream(messages, settings, which)).strip()
