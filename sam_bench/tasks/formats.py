"""Readers for the official release file formats, with errors that name file, line and field.

* JSON lines (SuperGLUE ``*.jsonl``, NQ-open ``NQ-open.*.jsonl``): one JSON object per line.
* STS Benchmark ``sts-*.csv``: *tab*-separated, NOT csv-quoted (sentences contain bare
  quotes), columns genre, file, year, id, score, sentence1, sentence2; some lines of the
  real release carry extra trailing fields (source notes), which are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

__all__ = ["DataFormatError", "read_jsonl", "read_tab_separated", "require_field"]


class DataFormatError(ValueError):
    """A record of a data file is malformed; the message names the file, line and field."""

    def __init__(self, path: str | Path, line: int, message: str, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        where = f"{path}, line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


def require_field(record: dict, field: str, kind: type | tuple[type, ...], path, line: int):
    """Return ``record[field]``, raising DataFormatError if it is missing or of the wrong type."""
    if field not in record:
        raise DataFormatError(path, line, f"missing field (have {sorted(record)})", field)
    value = record[field]
    # bool is an int subclass; never accept it where a number/string is expected
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DataFormatError(
            path, line, f"expected {names}, got {type(value).__name__} {value!r}", field
        )
    return value


def read_jsonl(path: str | Path, validate: Callable[[dict, Path, int], dict]) -> list[dict]:
    """Read a JSON-lines file; ``validate(obj, path, line)`` returns the clean record or raises.

    Blank lines are skipped; line numbers are 1-based, as an editor shows them.
    """
    path = Path(path)
    out: list[dict] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(path, lineno, f"invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise DataFormatError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            out.append(validate(obj, path, lineno))
    return out


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
