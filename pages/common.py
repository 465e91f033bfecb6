"""What every page shares: the user's choices in session state, the job manager, settings widgets, run picking.

Only drawing and session state here; everything computed lives in engine/.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from engine import data, i18n, jobs, models, runs
from engine.paths import uploads_dir
from engine.export import ExportError
from engine.i18n import render, t
from engine.markup import answer_markdown
from engine.settings import RunConfig, SettingsError, describe, set_value

def _leave_folder_mode() -> None:
    """A first visit straight to /dataset (say) on a fresh server runs that page in Streamlit's old pages/-folder
    mode, without studio.py's navigation. Switch that mode off once and rerun through studio.py."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_folder_mode()


def _session_language() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    in_session = get_script_run_ctx(suppress_warning=True) is not None  # not in the engine's threads
    return st.session_state.get("lang") if in_session else None


i18n.follow(_session_language)

KNOWN_ERRORS = (data.DataError, models.ModelError, SettingsError, FileNotFoundError, jobs.JobBusy, ExportError)


def config() -> RunConfig:
    """The user's choices: one RunConfig kept in session state across pages (widgets are copied into it)."""
    if "config" not in st.session_state:
        st.session_state["config"] = RunConfig().apply_preset("quick")
    return st.session_state["config"]


@st.cache_resource
def manager() -> jobs.JobManager:
    """One job manager for the whole server, shared by every browser tab."""
    return jobs.MANAGER


def explain(err: Exception) -> None:
    """A message with a next step instead of a traceback."""
    if isinstance(err, KNOWN_ERRORS):
        st.error(render(err), icon=":material/warning:")
    else:
        st.error(t("Something went wrong ({kind}: {detail}). Try again; if it keeps happening, check the settings "
                   "or pick another file.", kind=type(err).__name__, detail=render(err)[:300]),
                 icon=":material/warning:")



# ---------------------------------------------------------------- data (cached by file and settings)

def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float, shape: str, prompt_column: str, answer_column: str, system_prompt: str):
    return data.load_data(path, shape, prompt_column, answer_column, system_prompt)


def load(path: str, *args):
    """data.load_data, cached by the file (and its modification time) and the settings that read it."""
    return _load(path, _mtime(path), *args)


@st.cache_resource(show_spinner=False, max_entries=2)
def _tokenizer(model_name: str, allow_pickle: bool):
    return models.load_tokenizer(models.resolve(model_name, allow_pickle))


def tokenizer(model_name: str, allow_pickle: bool):
    with st.spinner(t("Loading the model's tokenizer…")):
        return _tokenizer(model_name, allow_pickle)


def loaded_data(cfg: RunConfig):
    """(train data, train rows, validation rows) of the current choices; raises DataError with a message."""
    with st.spinner(t("Reading the file…")):
        return data.prepare(cfg.data, loader=load)[:3]


@st.cache_data(show_spinner=False, max_entries=8)
def _stats(_train, key: tuple, _tok, max_length: int, _train_rows, _val_rows):
    return data.compute_stats(_train, _tok, max_length, _train_rows, _val_rows)


def data_stats(cfg: RunConfig):
    train, train_rows, val_rows = loaded_data(cfg)
    tok = tokenizer(cfg.model.name, cfg.model.allow_pickle)
    key = (cfg.data.train_file, _mtime(cfg.data.train_file), cfg.data.eval_file, cfg.data.shape,
           cfg.data.prompt_column, cfg.data.answer_column, cfg.data.system_prompt, cfg.data.val_fraction,
           cfg.data.seed, cfg.model.name)
    with st.spinner(t("Counting tokens…")):
        return train, train_rows, val_rows, _stats(train, key, tok, cfg.training.max_length, train_rows, val_rows)


def save_upload(uploaded) -> Path:
    return data.save_upload(uploaded.name, uploaded.getvalue(), uploads_dir())


# ---------------------------------------------------------------- settings widgets from the dataclasses

def setting_widget(cfg: RunConfig, row: dict) -> None:
    """One widget for one setting, generated from its metadata; a bad value shows the engine's message."""
    key = row["key"]
    section, name = key.split(".")
    current = getattr(getattr(cfg, section), name)
    wkey = f"w.{key}"
    if wkey not in st.session_state:
        st.session_state[wkey] = current
    label, help_text = (t(text) for text in (row["label"], row["help"]))  # msgids from the settings' metadata
    if row["type"] == "list":
        return list_widget(cfg, row, label, help_text)
    if row["choices"]:
        value = st.selectbox(label, row["choices"], key=wkey, help=help_text)
    elif row["type"] == "bool":
        value = st.checkbox(label, key=wkey, help=help_text)
    elif row["type"] == "int":
        value = st.number_input(label, key=wkey, help=help_text, step=1)
    elif row["type"] == "float":
        value = st.number_input(label, key=wkey, help=help_text, format="%g",
                                step=max(abs(current) / 10, 1e-6) if current else 0.01)
    else:
        value = st.text_input(label, key=wkey, help=help_text)
    try:
        changed = set_value(cfg, key, value)
    except SettingsError as err:
        st.error(render(err))
        st.session_state.setdefault("setting_errors", set()).add(key)
    else:
        st.session_state.setdefault("setting_errors", set()).discard(key)
        for other in changed:  # a setting that changed another (steps given turn the time budget off): that
            section, name = other.split(".")  # one's widget shows the new value instead of writing its old one back
            st.session_state[f"w.{other}"] = getattr(getattr(cfg, section), name)


def list_widget(cfg: RunConfig, row: dict, label: str, help_text: str) -> None:
    """A list setting built by clicking: its items in words, each removable, and a form adding one item of a kind
    with that kind's settings (engine.fields.Items); or the whole list as YAML. Every change goes through set_value."""
    import yaml

    key, spec = row["key"], row["items"]
    section, name = key.split(".")
    current = [dict(item) for item in getattr(getattr(cfg, section), name)]
    wkey = f"w.{key}"

    def change(items) -> None:
        try:
            set_value(cfg, key, items)
        except SettingsError as err:
            st.session_state[f"{wkey}.error"] = err
        else:
            st.session_state.pop(f"{wkey}.error", None)
            reset_widgets(f"{wkey}.yaml")

    st.markdown(f"**{label}**", help=help_text)
    if spec.text:
        st.info(spec.text(current), icon=":material/rule:")
    for i, item in enumerate(current):
        left, right = st.columns([6, 1], vertical_alignment="center")
        left.markdown(f"{i + 1}. " + (spec.text([item]) if spec.text else str(item)))
        right.button(t("Remove"), key=f"{wkey}.remove.{i}", icon=":material/delete:",
                     on_click=change, args=(current[:i] + current[i + 1:],))
    with st.container(border=True):
        kind = st.selectbox(t("Add to {setting}", setting=label), list(spec.kinds),
                            format_func=lambda k: t(spec.kinds[k].label), key=f"{wkey}.kind")
        params = spec.params(kind)
        for column, param in zip(st.columns(max(len(params), 1)), params):
            pkey, plabel = f"{wkey}.{kind}.{param.name}", t(param.label)
            with column:
                if param.choices:
                    st.selectbox(plabel, param.choices, key=pkey)
                elif param.type is bool:
                    st.checkbox(plabel, value=bool(param.default), key=pkey)
                elif param.type in (int, float):
                    st.number_input(plabel, value=param.default, key=pkey, step=1 if param.type is int else 0.5)
                else:
                    st.text_input(plabel, key=pkey)

        def add() -> None:  # read at the click, from the widgets' state (a closure would hold the last run's values)
            chosen = st.session_state[f"{wkey}.kind"]
            values = {p.name: st.session_state.get(f"{wkey}.{chosen}.{p.name}") for p in spec.params(chosen)}
            change(current + [{"kind": chosen, **{k: v for k, v in values.items() if v is not None}}])

        st.button(t("Add this"), key=f"{wkey}.add", icon=":material/add:", on_click=add)
    with st.expander(t("Edit as YAML (the same list the config file and the command line take)")):
        st.text_area(label, yaml.safe_dump(current, sort_keys=False, allow_unicode=True), key=f"{wkey}.yaml",
                     label_visibility="collapsed")
        st.button(t("Apply"), key=f"{wkey}.apply", on_click=lambda: change(st.session_state[f"{wkey}.yaml"]))
    error = st.session_state.get(f"{wkey}.error")
    if error is not None:
        st.error(render(error))


def reset_widgets(prefix: str = "w.") -> None:
    """Forget widget copies so they are re-read from the config (after a preset changes many values)."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def settings_rows(section: str, skip=()) -> list[dict]:
    return [r for r in describe() if r["section"] == section and r["name"] not in skip]


def method_name(cfg: RunConfig) -> str:
    """'<method label>, LORA': what the run learns from and which weights change, as pages name it."""
    return f"{t(cfg.method_info.label)}, {cfg.method.weights.upper()}"


def settings_help(key: str) -> str:
    return t(next(r["help"] for r in describe() if r["key"] == key))


def step_states() -> dict[str, bool]:
    cfg = config()
    job = manager().current()
    return {"dataset": bool(cfg.data.train_file), "model": bool(st.session_state.get("model_chosen")),
            "settings": bool(st.session_state.get("settings_seen")), "run": job is not None}


def show_in_full(rows: list[dict], key: str) -> None:
    """One row of a results table in full: a table cell shows an answer on one line, here its line breaks and
    indentation show (code written without Markdown fences stays code)."""
    if not rows:
        return

    def name(i: int) -> str:
        first = next((str(v) for v in rows[i].values() if isinstance(v, str) and v.strip()), "")
        return f"{i + 1}. {' '.join(first.split())[:70]}"

    with st.container(border=True, key=f"in_full_{key}"):  # the key marks what is shown as data (tests)
        i = st.selectbox(t("See a row in full"), range(len(rows)), format_func=name,
                         key=f"in_full.{key}.{len(rows)}")
        for column, value in rows[i].items():
            st.markdown(f"**{answer_markdown(column)}**")
            st.markdown(answer_markdown(value if value is not None else ""))


def pick_run(label: str | None = None, finished_only: bool = True) -> runs.Run | None:
    """A select box of runs (finished ones by default), remembering the choice across pages."""
    found = [r for r in runs.list_runs() if not finished_only or r.final_dir() is not None]
    if not found:
        st.info(t("No finished run yet. Train one first."))
        st.page_link("pages/train.py", label=t("4. Train"), icon=":material/monitoring:")
        return None
    ids = [r.id for r in found]
    wanted = st.query_params.get("run") or st.session_state.get("run_id")
    chosen = st.selectbox(label or t("Run"), ids, index=ids.index(wanted) if wanted in ids else 0)
    st.session_state["run_id"] = chosen
    return runs.get_run(chosen)
