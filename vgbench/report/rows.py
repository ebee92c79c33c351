"""The expressions a report shows: ground truth (`evaluators.Target`) plus the row fields the report
groups and prints (sentence, image file, categories, target areas).

Targets come from a targets file (``.jsonl``, ``.json`` list, ``.parquet`` of unified rows) or a built
dataset folder with ``config`` and ``split``; the files are found with `evaluators.readers.target_files`
and every row is validated with `evaluators.parse_target`, so a bad row fails exactly as in
``vgbench eval`` (file, record, field; exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluators import InputError, Target, parse_target
from evaluators.jsonl import iter_json_items, strip_gz
from evaluators.readers import target_files

__all__ = ["Expression", "read_expressions"]

# Unified-row columns read for the report (the embedded ``image`` column is never read).
_COLUMNS = (
    "expr_id",
    "height",
    "width",
    "no_target",
    "target_type",
    "targets",
    "mask",
    "ref_id",
    "sentence",
    "file_name",
    "category_names",
)


@dataclass(frozen=True)
class Expression:
    """One expression: its validated target and the report's descriptive fields.

    ``areas``: pixel area of each non-crowd target (the row's ``targets[].area``, else its box area);
    ``categories``: category name (or ``category_id`` as text) of each non-crowd target.
    """

    target: Target
    sentence: str
    file_name: str | None
    categories: tuple[str, ...]
    areas: tuple[float, ...]


def _iter_raw(path: Path) -> Iterator[tuple[str, Any]]:
    if strip_gz(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise InputError(f"{path}: cannot read Parquet: {exc}") from None
        columns = [c for c in _COLUMNS if c in set(pf.schema_arrow.names)]
        index = 0
        for batch in pf.iter_batches(batch_size=1024, columns=columns):
            for row in batch.to_pylist():
                yield f"{path}:[{index}]", row
                index += 1
        return
    yield from iter_json_items(path, expected="a JSON list of rows")


def _describe(row: dict[str, Any], target: Target, where: str) -> Expression:
    sentence = row.get("sentence")
    if sentence is not None and not isinstance(sentence, str):
        raise InputError(f"{where} expr_id={target.expr_id!r} field='sentence': must be a string")
    file_name = row.get("file_name")
    if file_name is not None and not isinstance(file_name, str):
        raise InputError(f"{where} expr_id={target.expr_id!r} field='file_name': must be a string")
    raw_targets = list(row.get("targets") or [])
    names = row.get("category_names")
    names = list(names) if isinstance(names, (list, tuple)) and len(names) == len(raw_targets) else None
    categories, areas = [], []
    for i, tgt in enumerate(raw_targets):
        if bool(tgt.get("iscrowd", False)):
            continue
        if names is not None:
            categories.append(str(names[i]))
        elif tgt.get("category_id") is not None:
            categories.append(f"category {tgt['category_id']}")
        area = tgt.get("area")
        if not isinstance(area, (int, float)) or isinstance(area, bool) or not area >= 0:
            _, _, w, h = target.boxes[i]
            area = w * h
        areas.append(float(area))
    return Expression(target, sentence or "", file_name, tuple(categories), tuple(areas))


def read_expressions(
    targets: str | Path, config: str | None = None, split: str | None = None
) -> list[Expression]:
    """Every expression of a targets file or of ``config``/``split`` of a built dataset, in order.

    Raises `InputError` on a missing file, an unreadable row or a duplicate ``expr_id``.
    """
    out: list[Expression] = []
    seen: set[str] = set()
    for path in target_files(targets, config, split):
        for where, row in _iter_raw(path):
            target = parse_target(row, where)
            if target.expr_id in seen:
                raise InputError(
                    f"{where} expr_id={target.expr_id!r} field='expr_id': duplicate expr_id in the targets"
                )
            seen.add(target.expr_id)
            out.append(_describe(row, target, where))
    if not out:
        raise InputError(f"{targets}: no expressions in the targets")
    return out
