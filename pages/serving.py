"""The Export page's "Serve it as an API" section: start the studio's OpenAI-compatible server, see it, stop it.

One server per studio process (engine.serve.SERVING), shared by every tab; it stops with the studio.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from engine import i18n, runs, serve
from engine.i18n import render, t
from engine.settings import SettingsError
from pages.common import explain


def serve_section(run: runs.Run) -> None:
    st.subheader(t("Serve it as an API"))
    st.markdown(t("An OpenAI-compatible endpoint, so applications, notebooks and agent frameworks can call the "
                  "model as they call OpenAI: `GET /v1/models` and `POST /v1/chat/completions`, streamed or not."))
    if serve.SERVING.current() is None:
        start_form(run)
    else:
        running()


def start_form(run: runs.Run) -> None:
    finished = [r.id for r in runs.list_runs() if r.final_dir() is not None]
    chosen = st.multiselect(t("Runs to serve"), finished, default=[run.id] if run.id in finished else [],
                            help=t("Each run answers by its id; the base model it started from answers as 'base'."))
    values = {}
    with st.expander(t("Address, key and limits")):
        for f in fields(serve.ServeSettings):
            label_id, help_id = f.metadata["label"], f.metadata["help"]  # msgids (N_ in engine/serve.py)
            label, help_text = t(label_id), t(help_id)
            if isinstance(f.default, int):
                values[f.name] = st.number_input(label, f.metadata["min"], f.metadata["max"], f.default, step=1,
                                                 key=f"serve.{f.name}", help=help_text)
            else:
                values[f.name] = st.text_input(label, f.default, key=f"serve.{f.name}", help=help_text,
                                               type="password" if f.name == "api_key" else "default")
    if st.button(t("Serve"), icon=":material/play_arrow:", type="primary", disabled=not chosen):
        try:
            with st.spinner(t("Loading the models…")):
                serve.SERVING.start([runs.get_run(r) for r in chosen], serve.ServeSettings(**values))
            st.rerun()
        except (serve.ServeError, SettingsError) as err:
            st.error(render(err), icon=":material/warning:")
        except Exception as err:
            explain(err)


@st.fragment(run_every=2.0)
def running() -> None:
    server = serve.SERVING.current()
    if server is None:
        st.rerun()  # stopped from another tab
        return
    st.success(t("Serving on {url}", url=server.url), icon=":material/podcasts:")
    st.markdown(t("Models: {names}", names=", ".join(f"`{n}`" for n in server.models)))
    stats = server.stats
    cols = st.columns(4)
    num = i18n.number
    cols[0].metric(t("Requests served"), num(stats["served"], 0))
    cols[1].metric(t("Answering or waiting"), num(server.in_flight, 0))
    cols[2].metric(t("Turned away (busy)"), num(stats["rejected"], 0))
    cols[3].metric(t("Tokens generated"), num(stats["completion_tokens"], 0))
    example = serve.examples(server)
    python, curl = st.tabs(["Python (openai)", "curl"])
    python.code(example["python"], language="python")
    curl.code(example["curl"], language="bash")
    if server.options.api_key:
        st.caption(t("Callers need the API key: set STUDIO_API_KEY to it before running these."))
    if st.button(t("Stop the server"), icon=":material/stop:"):
        serve.SERVING.stop()
        st.rerun(scope="app")
