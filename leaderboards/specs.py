"""Table specs: small declarative JSON files under ``leaderboards/tables/`` (one per table name).

A spec is either one part or ``{"name", "version", "title", "parts": [part, ...]}`` (the ablations).
A part::

    {"id": "table3",                       # unique within the spec; names plot files of multi-part specs
     "title": "GRES on gRefCOCO",
     "caption": "...",                     # shown under the title
     "source": "instancevg_paper", "table": "Table 3",   # which published rows feed it
     "task": "gres",                       # results JSON files of this task can join as reproduced rows
     "labels": [{"field": "model", "header": "Method"}, {"field": "backbone", "header": "Backbone"}],
     "groups": ["MLLM Methods", "Specialist Methods"],   # printed row groups, in order (optional)
     "columns": [{"dataset": "grefcoco_unc", "splits": ["val", "testA"], "metrics": ["giou", "ciou"]},
                 {"metric": "time_ms"}],   # a block expands to dataset x splits x metrics, in that order
     "dataset_labels": {"grefcoco_unc": "gRefCOCO"},    # optional header overrides
     "split_labels": {"val": "Val", "refcocog_umd/val": "val-u"},   # "dataset/split" keys win
     "decimals": 2,                        # for computed values and differences (published stay as printed)
     "highlight": true,                    # bold best, underline second per column (published rows only)
     "plot": {"dataset": "grefcoco_unc", "split": "val", "metric": "giou"}}   # optional

Columns form the header hierarchy dataset -> split -> metric. Published rows appear in CSV order within
their group; a row of the source whose cells are all outside ``columns`` is not shown.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

from evaluators.errors import InputError
from leaderboards.schema import DATASETS, METRICS

__all__ = ["Column", "PartSpec", "TableSpec", "list_tables", "load_spec"]

TABLES_DIR = Path(__file__).resolve().parent / "tables"
TASKS = ("rec", "res", "grec", "gres", "refzom", "rrefcoco")
LABEL_FIELDS = ("model", "backbone", "setting", "venue", "group")


@dataclass(frozen=True)
class Column:
    """One leaf column: dataset (empty for dataset-free metrics), split and metric keys; ``task`` is set
    only in computed-only tables, where two tasks can share a dataset, split and metric key."""

    dataset: str
    split: str
    metric: str
    task: str = ""

    @property
    def key(self) -> str:
        """``dataset/split/metric`` (``dataset/split/task:metric`` when the task is set)."""
        metric = f"{self.task}:{self.metric}" if self.task else self.metric
        return "/".join(p for p in (self.dataset, self.split, metric) if p)


@dataclass(frozen=True)
class PartSpec:
    """One rendered table (see the module docstring for the fields)."""

    id: str
    title: str
    caption: str
    source: str
    table: str
    task: str | None
    labels: tuple[tuple[str, str], ...]
    groups: tuple[str, ...]
    columns: tuple[Column, ...]
    dataset_labels: dict[str, str] = field(default_factory=dict)
    split_labels: dict[str, str] = field(default_factory=dict)
    decimals: int = 2
    highlight: bool = True
    plot: Column | None = None

    def dataset_label(self, key: str) -> str:
        return self.dataset_labels.get(key, DATASETS.get(key, key))

    def split_label(self, dataset: str, split: str) -> str:
        """The header of a split: ``split_labels["dataset/split"]``, else ``split_labels[split]``."""
        return self.split_labels.get(f"{dataset}/{split}", self.split_labels.get(split, split))


@dataclass(frozen=True)
class TableSpec:
    """A named table: one or more parts rendered into the same output files."""

    name: str
    version: int
    title: str
    parts: tuple[PartSpec, ...]
    path: Path | None = None


def list_tables() -> list[str]:
    """The table names with a spec file, sorted."""
    return sorted(p.stem for p in TABLES_DIR.glob("*.json"))


def load_spec(name_or_path: str | Path) -> TableSpec:
    """Load a spec by table name (``gres``) or from a JSON file path; errors say 'did you mean'."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        names = list_tables()
        if str(name_or_path) not in names:
            close = difflib.get_close_matches(str(name_or_path), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"--table: unknown table {str(name_or_path)!r}{hint} (known: {', '.join(names)})"
            )
        path = TABLES_DIR / f"{name_or_path}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return parse_spec(raw, path)


def _column(raw: dict, where: str) -> Column:
    if not isinstance(raw, dict) or "metric" not in raw:
        raise InputError(f"{where}: expected an object with 'metric' (and 'dataset', 'split')")
    col = Column(str(raw.get("dataset", "")), str(raw.get("split", "")), str(raw["metric"]))
    if col.metric not in METRICS:
        raise InputError(f"{where}: metric: unknown metric {col.metric!r}")
    if col.dataset and col.dataset not in DATASETS:
        raise InputError(f"{where}: dataset: unknown dataset {col.dataset!r}")
    return col


def _block(raw: dict, where: str) -> list[Column]:
    """Expand one column block: ``splits`` / ``metrics`` lists give their product (split-major)."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    splits = raw.get("splits", [raw.get("split", "")])
    metrics = raw.get("metrics", [raw.get("metric")] if "metric" in raw else [])
    if not metrics:
        raise InputError(f"{where}: metric: missing ('metric' or 'metrics')")
    dataset = raw.get("dataset", "")
    return [_column({"dataset": dataset, "split": s, "metric": m}, where) for s in splits for m in metrics]


def _part(raw: dict, where: str) -> PartSpec:
    for name in ("id", "title", "source", "table", "columns", "labels"):
        if name not in raw:
            raise InputError(f"{where}: {name}: missing")
    task = raw.get("task")
    if task is not None and task not in TASKS:
        raise InputError(f"{where}: task: unknown task {task!r} (known: {', '.join(TASKS)})")
    labels = []
    for i, lab in enumerate(raw["labels"]):
        if lab.get("field") not in LABEL_FIELDS:
            raise InputError(f"{where}: labels[{i}].field: expected one of {', '.join(LABEL_FIELDS)}")
        labels.append((lab["field"], str(lab.get("header", lab["field"]))))
    columns = tuple(col for i, c in enumerate(raw["columns"]) for col in _block(c, f"{where}: columns[{i}]"))
    if len(set(columns)) != len(columns):
        raise InputError(f"{where}: columns: a column is listed twice")
    return PartSpec(
        id=str(raw["id"]),
        title=str(raw["title"]),
        caption=str(raw.get("caption", "")),
        source=str(raw["source"]),
        table=str(raw["table"]),
        task=task,
        labels=tuple(labels),
        groups=tuple(raw.get("groups", ())),
        columns=columns,
        dataset_labels=dict(raw.get("dataset_labels", {})),
        split_labels=dict(raw.get("split_labels", {})),
        decimals=int(raw.get("decimals", 2)),
        highlight=bool(raw.get("highlight", True)),
        plot=_column(raw["plot"], f"{where}: plot") if raw.get("plot") else None,
    )


def parse_spec(raw: dict, path: Path | None = None) -> TableSpec:
    """Build a `TableSpec` from its decoded JSON (see the module docstring)."""
    where = str(path) if path else "<spec>"
    if not isinstance(raw, dict) or "name" not in raw:
        raise InputError(f"{where}: name: missing")
    parts_raw = raw.get("parts", [raw])
    parts = tuple(_part(p, f"{where}: parts[{i}]") for i, p in enumerate(parts_raw))
    if len({p.id for p in parts}) != len(parts):
        raise InputError(f"{where}: parts: ids must be unique")
    return TableSpec(
        name=str(raw["name"]),
        version=int(raw.get("version", 1)),
        title=str(raw.get("title", parts[0].title)),
        parts=parts,
        path=path,
    )
