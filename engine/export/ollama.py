"""An Ollama Modelfile for a GGUF export: the chat template as a Go template, stop tokens, system prompt, sampling.

Ollama infers a template only for chat formats it recognises; a fine-tuned model without the right one rambles
or never stops. The model's Jinja template is rendered with marker texts, cut into what comes before and after
each role's message, and rebuilt as a Go template; the rebuilt form is checked against the Jinja rendering.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

SYS, USER, ASSISTANT, USER2 = "\x00SYS\x00", "\x00USER\x00", "\x00ASSISTANT\x00", "\x00USER2\x00"


class TemplateError(ValueError):
    """The chat template cannot be rebuilt as an Ollama template."""


@dataclass
class ChatFormat:
    """Text around each role's message, as the chat template writes it."""
    around: dict[str, tuple[str, str]]  # role -> (before, after)
    no_system: str  # written first when the conversation has no system message (a default system prompt)
    generation: str  # the start of the assistant's answer


def _render(tokenizer, messages, generation=False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)


def _block(longer: str, shorter: str, marker: str) -> tuple[str, str]:
    if not longer.startswith(shorter) or marker not in longer[len(shorter):]:
        raise TemplateError("The chat template does not write one message after another.")
    before, after = longer[len(shorter):].split(marker)
    return before, after


def chat_format(tokenizer) -> ChatFormat:
    """Each role's surrounding text, found by rendering growing conversations with marker contents."""
    turns = [{"role": "system", "content": SYS}, {"role": "user", "content": USER},
             {"role": "assistant", "content": ASSISTANT}]
    try:
        rendered = [""] + [_render(tokenizer, turns[:n]) for n in range(1, 4)]
        generation = _render(tokenizer, turns[:2], True)[len(rendered[2]):]
        user_only = _render(tokenizer, turns[1:2])
    except Exception as err:  # templates that refuse partial conversations (strict role alternation)
        raise TemplateError(f"The chat template cannot be rendered piece by piece ({err}).") from None
    around = {turn["role"]: _block(rendered[n + 1], rendered[n], turn["content"]) for n, turn in enumerate(turns)}
    user_block = around["user"][0] + USER + around["user"][1]
    if not user_only.endswith(user_block):
        raise TemplateError("The chat template writes a user message differently without a system message.")
    chat = ChatFormat(around, user_only[: len(user_only) - len(user_block)], generation)
    check(tokenizer, chat)
    return chat


def rebuild(chat: ChatFormat, messages: list[dict], generation: bool = True) -> str:
    """The conversation as the Go template below writes it (used to check it against the Jinja template)."""
    text = chat.no_system if not messages or messages[0]["role"] != "system" else ""
    for m in messages:
        before, after = chat.around[m["role"]]
        text += before + m["content"] + after
    return text + (chat.generation if generation else "")


def check(tokenizer, chat: ChatFormat) -> None:
    cases = [[{"role": "system", "content": SYS}, {"role": "user", "content": USER},
              {"role": "assistant", "content": ASSISTANT}, {"role": "user", "content": USER2}],
             [{"role": "user", "content": USER}, {"role": "assistant", "content": ASSISTANT},
              {"role": "user", "content": USER2}]]
    for messages in cases:
        if rebuild(chat, messages) != _render(tokenizer, messages, True):
            raise TemplateError("The chat template changes with the conversation in ways a fixed Ollama template "
                                "cannot follow.")


def _go(text: str) -> str:
    """Literal text inside a Go template: only '{{' would be read as an action."""
    return text.replace("{{", '{{ "{{" }}')


def go_template(chat: ChatFormat) -> str:
    """Ollama's TEMPLATE: the same text as the model's chat template, over .Messages."""
    parts = []
    if chat.no_system:
        parts.append('{{- if or (not .Messages) (ne (index .Messages 0).Role "system") }}'
                     f"{_go(chat.no_system)}{{{{ end }}}}")
    branches = []
    for n, (role, (before, after)) in enumerate(chat.around.items()):
        keyword = "if" if n == 0 else "else if"
        branches.append(f'{{{{ {keyword} eq .Role "{role}" }}}}{_go(before)}{{{{ .Content }}}}{_go(after)}')
    parts.append("{{ range .Messages }}" + "".join(branches) + "{{ end }}{{ end }}")
    parts.append(_go(chat.generation))
    return "".join(parts)


def stop_tokens(tokenizer, chat: ChatFormat | None) -> list[str]:
    """End-of-turn tokens: the special tokens that close an assistant message, and eos."""
    stops = []
    if chat:
        after = chat.around["assistant"][1]
        stops += [t for t in tokenizer.all_special_tokens + list(tokenizer.get_added_vocab()) if t and t in after]
    if tokenizer.eos_token:
        stops.append(tokenizer.eos_token)
    return list(dict.fromkeys(stops))


def _quote(text: str) -> str:
    return '"""' + text.replace('"""', '\\"\\"\\"') + '"""'


def modelfile(gguf_name: str, tokenizer, system_prompt: str = "", generation=None) -> str:
    """The Modelfile text: FROM, TEMPLATE, SYSTEM, stop tokens and the run's generation settings."""
    try:
        chat = chat_format(tokenizer)
        template = f"TEMPLATE {_quote(go_template(chat))}"
    except TemplateError as err:
        chat, template = None, f"# No TEMPLATE: {err} Ollama will guess the chat format."
    lines = [f"FROM ./{gguf_name}", "", template]
    if system_prompt:
        lines.append(f"SYSTEM {_quote(system_prompt)}")
    lines.append("")
    lines += [f"PARAMETER stop {json.dumps(s)}" for s in stop_tokens(tokenizer, chat)]
    if generation is not None:
        lines += [f"PARAMETER temperature {generation.temperature:g}", f"PARAMETER top_p {generation.top_p:g}",
                  f"PARAMETER repeat_penalty {generation.repetition_penalty:g}",
                  f"PARAMETER num_predict {generation.max_new_tokens}"]
    return "\n".join(lines) + "\n"
