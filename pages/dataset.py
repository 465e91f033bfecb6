import html

import pandas as pd
import streamlit as st

from engine import charts, data, preference, stats
from pages.common import config, data_stats, explain, loaded_data, save_upload, tokenizer

st.title("1. Dataset")
cfg = config()

source = st.radio("Where are your examples?", ["A demo dataset", "My own file"], horizontal=True,
                  index=1 if st.session_state.get("data_source") == "upload" else 0)
if source == "A demo dataset":
    demos = data.demo_datasets()
    names = list(demos)
    current = next((n for n, d in demos.items() if d["train"] == cfg.data.train_file), names[0])
    name = st.selectbox("Demo dataset", names, index=names.index(current),
                        format_func=lambda n: n.replace("_", " ").capitalize())
    st.caption(demos[name]["description"])
    if cfg.data.train_file != demos[name]["train"]:
        cfg.data.train_file, cfg.data.eval_file = demos[name]["train"], demos[name]["test"]
        cfg.data.shape = "auto"
    st.session_state["data_source"] = "demo"
else:
    st.session_state["data_source"] = "upload"
    kinds = ["csv", "tsv", "json", "jsonl", "parquet", "xlsx"]
    up = st.file_uploader("Your examples (CSV, TSV, JSON, JSONL, Parquet or Excel)", type=kinds)
    held = st.file_uploader("Optional: a separate file of held-out examples, only for measuring", type=kinds)
    try:
        if up is not None:
            path = str(save_upload(up))
            if cfg.data.train_file != path:
                cfg.data.train_file, cfg.data.shape = path, "auto"
        cfg.data.eval_file = str(save_upload(held)) if held is not None else ""
    except Exception as err:
        explain(err)
        st.stop()

if not cfg.data.train_file:
    st.info("Choose a demo dataset or upload a file to go on.")
    st.stop()

with st.expander("How the file is read", expanded=cfg.data.shape == "columns"):
    shapes = ["auto", *data.SHAPES]
    cfg.data.shape = st.selectbox("Layout of the rows", shapes, index=shapes.index(cfg.data.shape),
                                  help="'auto' detects it from the column names.")
    if cfg.data.shape == "columns":
        try:
            columns = data.read_table(cfg.data.train_file)[0]
        except Exception as err:
            explain(err)
            st.stop()
        left, right = st.columns(2)
        pick = lambda label, value, col: col.selectbox(label, columns, index=columns.index(value)  # noqa: E731
                                                        if value in columns else 0)
        cfg.data.prompt_column = pick("Column with the prompt", cfg.data.prompt_column, left)
        cfg.data.answer_column = pick("Column with the answer", cfg.data.answer_column, right)
    cfg.data.system_prompt = st.text_area("System prompt (optional)", cfg.data.system_prompt,
                                          help="An instruction put before every example, e.g. 'You route tickets.'")

try:
    train, train_rows, val_rows, s = data_stats(cfg)
except Exception as err:
    explain(err)
    st.stop()

shape_names = {"alpaca": "instruction / input / output", "messages": "chat messages",
               "sharegpt": "ShareGPT conversations", "prompt_completion": "prompt / completion",
               "question_answer": "question / answer", "columns": "two columns chosen by hand", **preference.SHAPE_NAMES}
(st.success if not train.problems else st.warning)(
    f"{train.summary()} Layout: **{shape_names.get(train.shape, train.shape)}**.")
for note in train.notes:
    st.info(note)
mismatch = preference.method_mismatch(cfg.method.method, train.kind)
if mismatch:
    st.info(mismatch)

if train.problems:
    st.subheader("Problems, by row")
    st.caption("These rows are set aside; the others are used. Fix them in your file and upload it again to "
               "use them too.")
    counts = ", ".join(f"{n} × {kind}" for kind, n in train.counts().items())
    st.markdown(f"**{counts}**")
    st.dataframe(pd.DataFrame([{"row": p.row, "column": p.column or "", "problem": p.kind, "what to do": p.message}
                               for p in train.problems]), hide_index=True, width="stretch", height=240)

st.subheader("Preview")
as_examples, as_file = st.tabs(["As examples", "As in your file"])
as_examples.dataframe(pd.DataFrame(data.preview_rows(train)), hide_index=True, width="stretch", height=260)
as_file.dataframe(pd.DataFrame([{k: (v if isinstance(v, str) else str(v)) for k, v in r.items() if k != "_unreadable"}
                                for r in train.rows[:200]]).rename(columns={"_row": "row"}),
                  hide_index=True, width="stretch", height=260)

st.subheader("Before training")
if cfg.data.eval_file:
    st.markdown(f"Held out for measuring: **{len(val_rows)} rows** from `{cfg.data.eval_file.rsplit('/', 1)[-1]}`; "
                f"training on **{len(train_rows)} rows**.")
else:
    share = st.slider("Share held out for validation", 0.0, 0.5, float(cfg.data.val_fraction), 0.05,
                      help="These rows are never trained on; they measure whether the model learned or memorised.")
    if share != cfg.data.val_fraction:
        cfg.data.val_fraction = share
        st.rerun()
    st.markdown(f"Training on **{len(train_rows)} rows**, validating on **{len(val_rows)} rows**.")

left, right = st.columns(2)
left.plotly_chart(charts.preference_lengths(s) if train.kind == "preference" else charts.length_histogram(s),
                  width="stretch")
right.plotly_chart(charts.quality_bars(s), width="stretch")
if train.kind == "preference":
    cols = st.columns(4)
    cols[0].metric("Chosen answer is the longer one", f"{s['chosen_longer']:.0%}",
                   help="Far from 50%, the model may learn to prefer long (or short) answers rather than your preference.")
    cols[1].metric("Median tokens: prompt / chosen / rejected",
                   f"{s['prompt_median']:g} / {s['chosen_median']:g} / {s['rejected_median']:g}")
    cols[2].metric("Chosen answers cut by max length", s["chosen_cut"])
    cols[3].metric("Rejected answers cut by max length", s["rejected_cut"])
cols = st.columns(4)
cols[0].metric("Median tokens per row", s.get("median", 0))
cols[1].metric("Longest row", s.get("longest", 0))
cols[2].metric("Rows cut by max length", s["rows_over_max"], help="Change the max length on the Settings page.")
cols[3].metric("Validation rows also in training", s.get("overlap", 0))
for finding in stats.plain_findings(s):
    st.warning(finding)

st.subheader("One example, exactly as the model sees it")
index = st.number_input("Example", 1, len(train.examples), 1, help="Number of the usable example to show.")
shown = stats.render_example(tokenizer(cfg.model.name, cfg.model.allow_pickle), train.examples[index - 1],
                             cfg.training.max_length)
st.markdown(
    "<div style='font-family:monospace;white-space:pre-wrap;border:1px solid #ddd;padding:0.8em;border-radius:6px'>"
    f"<span style='color:#777'>{html.escape(shown['prompt_text'])}</span>"
    f"<span style='background:#c7e9c0'>{html.escape(shown['answer_text'])}</span>"
    f"<span style='background:#fcbba1;text-decoration:line-through'>{html.escape(shown['cut_text'])}</span></div>",
    unsafe_allow_html=True)
st.caption(f"Grey: the prompt ({shown['prompt_tokens']} tokens), read but not learned. Green: the answer the model "
           "learns to write. Red (if any): cut off by the max length.")
st.page_link("pages/model.py", label="Next: choose the model", icon=":material/arrow_forward:")
