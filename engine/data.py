"""From a data file to training examples in one chat form, with every problem reported by row.

Internal form of one example: {"prompt": [messages...], "completion": [assistant message], "row": n},
which TRL's SFTTrainer reads as a conversational prompt-completion dataset (loss on the answer only).
Rows are numbered from 1 as a spreadsheet shows data rows (the header is not counted).
"""
from __future__ import annotations

import csv
import io
import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".parquet": "parquet", ".xlsx": "excel"}
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 1_000_000
SHAPES = ["alpaca", "messages", "sharegpt", "prompt_completion", "question_answer", "columns"]
PREFERENCE_SHAPES = ["preference", "preference_messages", "preference_hosted"]  # pairs: engine/preference.py
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "model": "assistant", "bot": "assistant", "system": "system"}
UNREADABLE = "_unreadable"  # marks a row that could not be read; it counts as a row set aside


class DataError(ValueError):
    """The file as a whole cannot be used; the message says why and what to do."""


@dataclass
class Problem:
    row: int | None
    column: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (f"row {self.row}" if self.row else "", f"column '{self.column}'"
                                      if self.column else "") if x)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class LoadedData:
    file_name: str
    columns: list[str]
    rows: list[dict]
    shape: str
    examples: list[dict]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind: str = "sft"  # "preference": examples are pairs (prompt, chosen, rejected), see engine/preference.py

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def summary(self) -> str:
        bad = len({p.row for p in self.problems if p.row})
        text = (f"{self.file_name}: {len(self.examples)} usable example{'s' * (len(self.examples) != 1)} "
                f"out of {len(self.rows)} row{'s' * (len(self.rows) != 1)}")
        if bad:
            parts = ", ".join(f"{n} {kind}" for kind, n in self.counts().items())
            text += f"; {bad} row{'s' * (bad != 1)} set aside ({parts})"
        return text + "."


# ---------------------------------------------------------------- reading files

def read_table(path, name: str | None = None) -> tuple[list[str], list[dict], list[Problem], list[str]]:
    """Read any supported file into columns and row dicts. Raises DataError for an unusable file."""
    path = Path(path)
    name = name or path.name
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{name}: files ending in '{path.suffix or '(none)'}' are not supported. "
                        f"Save it as CSV, TSV, JSON, JSONL, Parquet or Excel (.xlsx).")
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"{name} is empty. Choose a file with a header row and at least one example.")
    if size > MAX_FILE_BYTES:
        raise DataError(f"{name} is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit. "
                        "Split it or keep the rows you need.")
    if kind in ("parquet", "excel"):
        return _read_binary(path, name, kind)
    text, problems, notes = _decode(path.read_bytes(), name)
    if kind in ("csv", "tsv"):
        columns, rows, more = _read_delimited(text, name, "\t" if kind == "tsv" else ",")
    else:
        columns, rows, more, how = _read_json(text, name, kind)
        if how != kind:
            notes.append(f"{name} ends in .{path.suffix.lstrip('.')} but holds "
                         f"{'one JSON array' if how == 'json' else 'one JSON object per line'}; read it as such.")
    problems += more
    if not rows:
        raise DataError(f"{name} has no data rows. Add at least one example under the header.")
    return columns, rows, problems, notes


def _decode(raw: bytes, name: str) -> tuple[str, list[Problem], list[str]]:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), [], [f"Read as {codec.upper()} (byte-order mark found)."]
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8"), [], []
    except UnicodeDecodeError as err:
        if b"\x00" in raw[:4096]:
            raise DataError(f"{name} looks like a binary file, not text. Export your data as CSV, JSONL, "
                            "Parquet or Excel and upload that.") from None
        notes = [f"{name} is not valid UTF-8 (first bad byte at position {err.start}); rows with unreadable "
                 "characters are set aside. Save the file as UTF-8 to keep them."]
        return raw.decode("utf-8", errors="replace"), [], notes


def _read_delimited(text: str, name: str, delimiter: str):
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems, rows = [], []
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{name} is empty. Choose a file with a header row and at least one example.") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError(f"{name}: the first line (the header) is empty. Put column names on the first line.")
    row_no = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            row_no += 1
            reason = (f"has a value longer than {MAX_FIELD_CHARS:,} characters" if "field limit" in str(err)
                      else f"could not be read ({err})")
            problems.append(Problem(row_no, None, "unreadable row", f"{reason}. Check for a stray quote mark, "
                                    "or shorten that text."))
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        if not values:
            continue
        row_no += 1
        if len(values) != len(header):
            problems.append(Problem(row_no, None, "wrong number of columns",
                                    f"has {len(values)} values but the header has {len(header)} columns. "
                                    f"Check for an unquoted '{delimiter}' in a text."))
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        rows.append({"_row": row_no, **dict(zip(header, values))})
    return header, rows, problems


def _read_json(text: str, name: str, kind: str):
    stripped = text.lstrip()
    data = None
    if kind == "json" or stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            if kind == "json" and "Extra data" not in err.msg:
                raise DataError(f"{name} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}). "
                                "Fix it there, or save one JSON object per line as .jsonl.") from None
    if data is not None:
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else [data]
        if not isinstance(data, list):
            raise DataError(f"{name} holds a single {type(data).__name__}; it should be a list of examples.")
        items = [(i + 1, item) for i, item in enumerate(data)]
        problems, how = [], "json"
    else:
        items, problems, how = [], [], "jsonl"
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append((i, json.loads(line)))
            except json.JSONDecodeError as err:
                problems.append(Problem(i, None, "unreadable row", f"line {i} is not valid JSON ({err.msg}). "
                                        "Each line must be one complete JSON object."))
                items.append((i, None))
    rows, columns = [], {}
    for row_no, item in items:
        if item is None:
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        if not isinstance(item, dict):
            problems.append(Problem(row_no, None, "wrong type", f"is a {type(item).__name__}, not an object "
                                    "with named fields."))
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        columns.update(dict.fromkeys(item))
        rows.append({"_row": row_no, **item})
    return list(columns), rows, problems, how


def _read_binary(path: Path, name: str, kind: str):
    import pandas as pd

    notes, sheet = [], ""
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            sheets = pd.read_excel(path, sheet_name=None, dtype=object)
            filled = [(s, f) for s, f in sheets.items() if not f.dropna(how="all").empty]
            if not filled:
                raise DataError(f"{name}: every sheet is empty. Put a header row and examples on the first sheet.")
            sheet, frame = filled[0]
            if len(sheets) > 1:
                notes.append(f"{name} has {len(sheets)} sheets; using '{sheet}'. Move your examples to one sheet "
                             "if that is not the right one.")
    except DataError:
        raise
    except Exception as err:  # pandas/pyarrow/openpyxl raise many types for a broken file
        what = "Parquet" if kind == "parquet" else "Excel (.xlsx)"
        raise DataError(f"{name} could not be read as {what} ({type(err).__name__}). Check that it really is "
                        f"a {what} file, or export it again as CSV.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = [{"_row": i + 1, **{k: _plain(v) for k, v in rec.items()}}
            for i, rec in enumerate(frame.to_dict(orient="records"))]
    if not rows:
        raise DataError(f"{name} has no data rows. Add at least one example under the header.")
    problems = _unsaved_formulas(path, sheet, rows) if kind == "excel" else []
    return list(frame.columns), rows, problems, notes


def _unsaved_formulas(path: Path, sheet: str, rows: list[dict]) -> list[Problem]:
    """Cells holding a formula whose result the file does not contain (saved by a program, not by Excel)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        cells = book[sheet].iter_rows(values_only=True)
        header = [str(c).strip() if c is not None else "" for c in next(cells, [])]
        problems = []
        for row, values in zip(rows, cells):
            for column, value in zip(header, values):
                if isinstance(value, str) and value.startswith("=") and row.get(column) is None:
                    problems.append(Problem(row["_row"], column, "formula without a value",
                                            f"holds the formula {value[:40]} whose result is not saved in the "
                                            "file. Open the file in Excel or LibreOffice and save it, or paste "
                                            "the values instead of formulas."))
                    row[UNREADABLE] = True
        return problems
    finally:
        book.close()


def _plain(value):
    """Parquet/Excel values as plain Python (numpy arrays of structs become lists of dicts)."""
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# ---------------------------------------------------------------- shapes

def detect_shape(columns: list[str]) -> str | None:
    cols = {c.lower() for c in columns}
    if "messages" in cols:
        return "messages"
    if "conversations" in cols:
        return "sharegpt"
    if "instruction" in cols and cols & {"output", "response"}:
        return "alpaca"
    if {"prompt", "completion"} <= cols:
        return "prompt_completion"
    if {"question", "answer"} <= cols:
        return "question_answer"
    return None


def _col(columns: list[str], *names: str) -> str | None:
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def required_columns(shape: str, columns: list[str], prompt_column="", answer_column="") -> dict[str, str | None]:
    if shape == "alpaca":
        return {"instruction": _col(columns, "instruction"), "input": _col(columns, "input"),
                "output": _col(columns, "output", "response")}
    if shape == "messages":
        return {"messages": _col(columns, "messages")}
    if shape == "sharegpt":
        return {"conversations": _col(columns, "conversations")}
    if shape == "prompt_completion":
        return {"prompt": _col(columns, "prompt"), "completion": _col(columns, "completion")}
    if shape == "question_answer":
        return {"question": _col(columns, "question"), "answer": _col(columns, "answer")}
    return {"prompt": prompt_column if prompt_column in columns else None,
            "answer": answer_column if answer_column in columns else None}


def _text(row: dict, column: str | None, problems: list, what: str, required=True) -> str | None:
    value = row.get(column) if column else None
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(row["_row"], column, f"empty {what}", f"the {what} is empty. Fill it in or "
                                    "delete the row; the other rows can still be used."))
            return None
        return ""
    if isinstance(value, (int, float, bool)):
        return str(value)
    if not isinstance(value, str):
        problems.append(Problem(row["_row"], column, "wrong type", f"the {what} is a {type(value).__name__}, "
                                "expected text."))
        return None
    if "\ufffd" in value:
        problems.append(Problem(row["_row"], column, "undecodable text", f"the {what} has characters that could "
                                "not be read. Save the file as UTF-8."))
        return None
    return value


def _from_turns(row: dict, column: str, problems: list, role_key: str, text_key: str, roles: dict):
    turns = row.get(column)
    if not isinstance(turns, list) or not turns:
        kind = "empty conversation" if not turns else "wrong type"
        problems.append(Problem(row["_row"], column, kind, "expected a list of messages "
                                f"(each with '{role_key}' and '{text_key}')."))
        return None
    messages = []
    for i, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or roles.get(str(turn.get(role_key, "")).lower()) is None:
            problems.append(Problem(row["_row"], column, "wrong type", f"message {i} needs a '{role_key}' of "
                                    f"{', '.join(sorted(set(roles)))} and a '{text_key}'."))
            return None
        content = _text({"_row": row["_row"], "t": turn.get(text_key)}, "t", [], "text", required=False)
        if content is None or not isinstance(turn.get(text_key), (str, int, float)):
            problems.append(Problem(row["_row"], column, "wrong type", f"message {i}'s '{text_key}' is not text."))
            return None
        messages.append({"role": roles[str(turn[role_key]).lower()], "content": content})
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        problems.append(Problem(row["_row"], column, "empty answer", "the conversation must end with a "
                                "non-empty assistant message (the answer to learn)."))
        return None
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        problems.append(Problem(row["_row"], column, "empty prompt", "the conversation has no user message."))
        return None
    return messages


def row_to_messages(row: dict, shape: str, cols: dict, problems: list) -> list[dict] | None:
    """One row as a list of chat messages ending with the assistant's answer, or None (problem recorded)."""
    if shape in ("messages", "sharegpt"):
        column = cols["messages" if shape == "messages" else "conversations"]
        if shape == "messages":
            return _from_turns(row, column, problems, "role", "content",
                               {"system": "system", "user": "user", "assistant": "assistant"})
        return _from_turns(row, column, problems, "from", "value", SHAREGPT_ROLES)
    if shape == "alpaca":
        instruction = _text(row, cols["instruction"], problems, "instruction")
        extra = _text(row, cols["input"], problems, "input", required=False) if cols["input"] else ""
        answer = _text(row, cols["output"], problems, "answer")
        if instruction is None or extra is None:
            return None
        prompt = f"{instruction}\n\n{extra}" if extra else instruction
    else:
        keys = list(cols)
        prompt = _text(row, cols[keys[0]], problems, "prompt")
        answer = _text(row, cols[keys[1]], problems, "answer")
    if prompt is None or answer is None:
        return None
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def to_example(messages: list[dict], system_prompt: str = "", row: int | None = None) -> dict:
    if system_prompt and messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system_prompt}, *messages]
    return {"prompt": messages[:-1], "completion": messages[-1:], "row": row}


# ---------------------------------------------------------------- the whole file

def load_data(path, shape: str = "auto", prompt_column: str = "", answer_column: str = "",
              system_prompt: str = "", name: str | None = None) -> LoadedData:
    """Read, detect, map and validate a file. Raises DataError only when no row at all can be used."""
    path = Path(path)
    name = name or path.name
    columns, rows, problems, notes = read_table(path, name)
    from . import preference

    pairs = preference.detect_shape(columns) if shape == "auto" else shape if shape in PREFERENCE_SHAPES else None
    if pairs:
        return preference.load(name, columns, rows, problems, notes, pairs, system_prompt)
    if shape == "auto":
        shape = detect_shape(columns)
        if shape is None:
            raise DataError(f"{name}: could not tell which column is the prompt and which the answer "
                            f"(columns: {', '.join(columns)}). Choose the two columns by hand "
                            "(shape 'columns'), or rename them to instruction/output or prompt/completion.")
    cols = required_columns(shape, columns, prompt_column, answer_column)
    missing = [role for role, col in cols.items() if col is None and role != "input"]
    if missing:
        raise DataError(f"{name}: no column for {', '.join(missing)} (shape '{shape}'; the file has "
                        f"{', '.join(columns)}). Pick the right columns or rename them.")
    examples = []
    for row in rows:
        if row.get(UNREADABLE):
            continue
        messages = row_to_messages(row, shape, cols, problems)
        if messages:
            examples.append(to_example(messages, system_prompt, row["_row"]))
    problems.sort(key=lambda p: (p.row or 0))
    data = LoadedData(name, columns, rows, shape, examples, problems, notes)
    if not examples:
        first = "; ".join(str(p) for p in problems[:3])
        raise DataError(f"{name}: none of its {len(rows) or 'data'} rows can be used ({first}). "
                        "Fix the rows listed and upload the file again.")
    return data


def split(examples: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Seeded train/validation split; at least one row on each side when there are two or more."""
    if val_fraction <= 0 or len(examples) < 2:
        return list(examples), []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_val = min(len(examples) - 1, max(1, round(len(examples) * val_fraction)))
    val = set(order[:n_val])
    return ([e for i, e in enumerate(examples) if i not in val], [e for i, e in enumerate(examples) if i in val])


def prepare(settings) -> tuple[LoadedData, list[dict], list[dict], LoadedData | None]:
    """Load the data settings' files: (train data, train examples, validation examples, eval data)."""
    train = load_data(settings.train_file, settings.shape, settings.prompt_column, settings.answer_column,
                      settings.system_prompt)
    if settings.eval_file:
        held = load_data(settings.eval_file, settings.shape, settings.prompt_column, settings.answer_column,
                         settings.system_prompt)
        return train, train.examples, held.examples, held
    train_rows, val_rows = split(train.examples, settings.val_fraction, settings.seed)
    return train, train_rows, val_rows, None


def preview_rows(data: LoadedData, limit: int = 200) -> list[dict]:
    """The usable examples as table rows, as the model will read them."""
    if data.kind == "preference":
        from .preference import preview_rows

        return preview_rows(data.examples[:limit])
    return [{"row": e["row"], "prompt": e["prompt"][-1]["content"], "answer": e["completion"][0]["content"],
             "system": next((m["content"] for m in e["prompt"] if m["role"] == "system"), "")}
            for e in data.examples[:limit]]


def to_hf(examples: list[dict]):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": e["prompt"], "completion": e["completion"]} for e in examples])


DEMOS_DIR = Path(__file__).resolve().parents[1] / "assets" / "data"


def demo_datasets() -> dict[str, dict]:
    """Bundled demo datasets: name -> {train, test, description}."""
    found = {}
    for folder in sorted(p for p in DEMOS_DIR.iterdir() if p.is_dir()) if DEMOS_DIR.exists() else []:
        train = next(iter(sorted(folder.glob("train.*"))), None)
        test = next(iter(sorted(folder.glob("test.*"))), None)
        if train:
            found[folder.name] = {"train": str(train), "test": str(test) if test else "",
                                  "description": DEMO_TEXT.get(folder.name, "")}
    return found


DEMO_TEXT = {
    "ticket_routing": "Route a customer support ticket to a team and a priority, in one fixed format "
                      "(CSV, instruction/input/output, 300 rows + 60 held out).",
    "order_extraction": "Turn an order written in plain words into compact JSON "
                        "(JSONL chat messages, 300 rows + 60 held out).",
    "polite_replies": "Preference pairs for DPO: a shop assistant's reply that starts 'Happy to help!' and answers "
                      "in one sentence is preferred to a curt or rambling one (JSONL prompt/chosen/rejected, "
                      "300 pairs + 60 held out).",
}


def save_upload(name: str, content: bytes, folder: Path) -> Path:
    """Store an uploaded file under the studio's uploads folder with a safe name; refuse odd types and sizes."""
    from .paths import inside, safe_name

    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""  # '.csv' alone still ends in .csv
    if suffix not in SUFFIXES:
        raise DataError(f"{name}: files ending in '{suffix or '(none)'}' are not supported. "
                        "Save it as CSV, TSV, JSON, JSONL, Parquet or Excel (.xlsx).")
    if len(content) > MAX_FILE_BYTES:
        raise DataError(f"{name} is over the {MAX_FILE_BYTES // 2**20} MB limit. Split it or keep the rows you need.")
    path = inside(folder, safe_name(name[: len(name) - len(suffix)], fallback="upload") + suffix)
    path.write_bytes(content)
    return path
