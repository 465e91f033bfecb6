"""The OpenAI-compatible server on the tiny model, called with the official `openai` package.

The answers it gives are the engine's own (a greedy answer equals generation.generate's for the same messages, from
a model loaded on its own here); its limits answer with the right status and a message, and it still answers
after every one of them.
"""
from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from engine import models, openai_api, serve
from engine.generation import generate
from engine.settings import SettingsError

openai = pytest.importorskip("openai")

MESSAGES = [{"role": "system", "content": "You route support tickets."},
            {"role": "user", "content": "My invoice for March is wrong, please fix it."}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(server, key: str = "not-needed"):
    return openai.OpenAI(base_url=server.url, api_key=key, max_retries=0, timeout=120)


PENALTY = 1.3  # the tiny base model's greedy answer is all new lines without it (empty once trimmed)


@pytest.fixture(scope="module")
def loaded(finished_tiny_run):
    """The run's models with its generation settings, but a repetition penalty so both answer with words."""
    served = serve.load_models([finished_tiny_run])
    for entry in served.values():
        entry.generation = dataclasses.replace(entry.generation, repetition_penalty=PENALTY)
    return served


@pytest.fixture(scope="module")
def server(loaded):
    options = serve.ServeSettings(port=free_port(), max_tokens=64, max_waiting=1, max_body_kb=16,
                                  max_prompt_tokens=200).validate()
    running = serve.Server(loaded, options).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def references(finished_tiny_run):
    """Greedy answers to MESSAGES from models loaded here, apart from the server's: the base model alone, and
    the base model with the run's adapter."""
    from peft import PeftModel

    config = finished_tiny_run.config()
    settings = dataclasses.replace(config.generation, max_new_tokens=24, temperature=0.0,
                                   repetition_penalty=PENALTY)
    base, tokenizer, _ = models.load(config.model.name)
    answers = {"base": generate(base, tokenizer, [MESSAGES], settings)[0]}
    tuned = PeftModel.from_pretrained(models.load(config.model.name)[0], str(finished_tiny_run.adapter_dir))
    answers[finished_tiny_run.id] = generate(tuned, tokenizer, [MESSAGES], settings)[0]
    assert all(answers.values()), answers  # an empty answer would make the comparison below say little
    assert answers["base"] != answers[finished_tiny_run.id]  # the adapter changes the answer
    return answers


def test_models_lists_the_run_and_its_base_model(server, finished_tiny_run):
    names = [m.id for m in client(server).models.list().data]
    assert names == [finished_tiny_run.id, "base"]
    assert client(server).models.retrieve("base").id == "base"


@pytest.mark.parametrize("which", ["run", "base"])
def test_greedy_answers_streamed_or_not_equal_the_engines(server, references, finished_tiny_run, which):
    name = finished_tiny_run.id if which == "run" else "base"
    api = client(server)
    whole = api.chat.completions.create(model=name, messages=MESSAGES, max_tokens=24, temperature=0)
    assert whole.choices[0].message.content == references[name]
    assert whole.model == name and whole.object == "chat.completion"
    prompt = len(server.models[name].tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True,
                                                                   tokenize=True, return_dict=False))
    usage = whole.usage
    assert usage.prompt_tokens == prompt
    assert 1 <= usage.completion_tokens <= 24 and usage.total_tokens == prompt + usage.completion_tokens
    assert whole.choices[0].finish_reason == ("length" if usage.completion_tokens == 24 else "stop")

    chunks = list(api.chat.completions.create(model=name, messages=MESSAGES, max_tokens=24, temperature=0,
                                              stream=True, stream_options={"include_usage": True}))
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len([p for p in pieces if p]) > 1  # really streamed, in several pieces
    assert "".join(pieces) == references[name]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].usage.completion_tokens == usage.completion_tokens  # the usage chunk comes last


def test_a_stop_text_ends_the_answer_before_it(server, references, finished_tiny_run):
    reference = references[finished_tiny_run.id]
    words = reference.split()
    stop = words[len(words) // 2]
    expected = reference[:reference.find(stop)].rstrip()
    api = client(server)
    whole = api.chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=24,
                                        temperature=0, stop=[stop])
    assert whole.choices[0].message.content == expected
    assert whole.choices[0].finish_reason == "stop"
    streamed = api.chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=24,
                                           temperature=0, stop=stop, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == expected


def test_sampling_settings_are_taken(server, finished_tiny_run):
    answer = client(server).chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=5,
                                                    temperature=1.5, top_p=0.5)
    assert answer.usage.completion_tokens <= 5


def test_bad_requests_get_a_status_and_a_message_and_the_server_goes_on(server, finished_tiny_run):
    api = client(server)
    with pytest.raises(openai.APIStatusError) as big:
        api.chat.completions.create(model="base", messages=[{"role": "user", "content": "x" * 20_000}])
    assert big.value.status_code == 413 and "over the limit of 16 KB" in big.value.message
    with pytest.raises(openai.BadRequestError) as negative:
        api.chat.completions.create(model="base", messages=MESSAGES, max_tokens=-3)
    assert "'max_tokens' is -3" in negative.value.message
    with pytest.raises(openai.BadRequestError) as too_many:
        api.chat.completions.create(model="base", messages=MESSAGES, max_tokens=65)
    assert "at most 64" in too_many.value.message
    with pytest.raises(openai.NotFoundError) as unknown:
        api.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert "no model called \"gpt-4o\"" in unknown.value.message
    assert f"Served: {finished_tiny_run.id}, base." in unknown.value.message
    with pytest.raises(openai.BadRequestError) as long_prompt:
        api.chat.completions.create(model="base", messages=[{"role": "user", "content": "word " * 400}])
    assert "accepts at most 200" in long_prompt.value.message
    for body, expected in ((b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object"),
                           (json.dumps({"model": "base"}).encode(), "'messages' must be a non-empty list"),
                           (json.dumps({"model": "base", "messages": [{"role": "robot", "content": "hi"}]}).encode(),
                            "messages[0].role"),
                           (json.dumps({"model": "base", "messages": MESSAGES, "temperature": "hot"}).encode(),
                            "'temperature' must be a number"),
                           (json.dumps({"model": "base", "messages": MESSAGES, "stop": [""]}).encode(), "'stop'")):
        status, answer = post(server, body)
        assert status == 400 and expected in answer["error"]["message"], (body, answer)
    status, answer = post(server, b"{}", path="/v1/nowhere")
    assert status == 404 and "Unknown path" in answer["error"]["message"]
    ok = api.chat.completions.create(model="base", messages=MESSAGES, max_tokens=3)
    assert ok.choices[0].message.content is not None


def post(server, body: bytes, path: str = "/v1/chat/completions", headers: dict | None = None):
    url = server.url.removesuffix("/v1") + path
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_past_the_queue_bound_a_request_gets_429(server, finished_tiny_run):
    """One answer generates and max_waiting (1) waits: holding the generation gate stands for a long answer, so
    two requests are admitted and wait, and the third is turned away at once."""
    api = client(server)
    results = []

    def ask():
        results.append(api.chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=4))

    with server.gate:
        waiting = [threading.Thread(target=ask) for _ in range(2)]
        for thread in waiting:
            thread.start()
        deadline = time.time() + 30
        while server.in_flight < 2 and time.time() < deadline:
            time.sleep(0.02)
        assert server.in_flight == 2
        rejected = server.stats["rejected"]
        with pytest.raises(openai.RateLimitError) as busy:
            api.chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=4)
        assert busy.value.status_code == 429 and "server is busy" in busy.value.message
        assert server.stats["rejected"] == rejected + 1
    for thread in waiting:
        thread.join(60)
    assert len(results) == 2 and server.in_flight == 0
    assert api.chat.completions.create(model="base", messages=MESSAGES, max_tokens=3).choices


def test_with_a_key_a_wrong_or_missing_key_gets_401(loaded):
    options = serve.ServeSettings(port=free_port(), api_key="s3cret-key").validate()
    keyed = serve.Server(loaded, options).start()
    try:
        with pytest.raises(openai.AuthenticationError) as wrong:
            client(keyed, "wrong-key").models.list()
        assert wrong.value.status_code == 401 and "Authorization: Bearer" in wrong.value.message
        with pytest.raises(openai.AuthenticationError):
            client(keyed, "wrong-key").chat.completions.create(model="base", messages=MESSAGES, max_tokens=2)
        status, _ = post(keyed, json.dumps({"model": "base", "messages": MESSAGES}).encode())
        assert status == 401
        assert [m.id for m in client(keyed, "s3cret-key").models.list().data][-1] == "base"
        assert client(keyed, "s3cret-key").chat.completions.create(model="base", messages=MESSAGES,
                                                                   max_tokens=2).choices
    finally:
        keyed.stop()


def test_only_localhost_without_a_key(loaded):
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        with pytest.raises(serve.ServeError, match="API key is required"):
            serve.ServeSettings(host=host).validate()
    assert serve.ServeSettings(host="0.0.0.0", api_key="k").validate().api_key == "k"
    for host in ("localhost", "127.0.0.1", "::1", "127.0.0.2"):
        assert serve.ServeSettings(host=host).validate()
    with pytest.raises(SettingsError, match="port: 70000 is above the maximum"):
        serve.ServeSettings(port=70000).validate()
    with pytest.raises(SettingsError, match="max_waiting: 'many' is not a valid int"):
        serve.ServeSettings(max_waiting="many").validate()


def test_a_busy_port_is_a_message_not_a_traceback(loaded):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(serve.ServeError, match=f"Cannot listen on 127.0.0.1 port {port}"):
            serve.Server(loaded, serve.ServeSettings(port=port).validate()).start()


def test_the_studios_server_starts_once_and_stop_closes_the_port(finished_tiny_run, loaded):
    studio = serve.Serving()
    port = free_port()
    running = studio.start([finished_tiny_run], serve.ServeSettings(port=port),
                           loader=lambda run: loaded[run.id].chat)
    assert studio.current() is running and running.alive
    with pytest.raises(serve.ServeError, match="already running"):
        studio.start([finished_tiny_run], serve.ServeSettings(port=free_port()))
    assert client(running).models.list().data
    example = serve.examples(running)
    assert f'base_url="http://127.0.0.1:{port}/v1"' in example["python"] and "curl http://127.0.0.1" in example["curl"]
    assert studio.stop() and studio.current() is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_cli_refuses_a_network_address_without_a_key(finished_tiny_run, capsys, monkeypatch):
    from engine import cli

    monkeypatch.delenv("STUDIO_API_KEY", raising=False)
    assert cli.main(["serve", str(finished_tiny_run.path), "--host", "0.0.0.0"]) == 2
    assert "an API key is required" in capsys.readouterr().err
    assert cli.main(["serve", "no-such-run"]) == 2
    assert "There is no run called 'no-such-run'" in capsys.readouterr().err


@pytest.mark.parametrize("pieces, stop, expected", [
    (["  Hello", " wor", "ld  ", "\n"], [], "Hello world"),
    (["The answer", " is", " ##", "# done"], ["###"], "The answer is"),
    (["a#", "#b"], ["###"], "a##b"),
    (["Team: billing", "\n\nUser:", " more"], ["\nUser:"], "Team: billing"),
    (["", "   ", "x"], ["y"], "x"),
])
def test_the_trimmer_gives_what_the_engine_gives(pieces, stop, expected):
    trimmer = openai_api.Trimmer(stop)
    out = "".join(trimmer.feed(p) for p in pieces) + trimmer.finish()
    assert out == expected


def test_a_caller_that_leaves_mid_answer_frees_the_server(server, finished_tiny_run):
    api = client(server)
    stream = api.chat.completions.create(model=finished_tiny_run.id, messages=MESSAGES, max_tokens=64, stream=True)
    next(iter(stream))
    stream.close()
    deadline = time.time() + 30
    while server.in_flight and time.time() < deadline:
        time.sleep(0.05)
    assert server.in_flight == 0 and not server.gate.locked()
    assert api.chat.completions.create(model="base", messages=MESSAGES, max_tokens=3).choices


def test_the_export_page_serves_a_run_and_stops_it(finished_tiny_run):
    from streamlit.testing.v1 import AppTest

    from tests.test_arena import ROOT

    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.run()
    at.session_state["run_id"] = finished_tiny_run.id
    at.switch_page("pages/export.py")
    at.run()
    assert "Serve it as an API" in [s.value for s in at.subheader]
    port = free_port()
    next(n for n in at.number_input if n.label == "Port").set_value(port)
    next(b for b in at.button if b.label == "Serve").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    try:
        running = serve.SERVING.current()
        assert running is not None and running.port == port
        assert f"Serving on http://127.0.0.1:{port}/v1" in [s.value for s in at.success]
        assert [m.id for m in client(running).models.list().data] == [finished_tiny_run.id, "base"]
        assert client(running).chat.completions.create(model="base", messages=MESSAGES, max_tokens=2).choices
        assert any(f'base_url="http://127.0.0.1:{port}/v1"' in c.value for c in at.code)
        next(b for b in at.button if b.label == "Stop the server").click()
        at.run()
        assert serve.SERVING.current() is None and "Serve" in [b.label for b in at.button]
    finally:
        serve.SERVING.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_studios_server_ends_with_the_studios_process(finished_tiny_run):
    """The server thread never keeps the process alive: when the studio's process ends, so does the server."""
    import subprocess
    import sys

    from tests.test_arena import ROOT

    port = free_port()
    script = ("import sys, time; sys.path.insert(0, sys.argv[1]); from engine import runs, serve\n"
              "run = runs.Run(sys.argv[2])\n"
              "serve.SERVING.start([run], serve.ServeSettings(port=int(sys.argv[3])), loader=lambda r: None)\n"
              "print('up', flush=True); time.sleep(1)\n")  # then the main thread ends, as a stopped studio's does
    process = subprocess.Popen([sys.executable, "-c", script, str(ROOT), str(finished_tiny_run.path), str(port)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "up"
    socket.create_connection(("127.0.0.1", port), timeout=5).close()  # serving
    assert process.wait(30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_running_server_panel_in_french(finished_tiny_run, loaded):
    from tests.test_pages_fr import english_left, french_page, visible_texts

    serve.SERVING.start([finished_tiny_run], serve.ServeSettings(port=free_port(), api_key="k"),
                        loader=lambda run: loaded[run.id].chat)
    try:
        at = french_page("export", run_id=finished_tiny_run.id)
        texts = visible_texts(at)
        assert any(text.startswith("Servi sur http://127.0.0.1:") for text in texts), texts
        assert "Requêtes servies" in texts and "Arrêter le serveur" in texts
        assert not english_left(texts), "\n".join(english_left(texts))
    finally:
        serve.SERVING.stop()
