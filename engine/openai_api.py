"""The OpenAI chat-completions wire format, apart from any server: a request checked field by field (ApiError
names the first wrong one, in the OpenAI error shape), the streamed chunks and usage counts, and the trimming of
streamed text at stop texts. engine.serve answers with it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_MESSAGES = 512
MAX_STOPS, MAX_STOP_CHARS = 4, 200


@dataclass
class Ask:
    """A checked chat completion request."""

    model: str
    messages: list[dict]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)


def _number(body: dict, key: str, low: float, high: float, integer: bool = False, low_open: bool = False):
    value = body.get(key)
    if value is None:
        return None
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise ApiError(400, f"'{key}' must be {kind}, not {json.dumps(value)[:40]}.", key)
    if value < low or value > high or (low_open and value == low):
        side = f"above {low}" if low_open else f"at least {low}"
        raise ApiError(400, f"'{key}' is {value}; it must be {side} and at most {high}.", key)
    return int(value) if integer else float(value)


def _content(value, index: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: only text ones
        texts = []
        for part in value:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"messages[{index}].content: only text parts ({{'type': 'text', 'text': ...}}) "
                                    "are supported.", "messages")
            texts.append(part["text"])
        return "".join(texts)
    raise ApiError(400, f"messages[{index}].content must be a string or a list of text parts.", "messages")


def parse_request(body, max_tokens: int) -> Ask:
    """The request's fields checked one by one; ApiError(400) names the first one that is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object with 'model' and 'messages'.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "'model' is missing: give one of the names GET /v1/models lists.", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list of {'role', 'content'} objects.", "messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"'messages' has {len(messages)} messages; at most {MAX_MESSAGES} are accepted.",
                       "messages")
    checked = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ApiError(400, f"messages[{i}] must be an object with 'role' and 'content'.", "messages")
        role = ROLES.get(message.get("role"))
        if role is None:
            raise ApiError(400, f"messages[{i}].role is {json.dumps(message.get('role'))[:40]}; use system, user "
                                "or assistant (tools are not supported).", "messages")
        checked.append({"role": role, "content": _content(message.get("content"), i)})
    for unsupported in ("tools", "functions"):
        if body.get(unsupported):
            raise ApiError(400, f"'{unsupported}' are not supported by this server.", unsupported)
    if body.get("n") not in (None, 1):
        raise ApiError(400, "'n' must be 1: this server gives one answer per request.", "n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "'stream' must be true or false.", "stream")
    options_field = body.get("stream_options") or {}
    if not isinstance(options_field, dict):
        raise ApiError(400, "'stream_options' must be an object such as {'include_usage': true}.", "stream_options")
    key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else stop
    if stop is not None and (not isinstance(stop, list) or len(stop) > MAX_STOPS or
                             not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in stop)):
        raise ApiError(400, f"'stop' must be a text or a list of up to {MAX_STOPS} non-empty texts of at most "
                            f"{MAX_STOP_CHARS} characters.", "stop")
    return Ask(model, checked, stream, bool(options_field.get("include_usage")),
               _number(body, key, 1, max_tokens, integer=True), _number(body, "temperature", 0, 2),
               _number(body, "top_p", 0, 1, low_open=True), list(stop or []))


class Trimmer:
    """Streamed pieces in, text out as the engine gives it: no white space at either end, nothing from a stop
    text on. What might still turn out to be trailing white space or the start of a stop text is held back."""

    def __init__(self, stop: list[str] | None = None):
        self.stop = [s for s in stop or [] if s]
        self.pending, self.started, self.stopped = "", False, False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        if not self.started:
            piece = piece.lstrip()
            self.started = bool(piece)
        self.pending += piece
        found = [i for i in (self.pending.find(s) for s in self.stop) if i >= 0]
        if found:
            self.stopped = True
            out, self.pending = self.pending[:min(found)].rstrip(), ""
            return out
        hold = max((k for s in self.stop for k in range(1, len(s)) if self.pending.endswith(s[:k])), default=0)
        out = self.pending[:len(self.pending) - hold].rstrip()
        self.pending = self.pending[len(out):]
        return out

    def finish(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending.rstrip()), ""
        return out


# ---------------------------------------------------------------- answers

def chunk(meta: dict, delta: dict | None = None, finish: str | None = None, usage: dict | None = None) -> str:
    body = {**meta, "object": "chat.completion.chunk",
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def usage_counts(prompt: int, usage: dict) -> dict:
    prompt, done = usage.get("prompt_tokens", prompt), usage.get("completion_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done}
