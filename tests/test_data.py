"""Reading data files: formats, shapes, per-row problems, whole-file errors, the split and the demo data."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from engine.data import DataError, load_data, prepare, split
from engine.settings import DataSettings

ALPACA = [
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
    {"instruction": "Name the capital of Italy.", "input": "", "output": "Rome"},
    {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
]
ALPACA_EXAMPLES = [
    {"prompt": [{"role": "user", "content": "Translate to French.\n\nGood morning"}],
     "completion": [{"role": "assistant", "content": "Bonjour"}], "row": 1},
    {"prompt": [{"role": "user", "content": "Name the capital of Italy."}],
     "completion": [{"role": "assistant", "content": "Rome"}], "row": 2},
    {"prompt": [{"role": "user", "content": "Add the numbers.\n\n2 and 3"}],
     "completion": [{"role": "assistant", "content": "5"}], "row": 3},
]


def write_delimited(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, items: list) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def write_format(path: Path, kind: str, rows: list[dict]) -> Path:
    if kind == "csv":
        return write_delimited(path, rows)
    if kind == "tsv":
        return write_delimited(path, rows, "\t")
    if kind == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    elif kind == "json_data":
        path.write_text(json.dumps({"data": rows}), encoding="utf-8")
    elif kind == "jsonl":
        write_jsonl(path, rows)
    elif kind == "parquet":
        import pandas as pd

        pd.DataFrame(rows).to_parquet(path, index=False)
    elif kind == "excel":
        import pandas as pd

        pd.DataFrame(rows).to_excel(path, index=False, engine="openpyxl")
    return path


# ---------------------------------------------------------------- file formats

@pytest.mark.parametrize("kind, file_name", [
    ("csv", "d.csv"), ("tsv", "d.tsv"), ("json", "d.json"), ("json_data", "d.json"), ("jsonl", "d.jsonl"),
    ("parquet", "d.parquet"), ("excel", "d.xlsx"),
])
def test_every_format_loads_the_same_examples(tmp_path, kind, file_name):
    data = load_data(write_format(tmp_path / file_name, kind, ALPACA))
    assert data.shape == "alpaca"
    assert data.columns == ["instruction", "input", "output"]
    assert len(data.rows) == 3
    assert data.problems == []
    assert data.examples == ALPACA_EXAMPLES
    assert data.summary() == f"{file_name}: 3 usable examples out of 3 rows."


# ---------------------------------------------------------------- shapes

def _msgs(*pairs):
    return [{"role": r, "content": c} for r, c in pairs]


SHAPE_CASES = [
    pytest.param(
        "alpaca", [{"instruction": "Say hi.", "input": "to Bob", "output": "Hi Bob"}], {},
        _msgs(("user", "Say hi.\n\nto Bob")), _msgs(("assistant", "Hi Bob")), id="alpaca-with-input"),
    pytest.param(
        "alpaca", [{"instruction": "Say hi.", "output": "Hi"}], {},
        _msgs(("user", "Say hi.")), _msgs(("assistant", "Hi")), id="alpaca-without-input-column"),
    pytest.param(
        "alpaca", [{"Instruction": "Say hi.", "Input": "", "Response": "Hi"}], {},
        _msgs(("user", "Say hi.")), _msgs(("assistant", "Hi")), id="alpaca-response-column-any-case"),
    pytest.param(
        "messages", [{"messages": _msgs(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"),
                                        ("user", "Name?"), ("assistant", "Smol"))}], {},
        _msgs(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Name?")),
        _msgs(("assistant", "Smol")), id="messages-multi-turn-with-system"),
    pytest.param(
        "sharegpt", [{"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"},
                                        {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Bye"},
                                        {"from": "gpt", "value": "Bye!"}]}], {},
        _msgs(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Bye")),
        _msgs(("assistant", "Bye!")), id="sharegpt-roles-mapped"),
    pytest.param(
        "prompt_completion", [{"prompt": "2+2?", "completion": "4"}], {},
        _msgs(("user", "2+2?")), _msgs(("assistant", "4")), id="prompt-completion"),
    pytest.param(
        "question_answer", [{"id": 7, "question": "Sky colour?", "answer": "Blue"}], {},
        _msgs(("user", "Sky colour?")), _msgs(("assistant", "Blue")), id="question-answer"),
    pytest.param(
        "question_answer", [{"question": "How many legs has a cat?", "answer": 4}], {},
        _msgs(("user", "How many legs has a cat?")), _msgs(("assistant", "4")), id="number-answer-as-text"),
    pytest.param(
        "columns", [{"ticket": "My app crashes", "team": "technical", "note": "x"}],
        {"shape": "columns", "prompt_column": "ticket", "answer_column": "team"},
        _msgs(("user", "My app crashes")), _msgs(("assistant", "technical")), id="manual-columns"),
    pytest.param(
        "prompt_completion", [{"prompt": "2+2?", "completion": "4"}], {"system_prompt": "You are a calculator."},
        _msgs(("system", "You are a calculator."), ("user", "2+2?")), _msgs(("assistant", "4")),
        id="system-prompt-prepended"),
    pytest.param(
        "messages", [{"messages": _msgs(("system", "Own system."), ("user", "Hi"), ("assistant", "Hello"))}],
        {"system_prompt": "Global system."},
        _msgs(("system", "Own system."), ("user", "Hi")), _msgs(("assistant", "Hello")),
        id="system-prompt-not-duplicated"),
]


@pytest.mark.parametrize("shape, items, options, prompt, completion", SHAPE_CASES)
def test_shape_is_detected_and_mapped(tmp_path, shape, items, options, prompt, completion):
    data = load_data(write_jsonl(tmp_path / "d.jsonl", items), **options)
    assert data.shape == shape
    assert data.problems == []
    assert data.examples == [{"prompt": prompt, "completion": completion, "row": 1}]


def test_manual_columns_from_csv(tmp_path):
    path = write_delimited(tmp_path / "t.csv", [{"ticket": "Refund please", "team": "billing"},
                                                {"ticket": "Login fails", "team": "technical"}])
    with pytest.raises(DataError, match=r"columns: ticket, team"):
        load_data(path)
    data = load_data(path, shape="columns", prompt_column="ticket", answer_column="team")
    assert [(e["prompt"][0]["content"], e["completion"][0]["content"]) for e in data.examples] == [
        ("Refund please", "billing"), ("Login fails", "technical")]


# ---------------------------------------------------------------- per-row problems

def _problems(data):
    return [(p.row, p.column, p.kind) for p in data.problems]


PROBLEM_CASES = [
    pytest.param(
        "d.csv", b"instruction,input,output\nA,,a\nB,,\nC,,c\n",
        [(2, "output", "empty answer")], [1, 3], id="empty-answer"),
    pytest.param(
        "d.csv", b"instruction,input,output\nA,,a\n  ,x,b\nC,,c\n",
        [(2, "instruction", "empty instruction")], [1, 3], id="empty-instruction"),
    pytest.param(
        "d.jsonl", b'{"instruction": "A", "output": "a"}\n{"instruction": "B"}\n{"instruction": "C", "output": "c"}\n',
        [(2, "output", "empty answer")], [1, 3], id="jsonl-row-lacks-output"),
    pytest.param(
        "d.jsonl", b'{"instruction": "A", "output": "a"}\n{"instruction": "B", "output": {"x": 1}}\n'
                   b'{"instruction": "C", "output": "c"}\n',
        [(2, "output", "wrong type")], [1, 3], id="jsonl-dict-answer"),
    pytest.param(
        "d.jsonl", b'{"messages": [{"role": "user", "content": "A"}, {"role": "assistant", "content": "a"}]}\n'
                   b'{"messages": "B then b"}\n',
        [(2, "messages", "wrong type")], [1], id="messages-not-a-list"),
    pytest.param(
        "d.csv", b"instruction,input,output\nA,,a\nB caf\xe9,,b\nC,,c\n",
        [(2, "instruction", "undecodable text")], [1, 3], id="undecodable-text"),
    pytest.param(
        "d.csv", b"instruction,input,output\nA,,a\nB,,b,extra\nC,,c\n",
        [(2, None, "wrong number of columns")], [1, 3], id="wrong-number-of-columns"),
    pytest.param(
        "d.jsonl", b'{"instruction": "A", "output": "a"}\n\n{"instruction": "B", "output": \n'
                   b'{"instruction": "C", "output": "c"}\n',
        [(3, None, "unreadable row")], [1, 4], id="invalid-json-line-numbered-by-line"),
    pytest.param(
        "d.jsonl", b'{"instruction": "A", "output": "a"}\n["B", "b"]\n',
        [(2, None, "wrong type")], [1], id="jsonl-line-not-an-object"),
    pytest.param(
        "d.jsonl", b'{"messages": [{"role": "user", "content": "A"}, {"role": "assistant", "content": "a"}]}\n'
                   b'{"messages": [{"role": "user", "content": "B"}]}\n',
        [(2, "messages", "empty answer")], [1], id="conversation-without-final-answer"),
]


@pytest.mark.parametrize("file_name, content, expected, usable_rows", PROBLEM_CASES)
def test_row_problem_is_reported_and_good_rows_stay(tmp_path, file_name, content, expected, usable_rows):
    path = tmp_path / file_name
    path.write_bytes(content)
    data = load_data(path)
    assert _problems(data) == expected
    assert [e["row"] for e in data.examples] == usable_rows
    for problem in data.problems:
        text = str(problem)
        assert text.startswith(f"row {problem.row}")
        if problem.column:
            assert f"column '{problem.column}'" in text


def test_undecodable_file_gets_a_note(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"instruction,input,output\nA,,a\nB caf\xe9,,b\n")
    data = load_data(path)
    assert any("not valid UTF-8" in note for note in data.notes)
    assert data.examples[0]["prompt"][0]["content"] == "A"


MIXED = (b"instruction,input,output\n"
         b"A,,a\n"            # 1 good
         b"B,,\n"             # 2 empty answer
         b",,c\n"             # 3 empty instruction
         b"D,,d,extra\n"      # 4 wrong number of columns
         b"E caf\xe9,,e\n"    # 5 undecodable text
         b"F,in,f\n"          # 6 good
         b",,\n")             # 7 empty instruction + empty answer


def test_counts_for_a_file_mixing_problems(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED)
    data = load_data(path)
    assert data.counts() == {"empty answer": 2, "empty instruction": 2, "wrong number of columns": 1,
                             "undecodable text": 1}
    assert _problems(data) == [(2, "output", "empty answer"), (3, "instruction", "empty instruction"),
                               (4, None, "wrong number of columns"), (5, "instruction", "undecodable text"),
                               (7, "instruction", "empty instruction"), (7, "output", "empty answer")]
    assert [e["row"] for e in data.examples] == [1, 6]
    assert data.examples[1]["prompt"][0]["content"] == "F\n\nin"
    assert "2 usable examples" in data.summary()
    assert "5 rows set aside" in data.summary()


def test_summary_counts_rows_the_reader_could_not_split(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED)
    assert "2 usable examples out of 7 rows; 5 rows set aside" in load_data(path).summary()


@pytest.mark.parametrize("file_name, content", [
    pytest.param("d.csv", b"instruction,input,output\nA,,a\nB,caf\xe9,b\n", id="undecodable-input"),
    pytest.param("d.jsonl", b'{"instruction": "A", "input": "", "output": "a"}\n'
                 b'{"instruction": "B", "input": {"k": 1}, "output": "b"}\n', id="dict-input"),
])
def test_row_with_a_bad_input_is_set_aside(tmp_path, file_name, content):
    path = tmp_path / file_name
    path.write_bytes(content)
    data = load_data(path)
    assert [(p.row, p.column) for p in data.problems] == [(2, "input")]
    assert [e["row"] for e in data.examples] == [1]


# ---------------------------------------------------------------- whole-file errors

def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("file_name, content, options, fragments", [
    pytest.param("empty.csv", b"", {}, ["is empty"], id="empty-file"),
    pytest.param("data.docx", b"instruction,output\na,b\n", {}, ["'.docx' are not supported"], id="bad-suffix"),
    pytest.param("header.csv", "instruction,input,output\n", {}, ["has no data rows"], id="header-only"),
    pytest.param("header.jsonl", "\n\n", {}, ["has no data rows"], id="jsonl-blank-lines-only"),
    pytest.param("bad.csv", "instruction,input,output\n,,a\nb,,\n", {},
                 ["none of its 2 rows can be used", "row 1", "instruction"], id="all-rows-invalid"),
    pytest.param("odd.csv", "text,label\nhello,greeting\n", {},
                 ["could not tell", "columns: text, label"], id="shape-not-detectable"),
    pytest.param("odd.csv", "text,label\nhello,greeting\n",
                 {"shape": "columns", "prompt_column": "body", "answer_column": "label"},
                 ["no column for prompt", "text, label"], id="columns-shape-missing-column"),
    pytest.param("broken.json", '[{"instruction": "a", "output": "b"', {}, ["is not valid JSON"],
                 id="invalid-json"),
])
def test_whole_file_error_names_the_file(tmp_path, file_name, content, options, fragments):
    path = _write(tmp_path / file_name, content)
    with pytest.raises(DataError) as err:
        load_data(path, **options)
    message = str(err.value)
    assert file_name in message
    for fragment in fragments:
        assert fragment in message


def test_header_only_binary_formats_raise(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(columns=["instruction", "output"])
    frame.to_parquet(tmp_path / "h.parquet", index=False)
    with pytest.raises(DataError, match=r"h\.parquet has no data rows"):
        load_data(tmp_path / "h.parquet")
    (tmp_path / "fake.xlsx").write_text("not a workbook")
    with pytest.raises(DataError, match=r"fake\.xlsx could not be read as Excel"):
        load_data(tmp_path / "fake.xlsx")


# ---------------------------------------------------------------- split and prepare

def _examples(n):
    return [{"prompt": [{"role": "user", "content": f"q{i}"}], "completion": [{"role": "assistant",
            "content": f"a{i}"}], "row": i + 1} for i in range(n)]


def test_split_is_seeded_sized_and_disjoint():
    examples = _examples(300)
    train, val = split(examples, 0.1, seed=42)
    assert (len(train), len(val)) == (270, 30)
    assert split(examples, 0.1, seed=42) == (train, val)
    assert {e["row"] for e in train}.isdisjoint({e["row"] for e in val})
    assert sorted(e["row"] for e in train + val) == list(range(1, 301))
    _, other_val = split(examples, 0.1, seed=43)
    assert {e["row"] for e in other_val} != {e["row"] for e in val}


@pytest.mark.parametrize("n, fraction, expected", [
    (300, 0.0, (300, 0)), (300, 0.5, (150, 150)), (10, 0.01, (9, 1)), (2, 0.5, (1, 1)), (1, 0.5, (1, 0)),
    (3, 0.5, (1, 2)),
])
def test_split_sizes(n, fraction, expected):
    train, val = split(_examples(n), fraction, seed=0)
    assert (len(train), len(val)) == expected


def test_prepare_uses_eval_file_as_validation(data_dir):
    settings = DataSettings(train_file=str(data_dir / "ticket_routing/train.csv"),
                            eval_file=str(data_dir / "ticket_routing/test.csv"))
    train_data, train, val, held = prepare(settings)
    assert (len(train), len(val)) == (300, 60)
    assert held is not None and held.file_name == "test.csv"
    assert val == held.examples
    assert train == train_data.examples


def test_prepare_without_eval_file_splits(data_dir):
    settings = DataSettings(train_file=str(data_dir / "ticket_routing/train.csv"), val_fraction=0.1, seed=7)
    train_data, train, val, held = prepare(settings)
    assert held is None
    assert (len(train), len(val)) == (270, 30)
    assert (train, val) == split(train_data.examples, 0.1, 7)


# ---------------------------------------------------------------- demo data

@pytest.mark.parametrize("relative, shape, n", [
    ("ticket_routing/train.csv", "alpaca", 300), ("ticket_routing/test.csv", "alpaca", 60),
    ("order_extraction/train.jsonl", "messages", 300), ("order_extraction/test.jsonl", "messages", 60),
])
def test_demo_datasets_load_cleanly(data_dir, relative, shape, n):
    data = load_data(data_dir / relative)
    assert data.shape == shape
    assert data.problems == []
    assert len(data.rows) == len(data.examples) == n
    assert all(e["completion"][0]["content"].strip() for e in data.examples)
