"""Field-by-field comparison of a build from another layout with the official-format build."""

from __future__ import annotations

from typing import Any

from datasets_builders.reading import iter_rows, list_configs
from datasets_builders.schema import FIXED_COLUMNS

# the unified row's fixed columns (targets compared field by field below) plus the extra source columns
ROW_FIELDS = (*(c for c in FIXED_COLUMNS if c != "targets"), "tokens", "category_names")
TARGET_FIELDS = ("ann_id", "category_id", "iscrowd", "bbox", "area", "mask")

# what each layout does not carry (everything else must be equal, field by field)
NOT_CARRIED: dict[str, set[str]] = {
    "zip": set(),
    "jxu124-benchmark": {"category_names"},
    "coco-full": set(),
    "jxu124": {"category_names"},
    "instancevg": {"category_names", "targets.area"},
    "lmms-lab": {
        "expr_id",
        "sent_id",
        "raw",
        "category_names",
        "targets.ann_id",
        "targets.category_id",
        "targets.area",
    },
}
REFMIX_NOT_CARRIED = {"expr_id", "sent_id", "dataset"}  # InstanceVG's mixed train names no source dataset


def compare_builds(official, other, layout: str, multipart: set[int] | None = None) -> tuple[int, list[str]]:
    """``(rows compared, differences)`` between two builds over the configs/splits of ``other``.

    ``multipart``: official ann ids whose polygon has several parts (lmms-lab keeps only one, so the
    masks of those targets and of their rows are not compared).
    """
    diffs: list[str] = []
    n = 0
    for config, splits in list_configs(other).items():
        skip = set(NOT_CARRIED[layout]) | (REFMIX_NOT_CARRIED if config == "refmix_train" else set())
        for split in splits:
            a = list(iter_rows(official, config, split))
            b = list(iter_rows(other, config, split))
            if "expr_id" not in skip:  # row order is no part of the contract where expr_id is carried
                a.sort(key=lambda r: r["expr_id"])
                b.sort(key=lambda r: r["expr_id"])
            if len(a) != len(b):
                diffs.append(f"{config}/{split}: {len(a)} official rows, {len(b)} rows")
                continue
            for ra, rb in zip(a, b, strict=True):
                n += 1
                diffs += _row_diffs(ra, rb, skip, multipart or set(), f"{config}/{split} {ra['expr_id']}")
    return n, diffs


def _row_diffs(
    ra: dict[str, Any], rb: dict[str, Any], skip: set[str], multipart: set[int], where: str
) -> list[str]:
    out = []
    parts = any(t["ann_id"] in multipart for t in ra["targets"])
    for key in ROW_FIELDS:
        if key in skip or (key == "mask" and parts):
            continue
        if ra[key] != rb[key]:
            out.append(f"{where}: {key}: {ra[key]!r} != {rb[key]!r}")
    if len(ra["targets"]) != len(rb["targets"]):
        return [*out, f"{where}: targets: {len(ra['targets'])} != {len(rb['targets'])}"]
    for k, (ta, tb) in enumerate(zip(ra["targets"], rb["targets"], strict=True)):
        for key in TARGET_FIELDS:
            if f"targets.{key}" in skip or (key == "mask" and ta["ann_id"] in multipart):
                continue
            if ta[key] != tb[key]:
                out.append(f"{where}: targets[{k}].{key}: {ta[key]!r} != {tb[key]!r}")
    return out
