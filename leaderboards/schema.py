"""The published-numbers data: its columns, vocabularies, and loaders.

``leaderboards/data/published.csv`` is tidy long format, one printed number per row:

====================  =========================================================================
column                meaning
====================  =========================================================================
``source``            source document key (``instancevg_paper``, ``ref_vlm_paper``, ...); a key of
                      the bibliography
``table``             the table of the source as printed ("Table 3", "Table VII", ...)
``group``             the row group printed in the table ("MLLM Methods", "VGM", ...); may be empty
``model``             the model as printed, citation removed ("InstanceVG (Ours)")
``paper_key``         bibliography key of the model's paper; empty when the source gives none
``backbone``          visual encoder / backbone as printed; may be empty
``setting``           other printed row attributes (fine-tuning, pre-training data, decoder, the
                      ablation configuration); may be empty
``venue``             venue as printed (PISSI) or from the source's reference list; may be empty
``dataset``           builder config name (``grefcoco_unc``, ``refcocog_umd``, ...); empty only for
                      dataset-free metrics (latency, parameters, MACs)
``split``             split as the sources spell them (``val``, ``testA``, ``test``), or ``unstated``
``metric``            a metric key (the keys of the results JSON, plus a few published-only ones)
``value``             the number exactly as printed (a string; cells printed "-" are omitted)
``notes``             anything a reader must know about this number (typos, lost headers)
====================  =========================================================================

A row's identity (what must be unique) is every column except ``value``, ``notes``, ``paper_key`` and
``venue``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = [
    "BIBLIOGRAPHY_CSV",
    "COLUMNS",
    "DATASETS",
    "DATASET_FREE_METRICS",
    "METRICS",
    "PUBLISHED_CSV",
    "SOURCES",
    "BibEntry",
    "Metric",
    "PublishedRow",
    "load_bibliography",
    "load_published",
    "parse_value",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
PUBLISHED_CSV = DATA_DIR / "published.csv"
BIBLIOGRAPHY_CSV = DATA_DIR / "bibliography.csv"

COLUMNS: tuple[str, ...] = (
    "source",
    "table",
    "group",
    "model",
    "paper_key",
    "backbone",
    "setting",
    "venue",
    "dataset",
    "split",
    "metric",
    "value",
    "notes",
)
BIB_COLUMNS: tuple[str, ...] = ("key", "authors", "title", "venue", "year", "cited_as")

# Source documents (relative to the shared seeds folder) and a short human name.
SOURCES: dict[str, str] = {
    "instancevg_paper": "InstanceVG paper (instancevg_paper.txt)",
    "ref_vlm_paper": "REF-VLM paper (ref_vlm_paper.txt)",
    "mlcd_seg_readme": "MLCD-Seg README (mlcd_seg_readme.md)",
    "pissi_ssrvg_readme": "PISSI / SSRVG README (pissi_ssrvg_readme.md)",
}


@dataclass(frozen=True)
class Metric:
    """A metric key's display name and which direction is better (``None``: not ranked)."""

    display: str
    higher_is_better: bool | None = True


# Metric key -> display. Display names live only in rendering code (leaderboards), never in results.
METRICS: dict[str, Metric] = {
    "prec@0.5": Metric("Pr@0.5"),
    "prec@0.6": Metric("Pr@0.6"),
    "prec@0.7": Metric("Pr@0.7"),
    "prec@0.8": Metric("Pr@0.8"),
    "prec@0.9": Metric("Pr@0.9"),
    "miou": Metric("mIoU"),
    "oiou": Metric("oIoU"),
    "giou": Metric("gIoU"),
    "ciou": Metric("cIoU"),
    "f1_score": Metric("F1score"),
    "n_acc": Metric("N-acc."),
    "t_acc": Metric("T-acc."),
    "acc": Metric("Acc."),
    "mrr": Metric("mRR"),
    "riou": Metric("rIoU"),
    "cover_acc": Metric("CoverAcc"),
    # published-only
    "time_ms": Metric("Time (ms)", higher_is_better=False),
    "params_m": Metric("Params (M)", higher_is_better=None),
    "macs_g": Metric("MACs (G)", higher_is_better=None),
    "unstated": Metric("Score", higher_is_better=True),
}
DATASET_FREE_METRICS = frozenset({"time_ms", "params_m", "macs_g"})

# Dataset key (the builder's config names) -> display name.
DATASETS: dict[str, str] = {
    "refcoco_unc": "RefCOCO",
    "refcoco_google": "RefCOCO (google)",
    "refcocoplus_unc": "RefCOCO+",
    "refcocog_umd": "RefCOCOg",
    "refcocog_google": "RefCOCOg (google)",
    "grefcoco_unc": "gRefCOCO",
    "refzom_final": "Ref-ZOM",
    "rrefcoco_unc": "R-RefCOCO",
    "rrefcocoplus_unc": "R-RefCOCO+",
    "rrefcocog_umd": "R-RefCOCOg",
}
SPLITS = frozenset({"train", "val", "testA", "testB", "test", "unstated"})

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def parse_value(text: str) -> float:
    """The float of a printed number (``"73.36"`` -> 73.36); raises ValueError otherwise."""
    if not _NUMBER.match(text):
        raise ValueError(f"not a plain decimal number: {text!r}")
    return float(text)


@dataclass(frozen=True)
class PublishedRow:
    """One published number with its provenance (columns as in the module docstring)."""

    source: str
    table: str
    group: str
    model: str
    paper_key: str
    backbone: str
    setting: str
    venue: str
    dataset: str
    split: str
    metric: str
    value: str
    notes: str
    line: int = 0  # line of the CSV (1 = header), for error messages

    @property
    def identity(self) -> tuple[str, ...]:
        """What must be unique: the row without its value, notes and bibliographic fields."""
        return (
            self.source,
            self.table,
            self.group,
            self.model,
            self.backbone,
            self.setting,
            self.dataset,
            self.split,
            self.metric,
        )

    @property
    def row_key(self) -> tuple[str, str, str, str]:
        """The printed table row this number belongs to: (group, model, backbone, setting)."""
        return (self.group, self.model, self.backbone, self.setting)


@dataclass(frozen=True)
class BibEntry:
    """A bibliography entry as the source documents print it."""

    key: str
    authors: str
    title: str
    venue: str
    year: str
    cited_as: str


def _read_csv(path: Path, expected: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    from evaluators.errors import InputError

    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            header = tuple(reader.fieldnames or ())
            if header != expected:
                raise InputError(
                    f"{path}:1: header: expected columns {','.join(expected)}, got {','.join(header)}"
                )
            return [(i, row) for i, row in enumerate(reader, start=2)]
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def load_published(path: str | Path | None = None) -> list[PublishedRow]:
    """Read the published-numbers CSV (default: the packaged one) in file order.

    Only the header is validated here; `leaderboards.check.check_published` validates the content.
    """
    path = Path(path) if path is not None else PUBLISHED_CSV
    names = [f.name for f in fields(PublishedRow) if f.name != "line"]
    return [
        PublishedRow(**{n: (row.get(n) or "") for n in names}, line=i) for i, row in _read_csv(path, COLUMNS)
    ]


def load_bibliography(path: str | Path | None = None) -> dict[str, BibEntry]:
    """Read the bibliography CSV (default: the packaged one) as key -> entry."""
    path = Path(path) if path is not None else BIBLIOGRAPHY_CSV
    out: dict[str, BibEntry] = {}
    for _, row in _read_csv(path, BIB_COLUMNS):
        out[row["key"]] = BibEntry(**{n: row.get(n) or "" for n in BIB_COLUMNS})
    return out
