import streamlit as st

from engine.i18n import t
from engine.settings import PRESET_TEXT
from pages.common import config, manager, method_name, step_states

st.title(t("Fine-tuning studio"))
st.markdown(t(
    "This studio teaches a pre-trained language model **your task, from your own examples**. "
    "You give it a file of questions and the answers you want, it trains a small adapter on this machine "
    "and shows you, on examples it has never seen, whether the model now answers your way. "
    "You can then chat with it, and take it home as a file that works in any transformers program."
))

st.subheader(t("Where you are"))
done = step_states()
cfg = config()
steps = [
    ("pages/dataset.py", t("1. Dataset"), done["dataset"],
     f"`{cfg.data.train_file.rsplit('/', 1)[-1]}`" if done["dataset"] else t("Choose a demo or upload your file.")),
    ("pages/model.py", t("2. Model"), done["model"],
     t("`{model}` with {method}", model=cfg.model.name, method=method_name(cfg)) if done["model"] else
     t("The embedded SmolLM2-135M is ready; pick another if you like.")),
    ("pages/settings.py", t("3. Settings"), done["settings"],
     t("preset **{preset}**", preset=t(PRESET_TEXT[cfg.training.preset][0])) if done["settings"] else
     t("Pick a preset; the defaults work.")),
    ("pages/train.py", t("4. Train"), done["run"],
     t("A run is going: watch it live.") if done["run"] else t("Start training and watch the loss fall.")),
]
for path, label, ok, note in steps:
    left, right = st.columns([1, 3])
    left.page_link(path, label=label, icon=":material/check_circle:" if ok else ":material/radio_button_unchecked:")
    right.markdown(note)

job = manager().current()
if job:
    st.info(t("Run **{run}** is training now.", run=job.run.id))

with st.expander(t("Is fine-tuning the right tool for you?"), expanded=not done["dataset"]):
    st.markdown(t("""
**Fine-tune when** you want the model to answer in one fixed way again and again: a format (JSON, labels,
a template), a house style or tone, a narrow task such as routing or extraction. It needs a few hundred good
examples of input and the answer you want; it costs minutes on a small model on a laptop, hours on a
large model on a GPU.

**Try better prompting first when** a clear instruction and two or three examples in the prompt already get
the answers you want. It costs nothing and changes nothing permanently (the Evaluate step compares the two).

**Use retrieval instead when** the model must know facts that change or that it never saw (your documents,
prices, policies). Fine-tuning teaches *how* to answer, not reliably *what is true*: put the facts in the
prompt from a search over your documents.

**What it needs from you:** examples that look like the real inputs, answers written exactly as you want them,
and some examples kept aside to check the result honestly.
"""))
