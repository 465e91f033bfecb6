"""Reading a data file of any supported format into columns and rows, with unreadable rows reported by row."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..i18n import N_, msg
from .rows import UNREADABLE, DataError, Problem

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".parquet": "parquet", ".xlsx": "excel"}
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_FIELD_CHARS = 1_000_000
SUPPORTED = N_("Save it as CSV, TSV, JSON, JSONL, Parquet or Excel (.xlsx).")


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


def save_upload(name: str, content: bytes, folder: Path) -> Path:
    """Store an uploaded file under the studio's uploads folder with a safe name; refuse odd types and sizes."""
    from ..paths import inside, safe_name

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
