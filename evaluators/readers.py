"""Reading predictions files and targets (docs/formats.md#predictions-file and #targets-file).

Predictions: ``.jsonl`` (one record per line), ``.json`` (a list, or ``{"meta": ..., "predictions": [...]}``),
each optionally ``.gz``. A plain ``.jsonl`` is streamed: read once front to back as the join asks for
ids, holding one line and the byte offset of each line read ahead, so memory stays flat in the number
of expressions; other containers are held.

Targets: a targets file (``.jsonl``, ``.json`` list, ``.parquet`` of unified rows) or a built dataset
folder ``OUT/data/{config}/{split}-*.parquet`` read with pyarrow (no ``datasets`` import).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from evaluators import jsonio
from evaluators.errors import InputError
from evaluators.hashing import sha256_file  # re-exported: old import location
from evaluators.jsonl import open_text, strip_gz
from evaluators.limits import MAX_RECORD_BYTES
from evaluators.records import Prediction, Target, parse_prediction, parse_target

__all__ = ["PredictionRecords", "PredictionsFile", "iter_targets", "sha256_file", "target_files"]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _lines(f, path: Path) -> Iterator[Any]:
    """The lines of ``f`` (text or binary), each at most `MAX_RECORD_BYTES` long (`InputError` beyond:
    a longer line is never held whole)."""
    lineno = 0
    while True:
        line = f.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        lineno += 1
        if len(line) > MAX_RECORD_BYTES:
            raise InputError(f"{path}:{lineno}: record longer than {MAX_RECORD_BYTES:,} characters")
        yield line


def _container(path: Path) -> str:
    name = strip_gz(path)
    for ext in (".jsonl", ".json", ".parquet"):
        if name.endswith(ext):
            return ext[1:]
    raise InputError(f"{path}: unknown file type (expected .jsonl, .json or .parquet, optionally .gz)")


def _json_records(path: Path) -> list[Any]:
    try:
        with open_text(path) as f:
            data = jsonio.loads(f.read())
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read: {_one_line(exc)}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON: {_one_line(exc)}") from None
    if isinstance(data, dict) and "predictions" in data:
        data = data["predictions"]
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of records or an object with 'predictions'")
    return data


class PredictionsFile:
    """A validated predictions file, joined by ``expr_id``.

    ``expr_id in f`` and ``f.get(expr_id)`` (the parsed `Prediction`) serve the join; ``ids`` lists every
    expr_id in file order. A plain ``.jsonl`` is read once, front to back, as far as the lookups need:
    a file in the targets' order parses each line once, when it is scored, and holds one line at a time;
    lines read ahead to find an id keep only their byte offset and are re-read when asked for. Other
    containers are parsed whole on opening. Every record is validated (structure, numbers, RLE
    well-formedness) when it is returned; duplicates are found as lines are read.
    ``check_counts=False``: see `parse_prediction`.
    """

    def __init__(self, path: str | Path, check_counts: bool = True):
        self.path = Path(path)
        self._check_counts = check_counts
        if not self.path.is_file():
            raise InputError(f"{self.path}: predictions file not found")
        self._offsets: dict[str, tuple[int, int]] | None = None  # expr_id -> (byte offset, line)
        self._records: dict[str, Prediction] | None = None
        if _container(self.path) == "jsonl" and self.path.suffix != ".gz":
            self._offsets = {}
            self._stream = open(self.path, "rb", buffering=1 << 20)  # noqa: SIM115 -- closed by close()
            self._seek = None  # a second handle for lines read ahead, opened on first need
            self._at = (0, 0)  # byte offset and number of the next unread line
            self._last: tuple[str, Any] | None = None  # (expr_id, decoded record) of the last line read
            self._sha = hashlib.sha256()  # of the bytes read front to back so far
            self._eof = False
        else:
            self._load_all()

    def _check_duplicate(self, seen: dict, expr_id: str, where: str) -> None:
        if expr_id in seen:
            raise InputError(f"{where} expr_id={expr_id!r} field='expr_id': duplicate expr_id")

    def _decode(self, line: bytes | str, where: str) -> Any:
        try:
            return jsonio.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{where}: not valid JSON: {_one_line(exc)}") from None

    def _parse_line(self, line: bytes | str, lineno: int) -> Prediction | None:
        if line.isspace():  # not strip(): that copies a long line
            return None
        where = f"{self.path}:{lineno}"
        return parse_prediction(self._decode(line, where), where, check_counts=self._check_counts)

    def _read_line(self) -> bool:
        """Read the next record line of a ``.jsonl``: note its offset, keep it as ``_last``; False at the end."""
        offset, lineno = self._at
        readline, sha_update = self._stream.readline, self._sha.update
        while True:
            line = readline(MAX_RECORD_BYTES + 1)
            if not line:
                self._eof = True
                return False
            sha_update(line)
            lineno += 1
            size = len(line)
            if size > MAX_RECORD_BYTES:
                raise InputError(f"{self.path}:{lineno}: record longer than {MAX_RECORD_BYTES:,} characters")
            self._at = (offset + size, lineno)
            if not line.isspace():  # a blank line is skipped
                break
            offset += size
        where = f"{self.path}:{lineno}"
        record = self._decode(line, where)
        expr_id = record.get("expr_id") if type(record) is dict else None
        if type(expr_id) is not str or not expr_id:
            parse_prediction(record, where)  # raises the precise error
        offsets = self._offsets
        if expr_id in offsets:
            self._check_duplicate(offsets, expr_id, where)
        offsets[expr_id] = (offset, lineno)
        self._last = (expr_id, record)
        return True

    def _read_to_end(self) -> None:
        while self._read_line():
            pass

    def _load_all(self) -> None:
        records: dict[str, Prediction] = {}
        if _container(self.path) == "jsonl":
            with open_text(self.path) as f:
                try:
                    for lineno, line in enumerate(_lines(f, self.path), 1):
                        pred = self._parse_line(line, lineno)
                        if pred is not None:
                            self._check_duplicate(records, pred.expr_id, pred.where)
                            records[pred.expr_id] = pred
                except (OSError, EOFError, zlib.error) as exc:
                    raise InputError(f"{self.path}: cannot read: {_one_line(exc)}") from None
                except UnicodeDecodeError as exc:
                    raise InputError(f"{self.path}: not valid UTF-8 text: {_one_line(exc)}") from None
        elif _container(self.path) == "json":
            for index, record in enumerate(_json_records(self.path)):
                pred = parse_prediction(record, f"{self.path}:[{index}]", check_counts=self._check_counts)
                self._check_duplicate(records, pred.expr_id, pred.where)
                records[pred.expr_id] = pred
        else:
            raise InputError(f"{self.path}: predictions must be .jsonl or .json (optionally .gz)")
        self._records = records

    @property
    def ids(self) -> list[str]:
        if self._records is not None:
            return list(self._records)
        self._read_to_end()
        return list(self._offsets)

    def __len__(self) -> int:
        if self._records is not None:
            return len(self._records)
        self._read_to_end()
        return len(self._offsets)

    def __contains__(self, expr_id: str) -> bool:
        if self._records is not None:
            return expr_id in self._records
        while expr_id not in self._offsets:
            if not self._read_line():
                return False
        return True

    def take(self, expr_id: str) -> Prediction | None:
        """``get(expr_id)`` if the file has that record, else ``None`` (the join's one call per target)."""
        if self._records is not None:
            return self._records.get(expr_id)
        offsets = self._offsets
        while expr_id not in offsets:  # read ahead to it
            if not self._read_line():
                return None
        last = self._last
        if last is not None and last[0] == expr_id:  # the join's common case: files in the same order
            self._last = None
            return parse_prediction(
                last[1], f"{self.path}:{offsets[expr_id][1]}", check_counts=self._check_counts
            )
        return self.get(expr_id)

    def get(self, expr_id: str) -> Prediction:
        if self._records is not None:
            return self._records[expr_id]
        if expr_id not in self:
            raise KeyError(expr_id)
        offset, lineno = self._offsets[expr_id]
        where = f"{self.path}:{lineno}"
        if self._last is not None and self._last[0] == expr_id:
            record = self._last[1]
            self._last = None
        else:
            if self._seek is None:
                self._seek = open(self.path, "rb")  # noqa: SIM115 -- closed by close()
            self._seek.seek(offset)
            record = self._decode(self._seek.readline(MAX_RECORD_BYTES + 1), where)
        return parse_prediction(record, where, check_counts=self._check_counts)

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of the file, from the bytes read, once a streamed ``.jsonl`` was read to its end
        (``ids`` or ``len`` do that); else ``None`` (`evaluators.hashing.sha256_file` reads it again)."""
        if self._offsets is None or not self._eof:
            return None
        return self._sha.hexdigest()

    def close(self) -> None:
        if self._offsets is not None:
            self._stream.close()
            if self._seek is not None:
                self._seek.close()

    def __enter__(self) -> PredictionsFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class PredictionRecords(PredictionsFile):
    """In-memory predictions (decoded records), with the interface of `PredictionsFile`."""

    def __init__(self, records: Iterable[Any], name: str = "predictions"):
        self.path = Path(name)
        self._offsets = None
        self._records = {}
        for index, record in enumerate(records):
            pred = record if isinstance(record, Prediction) else parse_prediction(record, f"{name}:[{index}]")
            self._check_duplicate(self._records, pred.expr_id, pred.where)
            self._records[pred.expr_id] = pred


def target_files(targets: str | Path, config: str | None = None, split: str | None = None) -> list[Path]:
    """The files holding the targets: the file itself, or a built dataset's Parquet shards."""
    path = Path(targets)
    if path.is_dir():
        if not config or not split:
            raise InputError(f"{path}: a built dataset folder needs --config and --split")
        folder = path / "data" / config
        shards = sorted(folder.glob(f"{split}-*.parquet"))
        if not shards:
            configs = sorted(p.name for p in (path / "data").glob("*")) if (path / "data").is_dir() else []
            raise InputError(
                f"{path}: no Parquet shards for config {config!r} split {split!r} "
                f"(configs present: {', '.join(configs) or 'none'})"
            )
        return shards
    if not path.is_file():
        raise InputError(f"{path}: targets not found")
    _container(path)
    return [path]


_TARGET_COLUMNS = ("expr_id", "height", "width", "no_target", "target_type", "targets", "mask", "ref_id")


def _iter_parquet_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{path}: cannot read Parquet: {exc}") from None
    names = set(pf.schema_arrow.names)
    missing = {"expr_id", "height", "width", "no_target", "mask"} - names
    if missing:
        raise InputError(f"{path}: Parquet targets lack the column(s) {', '.join(sorted(missing))}")
    columns = [c for c in _TARGET_COLUMNS if c in names]
    index = 0
    batches = pf.iter_batches(batch_size=1024, columns=columns)
    while True:
        try:
            batch = next(batches, None)
            rows = [] if batch is None else batch.to_pylist()
        except Exception as exc:  # corrupt pages: pyarrow raises several types
            raise InputError(f"{path}:[{index}]: cannot read Parquet: {_one_line(exc)}") from None
        if batch is None:
            return
        for row in rows:
            yield f"{path}:[{index}]", row
            index += 1


def _iter_rows(path: Path, make: Callable[[Any, str], Any] | None = None) -> Iterator[Any]:
    """``(where, row)`` per row of a targets file, or ``make(row, where)`` when given (one generator, not
    two, on the per-expression path)."""
    kind = _container(path)
    if make is None:
        make = _where_row
    if kind == "parquet":
        for where, row in _iter_parquet_rows(path):
            yield make(row, where)
    elif kind == "json":
        for index, row in enumerate(_json_records(path)):
            yield make(row, f"{path}:[{index}]")
    else:
        try:
            with open_text(path) as f:
                for lineno, line in enumerate(_lines(f, path), 1):
                    if line.isspace():
                        continue
                    try:
                        row = jsonio.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}:{lineno}: not valid JSON: {_one_line(exc)}") from None
                    yield make(row, f"{path}:{lineno}")
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: cannot read: {_one_line(exc)}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not valid UTF-8 text: {_one_line(exc)}") from None


def _where_row(row: Any, where: str) -> tuple[str, Any]:
    return where, row


def iter_targets(
    targets: str | Path, config: str | None = None, split: str | None = None, check_counts: bool = True
) -> Iterator[Target]:
    """Stream validated `Target`s from a targets file or a built dataset (config + split).

    ``check_counts=False``: see `parse_target`."""
    make = partial(parse_target, check_counts=check_counts)
    for path in target_files(targets, config, split):
        yield from _iter_rows(path, make)
