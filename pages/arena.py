import random

import pandas as pd
import streamlit as st

from engine import arena, i18n, runs
from engine.chat import ChatModels
from engine.i18n import render, t
from pages.common import config as user_config
from pages.common import explain, pick_run, setting_widget, settings_rows

st.title(t("Arena"))
presenter = st.session_state.get("arena_presenter", False)


@st.cache_resource(max_entries=2, show_spinner=False)
def chat_models(run_id: str):
    return ChatModels(runs.get_run(run_id))


@st.cache_data(max_entries=4, show_spinner=False)
def held_out(run_id: str, config_text: str) -> list[dict]:
    return arena.held_out_prompts(runs.get_run(run_id))


def set_presenter(on: bool) -> None:
    """A plain key, not the toggle's: the toggle is not drawn in presenter mode, and Streamlit forgets the state
    of widgets that a run does not draw."""
    st.session_state["arena_presenter"] = on


if presenter:  # the page alone on a screen: no sidebar, no settings, larger answers
    st.markdown("<style>[data-testid=stSidebar],[data-testid=stSidebarCollapsedControl],[data-testid=stHeader]"
                "{display:none}[data-testid=stMain] [data-testid=stText]{font-size:1.2rem}</style>",
                unsafe_allow_html=True)
    run_id, opponent = st.session_state.get("arena_run"), st.session_state.get("arena_opponent")
    try:
        run = runs.get_run(run_id) if run_id else None
    except FileNotFoundError as err:  # deleted meanwhile: show why, and the settings again
        explain(err)
        set_presenter(False)
        run = None
else:
    st.markdown(t("Two models answer the same prompt as A and B, in random order. Vote for the better answer; "
                  "the names are shown after the vote. Each vote is a preference you can train on."))
    run = pick_run()
    if run is not None:
        others = [r.id for r in runs.list_runs() if r.final_dir() is not None and r.id != run.id]
        choices = [arena.BASE, *others]
        wanted = st.session_state.get("arena_opponent")
        names = {ref: render(arena.label(run, ref)) for ref in choices}  # translated now, not when drawn
        opponent = st.selectbox(t("Against"), choices, index=choices.index(wanted) if wanted in choices else 0,
                                format_func=names.get,
                                help=t("The base model the run started from, or another finished run."))
        st.session_state["arena_run"], st.session_state["arena_opponent"] = run.id, opponent
        with st.expander(t("Answer settings")):
            for row in settings_rows("generation", skip=("eval_rows",)):
                setting_widget(user_config(), row)
        st.toggle(t("Presenter mode"), value=False, key="arena_presenter_toggle", on_change=lambda: set_presenter(
            st.session_state["arena_presenter_toggle"]), help=t("Hides the settings and the sidebar so the page can "
                                                                "be shown on a screen."))
if run is None:
    st.stop()

try:
    with st.spinner(t("Loading the models…")):
        found = arena.contenders(run, opponent, lambda r: chat_models(r.id))
except Exception as err:
    explain(err)
    st.stop()

refs = (run.id, opponent)
key = f"{run.id}|{opponent}"
current = st.session_state.setdefault("arena_duel", {})


def ask(messages: list[dict], row: int | None = None) -> None:
    with st.spinner(t("Both models are answering…")):
        current[key] = {"duel": arena.new_duel(found, messages, user_config().generation, row), "vote": None}


left, right = st.columns([3, 1])
typed = left.text_area(t("Prompt"), key=f"arena_prompt_{key}", height=100,
                       placeholder=t("Type a prompt both models will answer"))
if left.button(t("Ask both models"), icon=":material/send:", type="primary"):
    try:
        ask(arena.typed_prompt(run, typed))
    except arena.ArenaError as err:
        st.warning(render(err))
    except Exception as err:
        explain(err)
if right.button(t("Draw a held-out prompt"), icon=":material/casino:",
                help=t("A prompt from the run's held-out rows, which it never trained on.")):
    try:
        prompts = held_out(run.id, run.config_path.read_text(encoding="utf-8"))
        used = {v.get("row") for v in arena.of_matchup(arena.load_votes(run), refs)}
        fresh = [p for p in prompts if p["row"] not in used] or prompts
        if not fresh:
            st.warning(t("This run has no held-out rows: type a prompt instead."))
        else:
            pick = random.choice(fresh)
            ask(pick["messages"], pick["row"])
    except Exception as err:
        explain(err)

shown = current.get(key)
if shown:
    duel = shown["duel"]
    st.markdown(f"**{t('Prompt')}** ({arena.source(duel)})")
    st.text(arena.prompt_text(duel["prompt"]))
    columns = st.columns(2)
    for column, slot in zip(columns, "AB"):
        with column:
            title = t("Model A") if slot == "A" else t("Model B")
            if shown["vote"]:
                title += " · " + render(arena.label(run, duel["models"][slot]))
            st.subheader(title)
            st.container(border=True).text(duel["answers"][slot] or t("(empty answer)"))
    if shown["vote"] is None:
        buttons = st.columns(4)
        for column, vote in zip(buttons, arena.VOTES):
            if column.button(t(arena.VOTE_NAMES[vote]), key=f"vote_{vote}", width="stretch"):
                try:
                    arena.record_vote(run, duel, vote)
                    shown["vote"] = vote
                    st.rerun()
                except Exception as err:
                    explain(err)
    else:
        chosen = shown["vote"]
        best = arena.winner({**duel, "vote": chosen})
        st.success(t("Your vote: {vote}. A was {a}, B was {b}.", vote=t(arena.VOTE_NAMES[chosen]),
                     a=render(arena.label(run, duel["models"]["A"])), b=render(arena.label(run, duel["models"]["B"])))
                   + (" " + t("Preferred: {model}.", model=render(arena.label(run, best))) if best else ""))

records = arena.load_votes(run)
mine = arena.of_matchup(records, refs)
st.subheader(t("Tally"))
if not mine:
    st.info(t("No votes yet for these two models."))
else:
    rows = arena.tally(records, refs)
    for column, row in zip(st.columns(len(rows)), rows):
        column.metric(render(arena.label(run, row["model"])), i18n.percent(row["win_rate"]),
                      help=t("Share of the votes that picked one answer which picked this model's."))
        column.caption(t("95% interval {low} to {high}; wins {wins}, losses {losses}", low=i18n.percent(row["low"]),
                         high=i18n.percent(row["high"]), wins=row["wins"], losses=row["losses"]))
    st.caption(t("Votes: {votes}. Ties ({ties}) and both bad ({bad}) are not counted in the win rates.",
                 votes=len(mine), ties=rows[0]["ties"], bad=rows[0]["both_bad"]))
    st.dataframe(pd.DataFrame(arena.vote_rows(run, mine)), hide_index=True, width="stretch")

if presenter:
    st.button(t("Leave presenter mode"), on_click=set_presenter, args=(False,))
    st.stop()

st.subheader(t("From votes to training"))
st.markdown(t("Each vote that picked an answer is a preference pair: the prompt, the better answer (chosen) and the "
              "worse one (rejected). Ties and \"both bad\" say nothing about which is better, so they are left out."))
if st.button(t("Make preference pairs from the votes"), icon=":material/swap_vert:", disabled=not records):
    try:
        st.session_state["arena_pairs"] = arena.make_pairs(run)
    except arena.ArenaError as err:
        st.warning(render(err))
    except Exception as err:
        explain(err)
made = st.session_state.get("arena_pairs")
if made and made["path"] == str(arena.pairs_path(run)):
    st.success(render(arena.pairs_summary(made)))
    left, right = st.columns(2)
    with open(made["path"], "rb") as fh:
        left.download_button(t("Download the pairs (JSONL)"), fh, file_name=f"{run.id}-arena-pairs.jsonl",
                             mime="application/jsonl", icon=":material/download:")
    if right.button(t("Open them on the Dataset page"), icon=":material/description:",
                    help=t("Then choose a method that learns from pairs on the Model page to train on them.")):
        cfg = user_config()
        cfg.data.train_file, cfg.data.eval_file, cfg.data.shape = made["path"], "", "auto"
        st.session_state["data_source"] = "upload"  # the Dataset page keeps the file instead of a demo
        st.switch_page("pages/dataset.py")
