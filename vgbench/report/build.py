"""`build_report`: score, draw the thumbnails and write the static report folder.

Layout of ``OUT`` (opens from disk: no server, no network, no CDN)::

    index.html      metrics with intervals, the comparison, breakdowns, the gallery's frame
    report.css      styles
    report.js       the gallery: filters, sorting, paging (reads data.js)
    data.js         window.VGB_REPORT = {...}: one small record per expression
    report.json     the numbers of the page, machine-readable
    thumbs/<hash>.jpg  one thumbnail per (expression, model), loaded lazily
    .vgbench-report marker: a later report may replace this folder

The folder is written next to ``OUT`` under a temporary name and renamed at the end, so bad input
or a crash leaves nothing (and an earlier report stays whole). Thumbnails of an earlier report in
``OUT`` that show the same thing are reused instead of drawn again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evaluators import InputError
from vgbench.report.analysis import DIMENSIONS, TAGS, analyse, compare_models
from vgbench.report.assets import CSS, JS
from vgbench.report.html import COMPARE_SORTS, PAIRS, SORTS, page
from vgbench.report.rows import Expression, read_expressions
from vgbench.report.thumbs import Drawing, Renderer

__all__ = ["MARKER", "build_report"]

log = logging.getLogger(__name__)

MARKER = ".vgbench-report"
_ORDER = {
    "target_type": ["none", "single", "multi"],
    "n_targets": ["0", "1", "2", "3", "4+"],
    "size": ["no target", "small", "medium", "large"],
    "length": ["1-2 words", "3-4 words", "5-6 words", "7-9 words", "10+ words"],
}


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InputError(f"{out}: --out must be a new or empty folder, or the folder of an earlier report")


def _image_paths(expressions: Sequence[Expression], images: Path | None) -> list[str | None]:
    if images is None:
        return [None] * len(expressions)
    if not images.is_dir():
        raise InputError(f"{images}: --images is not a folder")
    paths = []
    for e in expressions:
        if not e.file_name:
            raise InputError(
                f"{e.target.where} expr_id={e.target.expr_id!r} field='file_name': missing (needed with --images)"
            )
        path = images / e.file_name
        if not path.is_file():
            raise InputError(
                f"{e.target.where} expr_id={e.target.expr_id!r} field='file_name': image not found: {path}"
            )
        paths.append(str(path))
    return paths


def _dim_values(expressions_groups: list[dict[str, str]]) -> dict[str, list[tuple[str, int]]]:
    counts: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for groups in expressions_groups:
        for dim, v in groups.items():
            counts[dim][v] = counts[dim].get(v, 0) + 1
    out = {}
    for dim, c in counts.items():
        by_count = sorted(c, key=lambda v, c=c: (-c[v], v))
        keys = [v for v in _ORDER[dim] if v in c] if dim in _ORDER else by_count
        out[dim] = [(v, c[v]) for v in keys]
    return out


def _card_side(outcome: dict[str, Any], thumb: str) -> dict[str, Any]:
    def r(v):
        return None if v is None else round(float(v), 4)

    return {
        "iou": r(outcome["iou"]),
        "biou": r(outcome["box_iou"]),
        "tp": outcome["tp"],
        "fp": outcome["fp"],
        "fn": outcome["fn"],
        "tags": outcome["tags"],
        "miss": outcome["missing"],
        "th": thumb,
    }


def _pair(a: dict[str, Any], b: dict[str, Any]) -> str:
    if a["correct"] and not b["correct"]:
        return "a_only"
    if b["correct"] and not a["correct"]:
        return "b_only"
    return "both_right" if a["correct"] else "both_wrong"


class _Thumbnails:
    """Names each (model, expression) thumbnail by what it shows; reuses an earlier report's file of
    the same name, else queues the drawing on the `Renderer`."""

    def __init__(self, expressions, images, tmp: Path, old: Path | None, renderer: Renderer, size: int):
        self.expressions, self.images, self.tmp, self.old = expressions, images, tmp, old
        self.renderer, self.size = renderer, size
        self.names: list[list[str]] = []
        self.planned: set[str] = set()
        self.reused = 0

    def model(self) -> Callable[[int, tuple], None]:
        names: list[str] = [""] * len(self.expressions)
        self.names.append(names)

        def on_drawing(i: int, drawing: tuple) -> None:
            boxes, mask, points = drawing
            t = self.expressions[i].target
            d = Drawing(
                height=t.height,
                width=t.width,
                image=self.images[i],
                gt_boxes=tuple(tuple(round(float(v), 2) for v in b) for b in t.boxes),
                gt_mask=None if t.no_target else dict(t.mask),
                pred_boxes=tuple(tuple(b) for b in boxes),
                pred_mask=None if mask is None else dict(mask),
                points=tuple(tuple(p) for p in points),
            )
            name = f"thumbs/{d.key(self.size)}.jpg"
            names[i] = name
            if name in self.planned:
                return
            self.planned.add(name)
            if self.old is not None and (self.old / name).is_file():
                try:
                    os.link(self.old / name, self.tmp / name)
                except OSError:
                    shutil.copy2(self.old / name, self.tmp / name)
                self.reused += 1
            else:
                self.renderer.add(d, self.tmp / name)

        return on_drawing


def build_report(
    predictions: str | Path,
    targets: str | Path,
    out: str | Path,
    config: str | None = None,
    split: str | None = None,
    images: str | Path | None = None,
    compare: str | Path | None = None,
    tasks: Sequence[str] | None = None,
    allow_missing: bool = False,
    ci: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    thumb_size: int = 256,
    page_size: int = 48,
    workers: int | None = None,
    names: tuple[str, str] | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Write the report folder ``out`` (see the module docstring); returns a summary dict
    (``out``, ``expressions``, ``tasks``, ``thumbnails`` drawn / reused, ``seconds``)."""
    t0 = time.monotonic()
    out = Path(out)
    if not 0.0 < ci < 1.0:
        raise InputError(f"--ci must be in (0, 1), got {ci}")
    if resamples < 1:
        raise InputError(f"--resamples must be >= 1, got {resamples}")
    if not 32 <= thumb_size <= 1024:
        raise InputError(f"--thumb-size must be in [32, 1024], got {thumb_size}")
    if page_size < 1:
        raise InputError(f"--page-size must be >= 1, got {page_size}")
    _check_out(out)
    expressions = read_expressions(targets, config, split)
    image_paths = _image_paths(expressions, None if images is None else Path(images))
    name_a, name_b = names or (
        Path(predictions).name,
        Path(compare).name if compare is not None else "",
    )
    if compare is not None and name_a == name_b:
        name_a, name_b = f"A: {name_a}", f"B: {name_b}"
    common = dict(
        tasks=tasks, allow_missing=allow_missing, ci=ci, resamples=resamples, seed=seed, quiet=quiet
    )

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "thumbs").mkdir(parents=True)
    renderer = Renderer(thumb_size, workers or min(2, os.cpu_count() or 1), quiet)
    try:
        old = out if (out / MARKER).is_file() else None
        planner = _Thumbnails(expressions, image_paths, tmp, old, renderer, thumb_size)
        # the thumbnails are drawn in worker processes while the models are scored here
        models = [analyse(name_a, predictions, expressions, **common, on_drawing=planner.model())]
        if compare is not None:
            common["tasks"] = tasks or models[0].tasks
            models.append(analyse(name_b, compare, expressions, **common, on_drawing=planner.model()))
        paired = compare_models(models[0], models[1], ci, resamples, seed) if len(models) > 1 else None
        a = models[0]
        drawn = renderer.finish()
        thumbs, reused = planner.names, planner.reused

        cards, pair_counts = [], {k: 0 for k in PAIRS}
        tag_counts = {k: 0 for k in TAGS}
        for i, e in enumerate(expressions):
            oa = a.outcomes[i]
            for tag in oa["tags"]:
                tag_counts[tag] += 1
            scale = thumb_size / max(e.target.height, e.target.width)
            card = {
                "id": e.target.expr_id,
                "s": e.sentence,
                "n": len(e.areas),
                "g": oa["groups"],
                "tw": max(1, round(e.target.width * scale)),
                "thh": max(1, round(e.target.height * scale)),
                "a": _card_side(oa, thumbs[0][i]),
            }
            if len(models) > 1:
                ob = models[1].outcomes[i]
                card["b"] = _card_side(ob, thumbs[1][i])
                card["pair"] = _pair(oa, ob)
                pair_counts[card["pair"]] += 1
            cards.append(card)
        dim_values = _dim_values([o["groups"] for o in a.outcomes])
        data = {
            "page_size": page_size,
            "compare": len(models) > 1,
            "models": [m.name for m in models],
            "tags": TAGS,
            "tag_counts": tag_counts,
            "pairs": {k: v.format(a=a.name, b=models[-1].name) for k, v in PAIRS.items()},
            "pair_counts": pair_counts,
            "dims": DIMENSIONS,
            "dim_values": dim_values,
            "sorts": list(SORTS) + (list(COMPARE_SORTS) if len(models) > 1 else []),
            "cards": cards,
        }
        (tmp / "data.js").write_text(
            "window.VGB_REPORT = " + json.dumps(data, separators=(",", ":"), ensure_ascii=True) + ";\n",
            encoding="utf-8",
        )
        (tmp / "report.css").write_text(CSS, encoding="utf-8")
        (tmp / "report.js").write_text(JS, encoding="utf-8")
        from vgbench import __version__

        facts = [
            ("predictions", str(predictions)),
            *([("compared with", str(compare))] if compare is not None else []),
            ("targets", f"{targets}:{config}/{split}" if config and split else str(targets)),
            ("expressions", str(len(expressions))),
            ("tasks", ", ".join(a.tasks)),
            ("images", str(images) if images is not None else "none: blank canvas of the image size"),
            ("vgbench", __version__),
        ]
        title = f"vgbench report: {a.name}" + (f" vs {models[1].name}" if len(models) > 1 else "")
        order = {d: [v for v, _ in vals] for d, vals in dim_values.items()}
        (tmp / "index.html").write_text(
            page(title, facts, models, order, paired, pair_counts, images is None), encoding="utf-8"
        )
        summary = {
            "title": title,
            "targets": facts[2 if compare is None else 3][1],
            "expressions": len(expressions),
            "tasks": list(a.tasks),
            "models": {
                m.name: {
                    "predictions": str(m.path),
                    "results": m.results,
                    "breakdowns": m.breakdowns,
                    "breakdown_counts": m.breakdown_counts,
                }
                for m in models
            },
            "tag_counts": tag_counts,
            "paired": paired,
            "pair_counts": pair_counts if len(models) > 1 else None,
        }
        (tmp / "report.json").write_text(
            json.dumps(summary, indent=1, allow_nan=False) + "\n", encoding="utf-8"
        )
        (tmp / MARKER).write_text("written by vgbench report; a later report may replace this folder\n")
        if out.exists():
            trash = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(trash)
            tmp.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        renderer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    seconds = round(time.monotonic() - t0, 2)
    log.info(
        "report: %d expressions, %d thumbnails drawn, %d reused, %.1fs -> %s",
        len(expressions),
        drawn,
        reused,
        seconds,
        out,
    )
    return {
        "out": str(out),
        "expressions": len(expressions),
        "tasks": list(a.tasks),
        "thumbnails": {"drawn": drawn, "reused": reused},
        "seconds": seconds,
    }
