import streamlit as st

from engine.chat import ChatModels
from engine.generation import length_note
from engine.i18n import render, t
from engine.markup import answer_markdown
from pages.common import config as user_config
from pages.common import explain, pick_run, setting_widget, settings_rows

st.title(t("Chat"))
st.markdown(t("Talk to your fine-tuned model; the base model answers the same message beside it."))
run = pick_run()
if run is None:
    st.stop()


@st.cache_resource(max_entries=1, show_spinner=False)
def chat_models(run_id: str):
    from engine import runs

    return ChatModels(runs.get_run(run_id))


try:
    with st.spinner(t("Loading the models…")):
        pair = chat_models(run.id)
except Exception as err:
    explain(err)
    st.stop()

cfg = user_config()
with st.expander(t("Answer settings")):
    for row in settings_rows("generation", skip=("eval_rows",)):
        setting_widget(cfg, row)
    st.caption(render(length_note(cfg.generation.max_new_tokens, pair.answer_tokens)))
    system = st.text_input(t("System prompt"), run.config().data.system_prompt,
                           help=t("An instruction the model sees before the conversation; use the one it was "
                                  "trained with for the fairest comparison."))
history = st.session_state.setdefault("chat", {}).setdefault(run.id, [])
if st.button(t("Clear the conversation"), icon=":material/delete:"):
    history.clear()


def messages(which: str, new: str, earlier: list[dict]) -> list[dict]:
    turns = [{"role": "system", "content": system}] if system else []
    for turn in earlier:
        turns += [{"role": "user", "content": turn["user"]}, {"role": "assistant", "content": turn[which]}]
    return turns + [{"role": "user", "content": new}]


tuned_col, base_col = st.columns(2)
tuned_col.subheader(t("Fine-tuned"))
base_col.subheader(t("Base model"))
for turn in history:
    for col, which in ((tuned_col, "tuned"), (base_col, "base")):
        with col:
            st.chat_message("user").text(turn["user"])
            st.chat_message("assistant").markdown(answer_markdown(turn[which]))  # line breaks, indentation kept

prompt = st.chat_input(t("Type a message"))
if prompt:
    earlier = list(history)
    turn = {"user": prompt, "tuned": "", "base": ""}
    history.append(turn)  # kept as it streams: a message sent before the answers end does not lose this turn
    for col, which in ((tuned_col, "tuned"), (base_col, "base")):
        with col:
            st.chat_message("user").text(prompt)
            with st.chat_message("assistant"):
                shown, text = st.empty(), ""
                for piece in pair.stream(messages(which, prompt, earlier), cfg.generation, which):
                    text += piece
                    turn[which] = text.strip()
                    shown.markdown(answer_markdown(text))
