"""Serve finished runs (and their base model) as an OpenAI-compatible HTTP API, on Starlette and uvicorn.

`GET /v1/models` lists the names; `POST /v1/chat/completions` answers, streamed as server-sent events or not,
with the run's chat template and generation settings (a request may change max_tokens, temperature, top_p and
give stop texts) and usage counts. Answers come from chat.ChatModels.stream, the Chat page's own generation, so
a greedy answer here is the one the studio gives.

Safe by default: it listens on localhost; any other address needs an API key (Authorization: Bearer KEY) and
the server refuses to start without one. One answer is generated at a time (a CPU has nothing to spare); a
bounded number of requests wait their turn and the ones past the bound get 429 at once. Every bad request gets
a JSON error that says what is wrong (the OpenAI error shape, in English as API errors are read by programs):
400, 401, 404 with the served names, 413 for a body over the limit; the server never crashes on input.

In the studio the server runs in a background thread of the studio's process (SERVING below, shared by every
tab), so stopping the studio stops it; `python -m engine serve RUN` runs it in the foreground.
"""
from __future__ import annotations

import asyncio
import atexit
import dataclasses
import hmac
import ipaddress
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, fields

from .i18n import N_, msg
from .runs import Run, answer_settings
from .fields import SettingsError, check_value, coerce, setting
from .sections import GenerationSettings
from .openai_api import ApiError, Ask, Trimmer, chunk, parse_request, usage_counts

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class ServeError(RuntimeError):
    """The server cannot start (its argument is a Message saying why and what to do)."""


@dataclass
class ServeSettings:
    """Where the server listens and what it accepts; the CLI's flags and the studio's form come from these."""

    host: str = setting("127.0.0.1", N_("Address to listen on. 127.0.0.1 (localhost) is reachable from this "
                                        "machine only; 0.0.0.0 or a network address shares it and needs an API "
                                        "key."), label=N_("Address"))
    port: int = setting(8000, N_("Port to listen on."), min=1, max=65535, label=N_("Port"))
    api_key: str = setting("", N_("Secret that callers send as 'Authorization: Bearer KEY'. Required to listen "
                                  "on anything but localhost. Also read from the STUDIO_API_KEY environment "
                                  "variable."), label=N_("API key"))
    max_tokens: int = setting(1024, N_("Most tokens one answer may have (a request's max_tokens above it is "
                                       "refused)."), min=1, max=32768, label=N_("Max tokens per answer"))
    max_prompt_tokens: int = setting(4096, N_("Longest prompt accepted, in tokens (also limited by the model's "
                                              "context)."), min=16, max=1_000_000,
                                 label=N_("Max prompt tokens"))
    max_waiting: int = setting(4, N_("Requests that may wait while one answer is generated; more get 429 (busy, "
                                     "try again)."), min=0, max=1000, label=N_("Max waiting requests"))
    max_body_kb: int = setting(1024, N_("Largest request body accepted, in KB; larger ones get 413."), min=1,
                               max=65536, label=N_("Max body (KB)"))

    def validate(self) -> "ServeSettings":
        for f in fields(self):
            value = coerce(f.name, ServeSettings, f, getattr(self, f.name))
            check_value(f.name, ServeSettings, f, value)
            setattr(self, f.name, value.strip() if isinstance(value, str) else value)
        if not is_loopback(self.host) and not self.api_key:
            raise ServeError(msg("Listening on {host} lets other machines call the models, so an API key is "
                                 "required: set one (--api-key, or the STUDIO_API_KEY environment variable), or "
                                 "listen on 127.0.0.1.", host=self.host))
        return self


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------- the models a server answers with

@dataclass
class Served:
    """One name the API answers to: a run's tuned model, or its base model (the adapter switched off)."""

    name: str
    run: Run
    which: str  # "tuned" or "base"
    chat: object  # chat.ChatModels (one copy of the weights answers as both)
    generation: GenerationSettings
    label: str = ""

    @property
    def tokenizer(self):
        return self.chat.tokenizer

    @property
    def context(self) -> int | None:
        model = self.chat.base if self.which == "base" else self.chat.tuned
        return getattr(model.config, "max_position_embeddings", None)


def load_models(found: list[Run], loader=None) -> dict[str, Served]:
    """Name -> Served for finished runs: each run's id (its tuned model) and 'base' (or '<run id>:base' when
    the runs start from different models). loader(run) gives the loaded ChatModels (the studio caches them)."""
    if not found:
        raise ServeError(msg("Name at least one finished run to serve (see `python -m engine runs`)."))
    if loader is None:
        from .chat import ChatModels as loader
    configs = {run.id: run.config() for run in found}
    one_base = len({c.model.name for c in configs.values()}) == 1
    served: dict[str, Served] = {}
    for run in found:
        if run.final_dir() is None:
            raise ServeError(msg("Run {run} has no trained model yet: let it finish first.", run=run.id))
        chat = loader(run)
        config = configs[run.id]
        generation = answer_settings(run, config)  # the answer length the run's data gave, unless set
        served[run.id] = Served(run.id, run, "tuned", chat, generation, run.id)
        base = "base" if one_base else f"{run.id}:base"
        if base not in served:
            served[base] = Served(base, run, "base", chat, generation, config.model.name)
    return served


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, models: dict[str, Served], options: ServeSettings):
        self.models, self.options = models, options
        self.gate = threading.Lock()  # one generation at a time, whichever model
        self._count_lock = threading.Lock()
        self.in_flight = 0  # generating or waiting
        self.stats = {"served": 0, "rejected": 0, "errors": 0, "completion_tokens": 0}
        self.started_at = time.time()
        self.app = build_app(self)
        self._uvicorn = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # addresses
    @property
    def port(self) -> int:
        return self._socket.getsockname()[1] if self._socket else self.options.port

    @property
    def url(self) -> str:
        host = self.options.host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/v1"

    # the queue
    def admit(self) -> bool:
        with self._count_lock:
            if self.in_flight >= 1 + self.options.max_waiting:
                self.stats["rejected"] += 1
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self._count_lock:
            self.in_flight -= 1

    def count(self, key: str, n: int = 1) -> None:
        with self._count_lock:
            self.stats[key] += n

    # running
    def bind(self) -> None:
        """Take the port now, so a busy port is a plain message before anything starts."""
        host = self.options.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), self.options.port))
        except OSError as err:
            sock.close()
            raise ServeError(msg("Cannot listen on {host} port {port} ({error}). The port may be in use: choose "
                                 "another one.", host=host, port=str(self.options.port),
                                 error=err.strerror or str(err))) from None
        sock.listen(128)
        sock.set_inheritable(True)
        self._socket = sock

    def _config(self, quiet: bool):
        import uvicorn

        return uvicorn.Config(self.app, log_level="warning" if quiet else "info", access_log=not quiet,
                              lifespan="off", timeout_graceful_shutdown=5)

    def run(self) -> None:
        """In the foreground until Ctrl-C (the CLI)."""
        import uvicorn

        if self._socket is None:
            self.bind()
        self._uvicorn = uvicorn.Server(self._config(quiet=False))
        try:
            self._uvicorn.run(sockets=[self._socket])
        finally:
            self._close()

    def start(self, timeout: float = 30) -> "Server":
        """In a background thread of this process; returns once it accepts connections."""
        import uvicorn

        if self._socket is None:
            self.bind()
        self._uvicorn = uvicorn.Server(self._config(quiet=True))
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._socket]},
                                        name=f"serve-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.time() + timeout
        while not self._uvicorn.started and self._thread.is_alive() and time.time() < deadline:
            time.sleep(0.05)
        if not self._uvicorn.started:
            self.stop()
            raise ServeError(msg("The server did not start within {seconds} s.", seconds=timeout))
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._close()

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    # answering
    def settings_for(self, served: Served, ask: Ask) -> GenerationSettings:
        gen = served.generation
        return dataclasses.replace(
            gen, max_new_tokens=ask.max_tokens or min(gen.max_new_tokens, self.options.max_tokens),
            temperature=gen.temperature if ask.temperature is None else ask.temperature,
            top_p=gen.top_p if ask.top_p is None else ask.top_p)

    def check_prompt(self, served: Served, ask: Ask, gen: GenerationSettings) -> int:
        """The prompt's length in tokens, once it is known to fit."""
        tokenizer = served.tokenizer
        try:
            text = tokenizer.apply_chat_template(ask.messages, tokenize=False, add_generation_prompt=True)
        except Exception as err:  # the template's own rule (say, roles must alternate)
            raise ApiError(400, f"The model's chat template refused these messages: {err}", "messages") from None
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        limit = self.options.max_prompt_tokens
        if n > limit:
            raise ApiError(400, f"The prompt is {n} tokens long; this server accepts at most {limit}.", "messages",
                           "context_length_exceeded")
        context = served.context
        if context and n + gen.max_new_tokens > context:
            raise ApiError(400, f"The prompt ({n} tokens) plus max_tokens ({gen.max_new_tokens}) is over the "
                                f"model's context of {context} tokens: shorten the prompt or lower max_tokens.",
                           "max_tokens", "context_length_exceeded")
        return n

    def produce(self, served: Served, ask: Ask, gen: GenerationSettings, put, cancel: threading.Event) -> None:
        """Generate in this (worker) thread, one at a time; put(kind, value) hands pieces to the request:
        ("text", str) ..., then ("done", (finish_reason, usage)) or ("error", message)."""
        usage: dict = {}
        try:
            with self.gate:
                if cancel.is_set():
                    return
                trimmer = Trimmer(ask.stop)
                pieces = served.chat.stream(ask.messages, gen, served.which, stop=ask.stop or None, usage=usage)
                try:
                    for piece in pieces:
                        text = trimmer.feed(piece)
                        if text:
                            put("text", text)
                        if trimmer.stopped or cancel.is_set():
                            break
                finally:
                    pieces.close()  # stops the generation when the answer ended early
                tail = trimmer.finish()
                if tail:
                    put("text", tail)
            reason = "length" if usage.get("hit_limit") and not trimmer.stopped else "stop"
            self.count("served")
            self.count("completion_tokens", usage.get("completion_tokens", 0))
            put("done", (reason, usage))
        except Exception as err:  # the request gets a 500 with the reason; the server goes on
            self.count("errors")
            put("error", f"Generation failed: {type(err).__name__}: {err}")
        finally:
            self.leave()


def build_app(server: Server):
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    def error(err: ApiError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status)

    def check_key(request: Request) -> None:
        key = server.options.api_key
        if not key:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
            raise ApiError(401, "Missing or wrong API key: send it as the header 'Authorization: Bearer KEY'.",
                           code="invalid_api_key")

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": int(server.started_at), "owned_by": "finetune-studio"}

    async def read_body(request: Request) -> bytes:
        limit = server.options.max_body_kb * 1024
        too_big = ApiError(413, f"The request body is over the limit of {server.options.max_body_kb} KB.",
                           code="request_too_large")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_big
        body = bytearray()
        async for part in request.stream():
            body += part
            if len(body) > limit:
                raise too_big
        return bytes(body)

    async def models(request: Request):
        try:
            check_key(request)
            return JSONResponse({"object": "list", "data": [model_card(n) for n in server.models]})
        except ApiError as err:
            return error(err)

    async def one_model(request: Request):
        try:
            check_key(request)
            name = request.path_params["name"]
            if name not in server.models:
                raise not_found(name)
            return JSONResponse(model_card(name))
        except ApiError as err:
            return error(err)

    def not_found(name: str) -> ApiError:
        return ApiError(404, f"There is no model called {json.dumps(name)[:80]} here. Served: "
                             f"{', '.join(server.models)}.", "model", "model_not_found")

    async def completions(request: Request):
        try:
            check_key(request)
            raw = await read_body(request)
            try:
                body = json.loads(raw)
            except ValueError as err:
                raise ApiError(400, f"The body is not valid JSON ({err}).") from None
            ask = parse_request(body, server.options.max_tokens)
            served = server.models.get(ask.model)
            if served is None:
                raise not_found(ask.model)
            gen = server.settings_for(served, ask)
            prompt = await run_in_threadpool(server.check_prompt, served, ask, gen)  # the loop stays free
            if not server.admit():
                raise ApiError(429, f"The server is busy: one answer is being generated and "
                                    f"{server.options.max_waiting} requests are waiting. Try again shortly.",
                               code="rate_limit_exceeded", kind="rate_limit_error")
        except ApiError as err:
            return error(err)
        except Exception as err:  # never a crash on input
            server.count("errors")
            return error(ApiError(500, f"Unexpected error: {type(err).__name__}: {err}", kind="server_error"))
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": ask.model}
        events = generate(served, ask, gen)
        if ask.stream:
            return StreamingResponse(sse(events, meta, prompt, ask.include_usage), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        parts, reason, usage = [], "stop", {}
        async for kind, value in events:
            if kind == "text":
                parts.append(value)
            elif kind == "error":
                return error(ApiError(500, value, kind="server_error"))
            else:
                reason, usage = value
        return JSONResponse({**meta, "object": "chat.completion", "choices": [{
            "index": 0, "message": {"role": "assistant", "content": "".join(parts)}, "finish_reason": reason}],
            "usage": usage_counts(prompt, usage)})

    async def generate(served: Served, ask: Ask, gen: GenerationSettings):
        """The worker thread's pieces, as they come; the worker stops if the caller goes away."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        cancel = threading.Event()

        def put(kind, value):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the event loop is gone (server stopped): nobody is listening
                cancel.set()

        threading.Thread(target=server.produce, args=(served, ask, gen, put, cancel), daemon=True,
                         name="serve-generate").start()
        try:
            while True:
                kind, value = await queue.get()
                yield kind, value
                if kind != "text":
                    return
        finally:
            cancel.set()

    async def sse(events, meta: dict, prompt: int, include_usage: bool):
        yield chunk(meta, {"role": "assistant", "content": ""})
        async for kind, value in events:
            if kind == "text":
                yield chunk(meta, {"content": value})
            elif kind == "error":
                yield f"data: {json.dumps(ApiError(500, value, kind='server_error').body())}\n\n"
                break
            else:
                reason, usage = value
                yield chunk(meta, {}, reason)
                if include_usage:
                    yield chunk(meta, None, usage=usage_counts(prompt, usage))
        yield "data: [DONE]\n\n"

    async def health(request: Request):
        return JSONResponse({"status": "ok", "models": list(server.models)})

    async def http_error(request: Request, exc: HTTPException):
        text = {404: f"Unknown path {request.url.path}: this server has GET /v1/models and POST "
                     "/v1/chat/completions.",
                405: f"{request.method} is not allowed on {request.url.path}."}.get(exc.status_code, exc.detail)
        return error(ApiError(exc.status_code, text))

    routes = [Route("/v1/models", models, methods=["GET"]), Route("/v1/models/{name:path}", one_model,
                                                                   methods=["GET"]),
              Route("/v1/chat/completions", completions, methods=["POST"]), Route("/health", health)]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


# ---------------------------------------------------------------- what callers copy

def examples(server: Server) -> dict[str, str]:
    """A Python (openai package) and a curl call of the first served model."""
    name = next(iter(server.models))
    key_py = 'os.environ["STUDIO_API_KEY"]' if server.options.api_key else '"not-needed"'
    auth = ' -H "Authorization: Bearer $STUDIO_API_KEY"' if server.options.api_key else ""
    python = (f"{'import os' + chr(10) if server.options.api_key else ''}from openai import OpenAI\n\n"
              f'client = OpenAI(base_url="{server.url}", api_key={key_py})\n'
              f"stream = client.chat.completions.create(\n"
              f'    model="{name}",\n'
              f'    messages=[{{"role": "user", "content": "Hello!"}}],\n'
              f"    stream=True,\n)\n"
              f"for chunk in stream:\n"
              f'    print(chunk.choices[0].delta.content or "", end="", flush=True)\n')
    body = json.dumps({"model": name, "messages": [{"role": "user", "content": "Hello!"}]})
    curl = (f"curl {server.url}/chat/completions{auth} \\\n"
            f"  -H \"Content-Type: application/json\" \\\n  -d '{body}'")
    return {"python": python, "curl": curl}


# ---------------------------------------------------------------- the studio's server

class Serving:
    """The studio's one API server, shared by every tab; it lives in the studio's process and ends with it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.server: Server | None = None

    def current(self) -> Server | None:
        with self._lock:
            return self.server if self.server is not None and self.server.alive else None

    def start(self, found: list[Run], options: ServeSettings, loader=None) -> Server:
        options.validate()
        with self._lock:
            if self.server is not None and self.server.alive:
                raise ServeError(msg("The API server is already running on {url}. Stop it first.",
                                     url=self.server.url))
            server = Server(load_models(found, loader), options)
            server.start()
            self.server = server
            return server

    def stop(self) -> bool:
        with self._lock:
            server, self.server = self.server, None
        if server is None:
            return False
        server.stop()
        return True


SERVING = Serving()
atexit.register(SERVING.stop)


# ---------------------------------------------------------------- python -m engine serve RUN [RUN ...]

def add_command(sub) -> None:
    """The CLI's `serve` subcommand; its flags come from ServeSettings."""
    from .i18n import t

    parser = sub.add_parser("serve", help="Serve finished runs (and their base model) as an OpenAI-compatible API "
                                          "until Ctrl-C.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="Run ids (see `runs`) or run folders.")
    for f in fields(ServeSettings):
        meta = f.metadata
        bounds = f" ({meta['min']} to {meta['max']})" if meta["min"] is not None else ""
        help_id = meta["help"]  # a msgid (N_ above)
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=type(f.default),
                            help=(t(help_id) + bounds + " " + t("Default: {value}.", value=repr(
                                f.default))).replace("%", "%%"))


def run_command(args, found: list) -> int:
    """`python -m engine serve`: serve the runs the CLI found, in the foreground."""
    import os
    import sys

    from .i18n import render, t

    options = ServeSettings(**{f.name: getattr(args, f.name) for f in fields(ServeSettings)
                               if getattr(args, f.name) is not None})
    if not options.api_key:
        options.api_key = os.environ.get("STUDIO_API_KEY", "")
    try:
        options.validate()
        print(t("Loading {count} run(s)…", count=len(found)), flush=True)
        server = Server(load_models(found), options)
        server.bind()
    except (ServeError, SettingsError) as err:
        print(t("error: {message}", message=render(err)), file=sys.stderr)
        return 2
    print(t("Serving {models} on {url} (Ctrl-C stops it). Try:", models=", ".join(server.models), url=server.url))
    print(examples(server)["curl"], flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0
