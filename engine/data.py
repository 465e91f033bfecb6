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

from .i18n import N_, Message, msg

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".parquet": "parquet", ".xlsx": "excel"}
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 1_000_000
SHAPES = ["alpaca", "messages", "sharegpt", "prompt_completion", "question_answer", "columns"]
PREFERENCE_SHAPES = ["preference", "preference_messages", "preference_hosted"]  # pairs: engine/preference.py
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "model": "assistant", "bot": "assistant", "system": "system"}
UNREADABLE = "_unreadable"  # marks a row that could not be read; it counts as a row set aside
SHAPE_NAMES = {"alpaca": N_("instruction / input / output"), "messages": N_("chat messages"),
               "sharegpt": N_("ShareGPT conversations"), "prompt_completion": N_("prompt / completion"),
               "question_answer": N_("question / answer"), "columns": N_("two columns chosen by hand")}
SUPPORTED = N_("Save it as CSV, TSV, JSON, JSONL, Parquet or Excel (.xlsx).")


class DataError(ValueError):
    """The file as a whole cannot be used; its one argument, a Message, says why and what to do."""


@dataclass
class Problem:
    row: int | None
    column: str | None
    kind: str  # a msgid ("empty answer"), shown translated
    message: Message

    def text(self) -> Message:
        if self.row and self.column:
            return msg("row {row}, column '{column}': {message}", row=self.row, column=self.column,
                       message=self.message)
        if self.row:
            return msg("row {row}: {message}", row=self.row, message=self.message)
        return self.message

    def __str__(self) -> str:
        return str(self.text())


# What was empty, as the reader's language names it (the {what} of a problem).
EMPTY = {"instruction": N_("empty instruction"), "input": N_("empty input"), "answer": N_("empty answer"),
         "prompt": N_("empty prompt"), "text": N_("empty text"),
         "chosen answer": N_("empty chosen answer"), "rejected answer": N_("empty rejected answer")}  # pairs
WHAT = [N_("instruction"), N_("input"), N_("answer"), N_("prompt"), N_("text"), N_("chosen answer"),
        N_("rejected answer")]


@dataclass
class LoadedData:
    file_name: str
    columns: list[str]
    rows: list[dict]
    shape: str
    examples: list[dict]
    problems: list[Problem] = field(default_factory=list)
    notes: list[Message] = field(default_factory=list)
    kind: str = "sft"  # "preference": examples are pairs (prompt, chosen, rejected), see engine/preference.py

    def counts(self) -> dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def summary(self) -> Message:
        bad = len({p.row for p in self.problems if p.row})
        if not bad:
            return msg("{file}: {usable} usable examples out of {rows} rows.", file=self.file_name,
                       usable=len(self.examples), rows=len(self.rows))
        return msg("{file}: {usable} usable examples out of {rows} rows; {bad} rows set aside ({kinds}).",
                   file=self.file_name, usable=len(self.examples), rows=len(self.rows), bad=bad,
                   kinds=self.kinds())

    def kinds(self) -> Message:
        """'2 × empty answer, 1 × wrong type', each kind in the reader's language (a pattern, not a msgid)."""
        counts = list(self.counts().items())
        text = ", ".join(f"{{n{i}}} × {{kind{i}}}" for i in range(len(counts)))
        return Message(text, {**{f"n{i}": n for i, (_, n) in enumerate(counts)},
                              **{f"kind{i}": msg(kind) for i, (kind, _) in enumerate(counts)}})


# ---------------------------------------------------------------- reading files

def read_table(path, name: str | None = None) -> tuple[list[str], list[dict], list[Problem], list[str]]:
    """Read any supported file into columns and row dicts. Raises DataError for an unusable file."""
    path = Path(path)
    name = name or path.name
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(msg("{file}: files ending in '{suffix}' are not supported. {what_to_do}", file=name,
                            suffix=path.suffix or "(none)", what_to_do=msg(SUPPORTED)))
    size = path.stat().st_size
    if size == 0:
        raise DataError(msg("{file} is empty. Choose a file with a header row and at least one example.",
                            file=name))
    if size > MAX_FILE_BYTES:
        raise DataError(msg("{file} is {size:.0f} MB, over the {limit} MB limit. Split it or keep the rows you "
                            "need.", file=name, size=size / 2**20, limit=MAX_FILE_BYTES // 2**20))
    if kind in ("parquet", "excel"):
        return _read_binary(path, name, kind)
    text, problems, notes = _decode(path.read_bytes(), name)
    if kind in ("csv", "tsv"):
        columns, rows, more = _read_delimited(text, name, "\t" if kind == "tsv" else ",")
    else:
        columns, rows, more, how = _read_json(text, name, kind)
        if how != kind:
            notes.append(msg("{file} ends in .{suffix} but holds one JSON array; read it as such.", file=name,
                             suffix=path.suffix.lstrip(".")) if how == "json" else
                         msg("{file} ends in .{suffix} but holds one JSON object per line; read it as such.",
                             file=name, suffix=path.suffix.lstrip(".")))
    problems += more
    if not rows:
        raise DataError(msg("{file} has no data rows. Add at least one example under the header.", file=name))
    return columns, rows, problems, notes


def _decode(raw: bytes, name: str) -> tuple[str, list[Problem], list[str]]:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), [], [msg("Read as {codec} (byte-order mark found).", codec=codec.upper())]
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8"), [], []
    except UnicodeDecodeError as err:
        if b"\x00" in raw[:4096]:
            raise DataError(msg("{file} looks like a binary file, not text. Export your data as CSV, JSONL, "
                                "Parquet or Excel and upload that.", file=name)) from None
        notes = [msg("{file} is not valid UTF-8 (first bad byte at position {position}); rows with unreadable "
                     "characters are set aside. Save the file as UTF-8 to keep them.", file=name,
                     position=err.start)]
        return raw.decode("utf-8", errors="replace"), [], notes


def _read_delimited(text: str, name: str, delimiter: str):
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems, rows = [], []
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(msg("{file} is empty. Choose a file with a header row and at least one example.",
                            file=name)) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise DataError(msg("{file}: the first line (the header) is empty. Put column names on the first line.",
                            file=name))
    row_no = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            row_no += 1
            reason = (msg("has a value longer than {limit} characters. Check for a stray quote mark, or shorten "
                          "that text.", limit=MAX_FIELD_CHARS) if "field limit" in str(err) else
                      msg("could not be read ({error}). Check for a stray quote mark, or shorten that text.",
                          error=str(err)))
            problems.append(Problem(row_no, None, N_("unreadable row"), reason))
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        if not values:
            continue
        row_no += 1
        if len(values) != len(header):
            problems.append(Problem(row_no, None, N_("wrong number of columns"),
                                    msg("has {values} values but the header has {columns} columns. Check for an "
                                        "unquoted '{delimiter}' in a text.", values=len(values),
                                        columns=len(header), delimiter=delimiter)))
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
                raise DataError(msg("{file} is not valid JSON (line {line}, column {column}: {error}). Fix it "
                                    "there, or save one JSON object per line as .jsonl.", file=name,
                                    line=err.lineno, column=err.colno, error=err.msg)) from None
    if data is not None:
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else [data]
        if not isinstance(data, list):
            raise DataError(msg("{file} holds a single {kind}; it should be a list of examples.", file=name,
                                kind=type(data).__name__))
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
                problems.append(Problem(i, None, N_("unreadable row"),
                                        msg("line {line} is not valid JSON ({error}). Each line must be one "
                                            "complete JSON object.", line=i, error=err.msg)))
                items.append((i, None))
    rows, columns = [], {}
    for row_no, item in items:
        if item is None:
            rows.append({"_row": row_no, UNREADABLE: True})
            continue
        if not isinstance(item, dict):
            problems.append(Problem(row_no, None, N_("wrong type"), msg("is a {kind}, not an object with named "
                                                                        "fields.", kind=type(item).__name__)))
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
                raise DataError(msg("{file}: every sheet is empty. Put a header row and examples on the first "
                                    "sheet.", file=name))
            sheet, frame = filled[0]
            if len(sheets) > 1:
                notes.append(msg("{file} has {sheets} sheets; using '{sheet}'. Move your examples to one sheet "
                                 "if that is not the right one.", file=name, sheets=len(sheets), sheet=sheet))
    except DataError:
        raise
    except Exception as err:  # pandas/pyarrow/openpyxl raise many types for a broken file
        what = "Parquet" if kind == "parquet" else "Excel (.xlsx)"
        raise DataError(msg("{file} could not be read as {format} ({error}). Check that it really is a {format} "
                            "file, or export it again as CSV.", file=name, format=what,
                            error=type(err).__name__)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    rows = [{"_row": i + 1, **{k: _plain(v) for k, v in rec.items()}}
            for i, rec in enumerate(frame.to_dict(orient="records"))]
    if not rows:
        raise DataError(msg("{file} has no data rows. Add at least one example under the header.", file=name))
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
                    problems.append(Problem(row["_row"], column, N_("formula without a value"),
                                            msg("holds the formula {formula} whose result is not saved in the "
                                                "file. Open the file in Excel or LibreOffice and save it, or "
                                                "paste the values instead of formulas.", formula=value[:40])))
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
            problems.append(Problem(row["_row"], column, EMPTY[what],
                                    msg("the {what} is empty. Fill it in or delete the row; the other rows can "
                                        "still be used.", what=msg(what))))
            return None
        return ""
    if isinstance(value, (int, float, bool)):
        return str(value)
    if not isinstance(value, str):
        problems.append(Problem(row["_row"], column, N_("wrong type"), msg("the {what} is a {kind}, expected text.",
                                                                           what=msg(what),
                                                                           kind=type(value).__name__)))
        return None
    if "\ufffd" in value:
        problems.append(Problem(row["_row"], column, N_("undecodable text"),
                                msg("the {what} has characters that could not be read. Save the file as UTF-8.",
                                    what=msg(what))))
        return None
    return value


def _from_turns(row: dict, column: str, problems: list, role_key: str, text_key: str, roles: dict):
    turns = row.get(column)
    if not isinstance(turns, list) or not turns:
        kind = N_("empty conversation") if not turns else N_("wrong type")
        problems.append(Problem(row["_row"], column, kind, msg("expected a list of messages (each with '{role}' "
                                                               "and '{text}').", role=role_key, text=text_key)))
        return None
    messages = []
    for i, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict) or roles.get(str(turn.get(role_key, "")).lower()) is None:
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("message {number} needs a '{role}' of {roles} and a '{text}'.", number=i,
                                        role=role_key, roles=", ".join(sorted(set(roles))), text=text_key)))
            return None
        content = _text({"_row": row["_row"], "t": turn.get(text_key)}, "t", [], "text", required=False)
        if content is None or not isinstance(turn.get(text_key), (str, int, float)):
            problems.append(Problem(row["_row"], column, N_("wrong type"),
                                    msg("message {number}'s '{text}' is not text.", number=i, text=text_key)))
            return None
        messages.append({"role": roles[str(turn[role_key]).lower()], "content": content})
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        problems.append(Problem(row["_row"], column, N_("empty answer"),
                                msg("the conversation must end with a non-empty assistant message (the answer "
                                    "to learn).")))
        return None
    if not any(m["role"] == "user" and m["content"].strip() for m in messages):
        problems.append(Problem(row["_row"], column, N_("empty prompt"),
                                msg("the conversation has no user message.")))
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
            raise DataError(msg("{file}: could not tell which column is the prompt and which the answer "
                                "(columns: {columns}). Choose the two columns by hand (shape 'columns'), or "
                                "rename them to instruction/output or prompt/completion.", file=name,
                                columns=", ".join(columns)))
    cols = required_columns(shape, columns, prompt_column, answer_column)
    missing = [role for role, col in cols.items() if col is None and role != "input"]
    if missing:
        raise DataError(msg("{file}: no column for {missing} (shape '{shape}'; the file has {columns}). Pick the "
                            "right columns or rename them.", file=name, missing=", ".join(missing), shape=shape,
                            columns=", ".join(columns)))
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
        raise DataError(msg("{file}: none of its {rows} rows can be used ({first}). Fix the rows listed and "
                            "upload the file again.", file=name, rows=len(rows), first=first_problems(problems)))
    return data


def first_problems(problems: list[Problem], count: int = 3) -> Message:
    """The first few problems as one message ("a; b; c"), each still translatable on its own."""
    first = problems[:count]
    return Message("; ".join(f"{{p{i}}}" for i in range(len(first))), {f"p{i}": p.text() for i, p in enumerate(first)})


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


# The preview table's column names (preview_rows below and preference.preview_rows), shown translated.
PREVIEW_COLUMNS = [N_("row"), N_("prompt"), N_("answer"), N_("chosen"), N_("rejected"), N_("system")]


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
    "ticket_routing": N_("Route a customer support ticket to a team and a priority, in one fixed format "
                         "(CSV, instruction/input/output, 300 rows + 60 held out)."),
    "order_extraction": N_("Turn an order written in plain words into compact JSON "
                           "(JSONL chat messages, 300 rows + 60 held out)."),
    "polite_replies": N_("Preference pairs for DPO: a shop assistant's reply that starts 'Happy to help!' and answers "
                         "in one sentence is preferred to a curt or rambling one (JSONL prompt/chosen/rejected, "
                         "300 pairs + 60 held out)."),
}


def save_upload(name: str, content: bytes, folder: Path) -> Path:
    """Store an uploaded file under the studio's uploads folder with a safe name; refuse odd types and sizes."""
    from .paths import inside, safe_name

    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""  # '.csv' alone still ends in .csv
    if suffix not in SUFFIXES:
        raise DataError(msg("{file}: files ending in '{suffix}' are not supported. {what_to_do}", file=name,
                            suffix=suffix or "(none)", what_to_do=msg(SUPPORTED)))
    if len(content) > MAX_FILE_BYTES:
        raise DataError(msg("{file} is over the {limit} MB limit. Split it or keep the rows you need.", file=name,
                            limit=MAX_FILE_BYTES // 2**20))
    path = inside(folder, safe_name(name[: len(name) - len(suffix)], fallback="upload") + suffix)
    path.write_bytes(content)
    return path
