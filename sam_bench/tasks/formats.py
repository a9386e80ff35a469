"""Readers for the official release file formats, with errors that name file, line and field.

* JSON lines (SuperGLUE ``*.jsonl``, NQ-open ``NQ-open.*.jsonl``): one JSON object per line.
  A ``.jsonl`` path that is really a zip archive holding one ``.jsonl`` member (the AX-g file
  shipped as ``winogender_filtered.jsonl``) is read through the archive.
* One JSON document (TyDiQA SQuAD-style ``*.json``, WebQuestions, TriviaQA): a record has no
  line of its own, so errors name its JSON path (``data[3].paragraphs[0].qas[1]``) instead.
* Tab-separated files read the way tensorflow-datasets reads them (``csv`` with
  ``QUOTE_NONE``: quotes are ordinary characters), with or without a header row.
* STS Benchmark ``sts-*.csv``: *tab*-separated, NOT csv-quoted (sentences contain bare
  quotes), columns genre, file, year, id, score, sentence1, sentence2; some lines of the
  real release carry extra trailing fields (source notes), which are ignored.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

__all__ = [
    "DataFormatError",
    "read_jsonl",
    "read_json",
    "read_tab_separated",
    "read_tsv_rows",
    "require_field",
    "require_str_list",
    "check_label",
]


class DataFormatError(ValueError):
    """A record of a data file is malformed; the message names the file, line and field.

    ``line`` is the 1-based line number (as an editor shows it). For a file that is one JSON
    document, ``line`` is None and ``location`` names the record by its JSON path.
    """

    def __init__(
        self,
        path: str | Path,
        line: int | None,
        message: str,
        field: str | None = None,
        *,
        location: str | None = None,
    ):
        self.path = str(path)
        self.line = line
        self.field = field
        self.location = location
        where = f"{path}"
        if line is not None:
            where += f", line {line}"
        if location is not None:
            where += f", record {location}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


def _type_names(kind) -> str:
    return kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)


def require_field(record: dict, field: str, kind: type | tuple[type, ...], path, line, *, location=None):
    """Return ``record[field]``, raising DataFormatError if it is missing or of the wrong type."""
    if field not in record:
        raise DataFormatError(path, line, f"missing field (have {sorted(record)})", field, location=location)
    value = record[field]
    # bool is an int subclass; never accept it where a number/string is expected
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kind):
        raise DataFormatError(
            path, line, f"expected {_type_names(kind)}, got {type(value).__name__} {value!r}", field,
            location=location,
        )
    return value


def require_str_list(record: dict, field: str, path, line, *, location=None, allow_empty: bool = False) -> list[str]:
    """``record[field]`` as a list of strings (non-empty unless ``allow_empty``)."""
    values = require_field(record, field, list, path, line, location=location)
    if not values and not allow_empty:
        raise DataFormatError(path, line, "empty list", field, location=location)
    for v in values:
        if not isinstance(v, str):
            raise DataFormatError(path, line, f"expected a list of strings, found {v!r}", field, location=location)
    return list(values)


def check_label(value, label_names: Sequence[str], path, line, field: str = "label", *, location=None) -> str:
    """``value`` if it is one of ``label_names``; otherwise a DataFormatError listing the valid labels."""
    if value not in label_names:
        raise DataFormatError(
            path, line, f"label {value!r} is not one of {list(label_names)}", field, location=location
        )
    return value


# ---------------------------------------------------------------------------- JSON lines
def _jsonl_lines(path: Path) -> tuple[str, Iterator[str]]:
    """(display name, text lines) of a JSON-lines file, looking inside a one-member zip."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if m.endswith(".jsonl") and not m.startswith("__MACOSX")]
            if len(members) != 1:
                raise DataFormatError(
                    path, None, f"is a zip archive; expected exactly one .jsonl member, found {members}"
                )
            text = zf.read(members[0]).decode("utf-8")
        return f"{path}!{members[0]}", iter(io.StringIO(text))
    return str(path), open(path, encoding="utf-8")


def read_jsonl(path: str | Path, validate: Callable[[dict, Path, int], dict]) -> list[dict]:
    """Read a JSON-lines file; ``validate(obj, path, line)`` returns the clean record or raises.

    Blank lines are skipped; line numbers are 1-based, as an editor shows them.
    ``validate`` may return a list of records (one line holding several examples, e.g.
    MultiRC's answers), which are appended in order.
    """
    path = Path(path)
    name, lines = _jsonl_lines(path)
    shown = Path(name) if name != str(path) else path
    out: list[dict] = []
    try:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(shown, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataFormatError(shown, lineno, f"expected a JSON object, got {type(obj).__name__}")
            rec = validate(obj, shown, lineno)
            if isinstance(rec, list):
                out.extend(rec)
            else:
                out.append(rec)
    finally:
        close = getattr(lines, "close", None)
        if close is not None:
            close()
    return out


# ------------------------------------------------------------------------- one JSON file
def read_json(path: str | Path):
    """Parse a whole JSON document; a syntax error names the line and column."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataFormatError(path, e.lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None


# ------------------------------------------------------------------------- tab-separated
def read_tab_separated(path: str | Path, min_fields: int) -> list[tuple[int, list[str]]]:
    """Read raw tab-separated lines (no quoting rules): [(line number, fields), ...].

    Raises DataFormatError for a non-blank line with fewer than ``min_fields`` fields.
    """
    path = Path(path)
    out: list[tuple[int, list[str]]] = []
    with open(path, encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < min_fields:
                raise DataFormatError(
                    path, lineno, f"expected at least {min_fields} tab-separated fields, got {len(fields)}"
                )
            out.append((lineno, fields))
    return out


def read_tsv_rows(
    path: str | Path,
    *,
    header: bool = True,
    required: Sequence[str] = (),
    encoding: str = "utf-8",
) -> tuple[list[str] | None, list[tuple[int, dict | list]]]:
    """Rows of a tab-separated file parsed like tensorflow-datasets' GLUE builder does.

    ``csv`` with ``delimiter="\\t"`` and ``QUOTE_NONE``, the file opened in text mode with
    universal newlines (as ``epath.Path.open()`` does). With ``header`` the rows are dicts
    keyed by the header (a short row has None for its missing columns, exactly as
    ``csv.DictReader`` gives them); without, lists. Returns (header or None, [(line, row)]).
    A header lacking one of ``required`` columns is a DataFormatError.
    """
    path = Path(path)
    rows: list[tuple[int, dict | list]] = []
    with open(path, encoding=encoding) as f:
        if header:
            reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            fieldnames = list(reader.fieldnames or [])
            missing = [c for c in required if c not in fieldnames]
            if missing:
                raise DataFormatError(path, 1, f"header lacks column(s) {missing}; header is {fieldnames}")
            for row in reader:
                rows.append((reader.line_num, row))
            return fieldnames, rows
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            rows.append((reader.line_num, row))
        return None, rows
