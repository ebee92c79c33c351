"""Cross-source conflicts: the same model, dataset, split and metric printed differently by two sources.

The transcription keeps every number as printed; this module finds where the sources contradict each
other so that ``vgbench leaderboard --check`` can report it and the rendered tables can footnote it.

Matching (docs/leaderboards.md, "Cross-source conflicts"):

- model: the printed name, case, spaces, punctuation and "(Ours)" ignored, after the documented
  aliases of ``data/model_aliases.csv`` (e.g. InstanceVG's "GroundingDINO" with backbone Swin-T is
  REF-VLM's "GroundingDINO-T"). Two rows whose backbones are both printed and differ are different
  models; a row without a backbone is not compared with a source that prints the model with several
  backbones (ambiguous).
- metric: the same key; on RefCOCO/+/g the mask-IoU columns (InstanceVG Table 2 "mIoU", REF-VLM Table X
  "cIoU", MLCD-Seg's unnamed metric) are one measure, the RES number of the model, because the sources
  label the same published numbers differently; PISSI's unnamed metric is compared with the REC
  Precision@0.5 columns (its MDETR row equals MDETR's REC numbers). Other unnamed metrics are not compared.
- value: equal when the two printed numbers agree to the coarser of their precisions (``87.01`` and
  ``87.0`` agree; ``81.24`` and ``80.24`` do not): ``|a - b| <= 0.5 * 10**-d`` with ``d`` the fewer
  decimals.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from evaluators.errors import InputError
from leaderboards.schema import DATA_DIR, DATASETS, METRICS, SOURCES, PublishedRow, load_published

__all__ = ["ALIASES_CSV", "Conflict", "find_conflicts", "load_aliases", "model_identity"]

ALIASES_CSV = DATA_DIR / "model_aliases.csv"
ALIAS_COLUMNS = ("source", "model", "backbone", "same_as", "reason")
_REFCOCO = frozenset({"refcoco_unc", "refcocoplus_unc", "refcocog_umd"})
# (source, table) printing an unnamed metric -> the measure its numbers are compared in
_UNSTATED = {
    ("mlcd_seg_readme", "RefCOCO Segmentation Evaluation"): "RES mask IoU",
    ("pissi_ssrvg_readme", "RefCOCO / RefCOCO+ / RefCOCOg"): "REC Pr@0.5",
}
_SOURCE_NAMES = {
    "instancevg_paper": "InstanceVG",
    "ref_vlm_paper": "REF-VLM",
    "mlcd_seg_readme": "MLCD-Seg README",
    "pissi_ssrvg_readme": "PISSI README",
}


def _norm(name: str) -> str:
    name = name.lower().replace("(ours)", "")
    return "".join(ch for ch in name if ch.isalnum())


def load_aliases(path: str | Path | None = None) -> dict[tuple[str, str, str], str]:
    """``(source, model, backbone) -> same_as`` from the aliases CSV (default: the packaged one)."""
    path = Path(path) if path is not None else ALIASES_CSV
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != ALIAS_COLUMNS:
                raise InputError(f"{path}:1: header: expected columns {','.join(ALIAS_COLUMNS)}")
            out = {}
            for line, row in enumerate(reader, start=2):
                if not (row["source"] and row["model"] and row["same_as"] and row["reason"]):
                    raise InputError(f"{path}:{line}: source/model/same_as/reason: empty")
                out[(row["source"], row["model"], row["backbone"] or "")] = row["same_as"]
            return out
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def model_identity(row: PublishedRow, aliases: dict[tuple[str, str, str], str]) -> str:
    """The normalised model name used to match rows across sources."""
    return _norm(aliases.get((row.source, row.model, row.backbone), row.model))


def _measure(row: PublishedRow) -> str | None:
    if row.metric == "unstated":
        return _UNSTATED.get((row.source, row.table))
    if row.dataset in _REFCOCO and row.metric in ("miou", "oiou"):
        return "RES mask IoU"
    if row.dataset in _REFCOCO and row.metric == "prec@0.5":
        return "REC Pr@0.5"
    return row.metric


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _agree(a: str, b: str) -> bool:
    d = min(_decimals(a), _decimals(b))
    return abs(Decimal(a) - Decimal(b)) <= Decimal(5) / Decimal(10) ** (d + 1)


def _label(row: PublishedRow) -> str:
    metric = "metric not named" if row.metric == "unstated" else METRICS[row.metric].display
    return f"{_SOURCE_NAMES.get(row.source, row.source)} {row.table} prints {row.value} ({metric})"


@dataclass(frozen=True)
class Conflict:
    """Two rows of different sources for the same model, dataset, split and measure, printed differently."""

    a: PublishedRow
    b: PublishedRow
    measure: str

    @property
    def sources(self) -> tuple[str, str]:
        return (self.a.source, self.b.source)

    def describe(self, lines: bool = True) -> str:
        """One line: the model, dataset, split, measure and what each source prints (with the CSV
        lines when ``lines``)."""
        where = (
            f"{self.a.model} {DATASETS.get(self.a.dataset, self.a.dataset)} {self.a.split}, {self.measure}"
        )
        at_a = f" (published.csv:{self.a.line})" if lines else ""
        at_b = f" (published.csv:{self.b.line})" if lines else ""
        return f"{where}: {_label(self.a)}{at_a}; {_label(self.b)}{at_b}"

    def involves(self, row: PublishedRow) -> bool:
        return row is self.a or row is self.b or row.line in (self.a.line, self.b.line)


def find_conflicts(
    rows: Sequence[PublishedRow] | None = None, aliases: dict[tuple[str, str, str], str] | None = None
) -> list[Conflict]:
    """Every cross-source conflict in ``rows`` (default: the packaged data), in CSV line order."""
    rows = load_published() if rows is None else rows
    aliases = load_aliases() if aliases is None else aliases
    groups: dict[tuple[str, str, str, str], list[PublishedRow]] = defaultdict(list)
    for row in rows:
        measure = _measure(row)
        if row.dataset and measure is not None and row.source in SOURCES:
            groups[(model_identity(row, aliases), row.dataset, row.split, measure)].append(row)
    out: list[Conflict] = []
    for (_, _, _, measure), members in groups.items():
        backbones: dict[str, set[str]] = defaultdict(set)
        for r in members:
            backbones[r.source].add(_norm(r.backbone))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a.source == b.source or _agree(a.value, b.value):
                    continue
                ba, bb = _norm(a.backbone), _norm(b.backbone)
                if ba and bb and ba != bb:
                    continue  # different backbones: different models
                if (not ba and len(backbones[b.source]) > 1) or (not bb and len(backbones[a.source]) > 1):
                    continue  # which of the other source's rows is meant is ambiguous
                out.append(Conflict(a, b, measure) if a.line < b.line else Conflict(b, a, measure))
    out.sort(key=lambda c: (c.a.line, c.b.line))
    return out
