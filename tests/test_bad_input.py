"""A corpus of bad files (tests/fixtures/bad/): each gives a plain message naming the file, row or column and
what to do; the page shows it without a traceback; no job starts; memory stays bounded."""
from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import data, jobs, runs

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "fixtures" / "bad"

# file -> (outcome, fragments that must be in the message or problem list, usable rows)
CASES = {
    "empty.csv": ("error", ["empty.csv is empty", "header row"], 0),
    "header_only.csv": ("error", ["header_only.csv has no data rows", "Add at least one example"], 0),
    "bom_utf8.csv": ("ok", ["UTF-8-SIG (byte-order mark found)"], 3),
    "utf16.csv": ("ok", ["UTF-16 (byte-order mark found)"], 3),
    "invalid_utf8.csv": ("rows", ["row 3, column 'instruction'", "undecodable text", "Save the file as UTF-8",
                                  "first bad byte at position"], 2),
    "ragged.csv": ("rows", ["row 3: has 4 values but the header has 3 columns", "row 4: has 1 values",
                            "unquoted ','"], 2),
    "array_as.jsonl": ("ok", ["ends in .jsonl but holds one JSON array"], 2),
    "jsonl_as.json": ("ok", ["ends in .json but holds one JSON object per line"], 2),
    "truncated.jsonl": ("rows", ["row 3: line 3 is not valid JSON", "one complete JSON object"], 2),
    "mixed_types.jsonl": ("rows", ["row 3, column 'answer': the answer is a dict, expected text",
                                   "row 4, column 'question': the prompt is a list"], 2),
    "renamed_binary.csv": ("error", ["renamed_binary.csv looks like a binary file", "Export your data"], 0),
    "missing_columns.csv": ("error", ["missing_columns.csv", "columns: question, reply",
                                      "Choose the two columns by hand"], 0),
    "empty_column.csv": ("error", ["none of its 2 rows can be used", "row 1, column 'output': the answer is empty"],
                         0),
    "all_invalid.jsonl": ("error", ["all_invalid.jsonl: none of its 3 rows can be used", "row 1, column 'messages'"],
                          0),
    "not_json.json": ("error", ["not_json.json is not valid JSON (line 1, column 1", "one JSON object per line"], 0),
    "unsupported.docx": ("error", ["files ending in '.docx' are not supported", "CSV, TSV, JSON"], 0),
    "nested_messages.parquet": ("ok", [], 2),
    "nested_struct.parquet": ("error", ["row 1, column 'completion': the answer is a dict, expected text"], 0),
    "renamed_csv.parquet": ("error", ["renamed_csv.parquet could not be read as Parquet", "export it again as CSV"],
                            0),
    "formulas_two_sheets.xlsx": ("rows", ["has 2 sheets; using 'Examples'", "row 1, column 'output'",
                                          "formula =1+1", "save it"], 1),
}


def test_the_corpus_has_every_kind():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(CASES)
    assert len(CASES) + 1 >= 15  # + the enormous line, written by its own test


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_bad_file_gets_a_plain_message(name):
    outcome, fragments, usable = CASES[name]
    path = BAD / name
    if outcome == "error":
        with pytest.raises(data.DataError) as caught:
            data.load_data(path)
        text = str(caught.value)
        assert text.startswith(name) or f"{name}:" in text or name in text
    else:
        loaded = data.load_data(path)
        text = "\n".join([loaded.summary(), *loaded.notes, *map(str, loaded.problems)])
        assert len(loaded.examples) == usable
        assert bool(loaded.problems) == (outcome == "rows")
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    assert "Traceback" not in text


def test_one_enormous_line_is_set_aside_with_bounded_memory(tmp_path):
    path = tmp_path / "enormous_line.csv"
    path.write_text("instruction,input,output\nSay hi,,hello\nLong," + "x" * 3_000_000 + ",answer\nOk,,fine\n")
    tracemalloc.start()
    loaded = data.load_data(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(loaded.examples) == 2
    assert str(loaded.problems[0]).startswith("row 2: has a value longer than 1,000,000 characters")
    assert peak < 40 * path.stat().st_size  # a few copies of the text, not an explosion


def test_an_oversized_upload_is_refused_before_it_is_written(tmp_path):
    with pytest.raises(data.DataError, match="over the 200 MB limit"):
        data.save_upload("big.csv", b"x" * (data.MAX_FILE_BYTES + 1), tmp_path)
    assert not list(tmp_path.iterdir())


def upload(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/dataset.py")
    at.run()
    at.radio[0].set_value("upload").run()
    at.file_uploader[0].upload(name, (BAD / name).read_bytes()).run()
    return at


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c[0] == "error" and n != "unsupported.docx"])
def test_the_page_shows_the_message_and_no_traceback(name):
    at = upload(name)
    assert not at.exception, [e.value for e in at.exception]
    assert any(CASES[name][1][0] in e.value for e in at.error), [e.value for e in at.error]


def test_no_job_starts_from_a_bad_file():
    at = upload("all_invalid.jsonl")
    before = len(runs.list_runs())
    at.switch_page("pages/train.py").run()
    at.button[0].click().run()  # Start training
    assert not at.exception
    assert any("none of its 3 rows can be used" in e.value for e in at.error)
    assert jobs.MANAGER.current() is None and len(runs.list_runs()) == before
