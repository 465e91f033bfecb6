import html

import pandas as pd
import streamlit as st

from engine import charts, data, i18n, jobs, methods
from engine.i18n import render, t
from pages.common import config, data_stats, explain, save_upload, tokenizer

st.title(t("1. Dataset"))
jobs.warm_up()  # the training libraries load in the background while the person gets to Start
cfg = config()

sources = {"demo": t("A demo dataset"), "upload": t("My own file")}
source = st.radio(t("Where are your examples?"), list(sources), format_func=sources.get, horizontal=True,
                  index=1 if st.session_state.get("data_source") == "upload" else 0)
if source == "demo":
    demos = data.demo_datasets()
    names = list(demos)
    current = next((n for n, d in demos.items() if d["train"] == cfg.data.train_file), names[0])
    name = st.selectbox(t("Demo dataset"), names, index=names.index(current),
                        format_func=lambda n: n.replace("_", " ").capitalize())
    description = demos[name]["description"]  # a msgid from engine/data.py
    st.caption(t(description))
    if cfg.data.train_file != demos[name]["train"]:
        cfg.data.train_file, cfg.data.eval_file = demos[name]["train"], demos[name]["test"]
        cfg.data.shape = "auto"
    st.session_state["data_source"] = "demo"
else:
    st.session_state["data_source"] = "upload"
    kinds = ["csv", "tsv", "json", "jsonl", "parquet", "xlsx"]
    up = st.file_uploader(t("Your examples (CSV, TSV, JSON, JSONL, Parquet or Excel)"), type=kinds)
    held = st.file_uploader(t("Optional: a separate file of held-out examples, only for measuring"), type=kinds)
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
    st.info(t("Choose a demo dataset or upload a file to go on."))
    st.stop()

with st.expander(t("How the file is read"), expanded=cfg.data.shape == "columns"):
    shapes = ["auto", *data.SHAPES]
    cfg.data.shape = st.selectbox(t("Layout of the rows"), shapes, index=shapes.index(cfg.data.shape),
                                  help=t("'auto' detects it from the column names."))
    if cfg.data.shape == "columns":
        try:
            columns = data.read_table(cfg.data.train_file)[0]
        except Exception as err:
            explain(err)
            st.stop()
        left, right = st.columns(2)
        pick = lambda label, value, col: col.selectbox(label, columns, index=columns.index(value)  # noqa: E731
                                                        if value in columns else 0)
        cfg.data.prompt_column = pick(t("Column with the prompt"), cfg.data.prompt_column, left)
        cfg.data.answer_column = pick(t("Column with the answer"), cfg.data.answer_column, right)
    cfg.data.system_prompt = st.text_area(t("System prompt (optional)"), cfg.data.system_prompt,
                                          help=t("An instruction put before every example, e.g. 'You route "
                                                 "tickets.'"))

try:
    train, train_rows, val_rows, s = data_stats(cfg)
except Exception as err:
    explain(err)
    st.stop()

(st.success if not train.problems else st.warning)(
    t("{summary} Layout: **{layout}**.", summary=render(train.summary()),
      layout=t(data.SHAPE_NAMES.get(train.shape, train.shape))))
for note in train.notes:
    st.info(render(note))
mismatch = methods.mismatch(cfg.method.method, train.kind)
if mismatch:
    st.info(render(mismatch))

if train.problems:
    st.subheader(t("Problems, by row"))
    st.caption(t("These rows are set aside; the others are used. Fix them in your file and upload it again to "
                 "use them too."))
    counts = ", ".join(f"{i18n.number(n, 0)} × {t(kind)}" for kind, n in train.counts().items())
    st.markdown(f"**{counts}**")
    st.dataframe(pd.DataFrame([{t("row"): p.row, t("column"): p.column or "", t("problem"): t(p.kind),
                                t("what to do"): render(p.message)} for p in train.problems]),
                 hide_index=True, width="stretch", height=240)

st.subheader(t("Preview"))
as_examples, as_file = st.tabs([t("As examples"), t("As in your file")])
preview = pd.DataFrame(data.preview_rows(train))
as_examples.dataframe(preview.rename(columns={c: t(c) for c in preview.columns}), hide_index=True, width="stretch",
                      height=260)
as_file.dataframe(pd.DataFrame([{k: (v if isinstance(v, str) else str(v)) for k, v in r.items() if k != "_unreadable"}
                                for r in train.rows[:200]]).rename(columns={"_row": t("row")}),
                  hide_index=True, width="stretch", height=260)

st.subheader(t("Before training"))
if cfg.data.eval_file:
    st.markdown(t("Held out for measuring: **{val} rows** from `{file}`; training on **{train} rows**.",
                  val=len(val_rows), file=cfg.data.eval_file.rsplit('/', 1)[-1], train=len(train_rows)))
else:
    share = st.slider(t("Share held out for validation"), 0.0, 0.5, float(cfg.data.val_fraction), 0.05,
                      help=t("These rows are never trained on; they measure whether the model learned or "
                             "memorised."))
    if share != cfg.data.val_fraction:
        cfg.data.val_fraction = share
        st.rerun()
    st.markdown(t("Training on **{train} rows**, validating on **{val} rows**.", train=len(train_rows),
                  val=len(val_rows)))

left, right = st.columns(2)
left.plotly_chart(charts.pair_lengths(s) if train.kind == data.PAIRS else charts.length_histogram(s),
                  width="stretch")
right.plotly_chart(charts.quality_bars(s), width="stretch")
if train.kind == data.PAIRS:
    cols = st.columns(4)
    cols[0].metric(t("Chosen answer is the longer one"), i18n.percent(s["chosen_longer"]),
                   help=t("Far from 50%, the model may learn to prefer long (or short) answers rather than your "
                          "preference."))
    cols[1].metric(t("Median tokens: prompt / chosen / rejected"),
                   " / ".join(i18n.number(s[k]) for k in ("prompt_median", "chosen_median", "rejected_median")))
    cols[2].metric(t("Chosen answers cut by max length"), i18n.number(s["chosen_cut"], 0))
    cols[3].metric(t("Rejected answers cut by max length"), i18n.number(s["rejected_cut"], 0))
if train.kind == data.LABELLED:
    cols = st.columns(2)
    cols[0].metric(t("Answers marked good / bad (training rows)"),
                   f"{i18n.number(s['good'], 0)} / {i18n.number(s['bad'], 0)}",
                   help=t("Far from half and half, the smaller side needs a larger weight in training."))
    cols[1].metric(t("Median tokens: good / bad answers"),
                   " / ".join(i18n.number(s[k]) for k in ("good_median", "bad_median")))
cols = st.columns(4)
num = i18n.number
cols[0].metric(t("Median tokens per row"), num(s.get("median", 0)))
cols[1].metric(t("Longest row"), num(s.get("longest", 0), 0))
cols[2].metric(t("Rows cut by max length"), num(s["rows_over_max"], 0),
               help=t("Change the max length on the Settings page."))
cols[3].metric(t("Validation rows also in training"), num(s.get("overlap", 0), 0))
for finding in data.plain_findings(s):
    st.warning(render(finding))

st.subheader(t("One example, exactly as the model sees it"))
index = st.number_input(t("Example"), 1, len(train.examples), 1, help=t("Number of the usable example to show."))
sides = data.render_sides(train, tokenizer(cfg.model.name, cfg.model.allow_pickle), train.examples[index - 1],
                          cfg.training.max_length)
for label, shown in sides:  # a pair is read twice: the prompt with the chosen answer, then with the rejected one
    if len(sides) > 1 or train.kind == data.LABELLED:
        st.markdown(f"**{t(label)}**")
    st.markdown(
        "<div style='font-family:monospace;white-space:pre-wrap;border:1px solid #ddd;padding:0.8em;"
        f"border-radius:6px'><span style='color:#777'>{html.escape(shown['prompt_text'])}</span>"
        f"<span style='background:#c7e9c0'>{html.escape(shown['answer_text'])}</span>"
        f"<span style='background:#fcbba1;text-decoration:line-through'>{html.escape(shown['cut_text'])}</span></div>",
        unsafe_allow_html=True)
st.caption(t("Grey: the prompt ({tokens} tokens), read but not learned. Green: the answer the model learns from. "
             "Red (if any): cut off by the max length.", tokens=sides[0][1]["prompt_tokens"]))
if len(sides) > 1:
    st.caption(t("A pair is read twice, with the same prompt: the model learns to make the chosen answer more "
                 "likely than the rejected one."))
st.page_link("pages/model.py", label=t("Next: choose the model"), icon=":material/arrow_forward:")
