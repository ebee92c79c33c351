"""Reading answers: vgbench answers files, lmms-eval ``--log_samples`` files, VLMEvalKit result files.

Every reader yields `Answer`s (``expr_id``, ``text``, optional model input size and decoder boxes) and
raises `InputError` naming the file, the line or record and the field on a defect. Nothing here runs
code from the file: JSON is decoded, spreadsheets are read as cell values.

- ``jsonl`` (vgbench): one object per line (or a ``.json`` list) with ``expr_id`` and ``text``;
  optional ``input_width`` / ``input_height`` (Qwen2.5-VL: the resized input) and ``boxes`` (REF-VLM:
  ``[[x1, y1, x2, y2], ...]`` pixels from its box decoder).
- ``lmms-eval``: the ``--log_samples`` output, JSON lines (or a ``.json`` object with ``logs``) of
  samples with ``doc_id``, ``resps`` / ``filtered_resps`` and the task's metric entries; the
  expression is ``doc.expr_id`` when the task carries it, else found by the sample's ``ann_id``
  (lmms-eval's ``question_id``) and sentence (``answer``), duplicates in order.
- ``vlmevalkit``: a result file (``.xlsx``, ``.tsv``, ``.csv``, ``.json``, ``.jsonl``) with the columns
  ``index`` and ``prediction``; the expression is the ``expr_id`` column, else ``--id-template``
  (e.g. ``refcoco_unc/val/{index}``, any column name in braces).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators.errors import InputError, locate
from evaluators.jsonl import iter_json_items

__all__ = ["ANSWER_FORMATS", "Answer", "detect_format", "read_answers"]

ANSWER_FORMATS = ("auto", "jsonl", "lmms-eval", "vlmevalkit")


@dataclass(frozen=True)
class Answer:
    """One model answer to one expression."""

    expr_id: str
    text: str
    where: str
    input_width: int | None = None
    input_height: int | None = None
    boxes: tuple[tuple[float, float, float, float], ...] | None = None


def _json_items(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, decoded object) per JSON line, or per element of a ``.json`` list / ``logs`` list."""
    return iter_json_items(
        path,
        list_keys=("logs", "answers", "predictions"),
        expected="a JSON list (or an object with 'logs' / 'answers')",
    )


def _positive_int(value: Any, where: str, expr_id: str, fld: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or int(value) != value:
        raise InputError(f"{locate(where, None, expr_id, fld)}: must be a positive integer, got {value!r}")
    return int(value)


def _boxes(value: Any, where: str, expr_id: str) -> tuple[tuple[float, float, float, float], ...] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and all(
        isinstance(b, list)
        and len(b) == 4
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")
            for v in b
        )
        for b in value
    )
    if not ok:
        raise InputError(
            f"{locate(where, None, expr_id, 'boxes')}: must be a list of [x1, y1, x2, y2] numbers"
        )
    return tuple(tuple(float(v) for v in b) for b in value)


def _read_jsonl(path: Path, **_: Any) -> Iterator[Answer]:
    for where, item in _json_items(path):
        if not isinstance(item, dict):
            raise InputError(f"{where}: an answer must be a JSON object")
        expr_id = item.get("expr_id")
        if not isinstance(expr_id, str) or not expr_id:
            raise InputError(f"{locate(where, None, None, 'expr_id')}: missing or not a non-empty string")
        text = item.get("text")
        if not isinstance(text, str):
            raise InputError(f"{locate(where, None, expr_id, 'text')}: missing or not a string")
        yield Answer(
            expr_id,
            text,
            where,
            _positive_int(item.get("input_width"), where, expr_id, "input_width"),
            _positive_int(item.get("input_height"), where, expr_id, "input_height"),
            _boxes(item.get("boxes"), where, expr_id),
        )


def _first_text(value: Any) -> str | None:
    while isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else None


def _norm_sentence(text: str) -> str:
    return " ".join(str(text).lower().split())


def _lmms_key(sample: dict) -> tuple[str, str] | None:
    """(ann_id, sentence) of an lmms-eval refcoco sample: from a metric entry, else from ``doc``."""
    for value in sample.values():
        if isinstance(value, dict) and "ann_id" in value and "answer" in value:
            return str(value["ann_id"]), _norm_sentence(value["answer"])
    doc = sample.get("doc")
    if isinstance(doc, dict) and "question_id" in doc and isinstance(doc.get("answer"), str):
        return str(doc["question_id"]), _norm_sentence(doc["answer"])
    return None


def _read_lmms_eval(path: Path, rows: Callable[[], list[dict]] | None = None, **_: Any) -> Iterator[Answer]:
    index: dict[tuple[str, str], list[str]] | None = None
    for where, sample in _json_items(path):
        if not isinstance(sample, dict):
            raise InputError(f"{where}: an lmms-eval sample must be a JSON object")
        label = f"doc_id={sample.get('doc_id')!r}"
        text = _first_text(sample.get("filtered_resps"))
        if text is None:
            text = _first_text(sample.get("resps"))
        if text is None:
            raise InputError(f"{where} {label} field='resps': no text response in the sample")
        doc = sample.get("doc")
        expr_id = doc.get("expr_id") if isinstance(doc, dict) else None
        if not isinstance(expr_id, str):
            key = _lmms_key(sample)
            if key is None:
                raise InputError(
                    f"{where} {label} field='doc': no expr_id, and no metric entry with ann_id and answer to join on"
                )
            if index is None:
                index = _sentence_index(rows() if rows else [])
            queue = index.get(key)
            if not queue:
                raise InputError(
                    f"{where} {label} field='ann_id': no expression of the targets with ann_id/ref_id {key[0]} "
                    f"and sentence {key[1]!r} (or more samples than expressions with that key)"
                )
            expr_id = queue.pop(0)
        yield Answer(expr_id, text, where)


def _sentence_index(rows: list[dict]) -> dict[tuple[str, str], list[str]]:
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        sent = _norm_sentence(row.get("sentence") or "")
        ids = {str(t.get("ann_id")) for t in row.get("targets") or [] if t.get("ann_id") is not None}
        if row.get("ref_id") is not None:
            ids.add(str(row["ref_id"]))
        for i in sorted(ids):
            index[(i, sent)].append(row["expr_id"])
    return index


_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _table_rows(path: Path) -> Iterator[tuple[str, dict]]:
    name = path.name.lower()
    if name.endswith(".xlsx"):
        try:
            import openpyxl
        except ImportError:
            raise InputError(
                f"{path}: reading .xlsx needs openpyxl (pip install openpyxl), or save it as .tsv"
            ) from None
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for corrupt files
            raise InputError(f"{path}: cannot read the workbook: {exc}") from None
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = [str(h) for h in next(it, ())]
        for i, values in enumerate(it, 2):
            yield f"{path}:row {i}", dict(zip(header, values))
        book.close()
    elif name.endswith((".tsv", ".csv")):
        try:
            with open(path, encoding="utf-8", newline="") as f:
                reader = csv.DictReader(f, delimiter="\t" if name.endswith(".tsv") else ",")
                for i, row in enumerate(reader, 2):
                    yield f"{path}:{i}", row
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
    else:
        for where, item in _json_items(path):
            if not isinstance(item, dict):
                raise InputError(f"{where}: a result row must be a JSON object")
            yield where, item


def _cell(row: dict, name: str, where: str) -> str:
    """A cell named in ``--id-template`` as text (``3.0`` from a spreadsheet -> ``3``)."""
    if name not in row or row[name] is None:
        raise InputError(f"{where} field={name!r}: missing (named in --id-template)")
    value = row[name]
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _read_vlmevalkit(path: Path, id_template: str | None = None, **_: Any) -> Iterator[Answer]:
    for where, row in _table_rows(path):
        if "prediction" not in row:
            raise InputError(
                f"{where} field='prediction': missing (a VLMEvalKit result file has index, prediction)"
            )
        expr_id = row.get("expr_id")
        if not expr_id:
            if not id_template:
                raise InputError(
                    f"{where} field='expr_id': no expr_id column; pass --id-template, e.g. 'refcoco_unc/val/{{index}}'"
                )

            expr_id = _FIELD.sub(lambda m, row=row, where=where: _cell(row, m.group(1), where), id_template)
        text = row["prediction"]
        yield Answer(str(expr_id), "" if text is None else str(text), where)


READERS = {"jsonl": _read_jsonl, "lmms-eval": _read_lmms_eval, "vlmevalkit": _read_vlmevalkit}


def detect_format(path: Path) -> str:
    """``vlmevalkit`` for spreadsheets, else from the first JSON record: ``resps`` / ``doc_id`` ->
    ``lmms-eval``, ``prediction`` + ``index`` -> ``vlmevalkit``, otherwise ``jsonl``."""
    if path.name.lower().endswith((".xlsx", ".tsv", ".csv")):
        return "vlmevalkit"
    for _, item in _json_items(path):
        if isinstance(item, dict):
            if "resps" in item or "filtered_resps" in item or "doc_id" in item:
                return "lmms-eval"
            if "prediction" in item and "index" in item:
                return "vlmevalkit"
        break
    return "jsonl"


def read_answers(
    path: str | Path,
    fmt: str = "auto",
    *,
    rows: Callable[[], list[dict]] | None = None,
    id_template: str | None = None,
) -> tuple[str, list[Answer]]:
    """(format used, answers) of an answers file; ``rows`` gives the unified rows (lmms-eval join)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: answers file not found")
    if fmt not in ANSWER_FORMATS:
        raise InputError(f"unknown --answers-format {fmt!r} (known: {', '.join(ANSWER_FORMATS)})")
    if fmt == "auto":
        fmt = detect_format(path)
    return fmt, list(READERS[fmt](path, rows=rows, id_template=id_template))
