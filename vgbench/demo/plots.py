"""Plots of ``vgbench demo`` (matplotlib, Agg backend, PNG).

- ``training_curves.png``: the total loss of the ``step`` records of ``RUN/log.jsonl`` against the
  optimizer step, and, when the run evaluated, each ``eval`` record's GREC F1score and GRES gIoU
  against the (whole) epoch, with the best text-blind baseline of each metric as a dashed line.
- ``examples.png``: a few ``grefcoco_unc`` val images (a single-target, a multi-target and a
  no-target expression when the split has them) with the sentence, the ground truth boxes (lime,
  dashed), the predicted expression mask (cyan overlay), the predicted boxes kept at score >= 0.7
  (magenta) and the prior points (white dots), and a legend. None of these colours is a scene
  colour of the synthetic data (`datasets_builders.synth_scene.COLOURS`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from evaluators import rle

__all__ = ["examples", "make_plots", "training_curves"]

log = logging.getLogger(__name__)

KEEP_SCORE = 0.7
GT_COLOUR, MASK_RGB, BOX_COLOUR, POINT_COLOUR = "lime", (0.0, 0.85, 0.9), "magenta", "white"
# (task, metric key, label) of the validation curves: the two checks of the verdict
CURVES = (("grec", "f1_score", "GREC F1score"), ("gres", "giou", "GRES gIoU"))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": None})
    tmp.replace(path)
    return path


def training_curves(
    log_path: Path, path: Path, baselines: dict[str, dict[str, dict[str, float | None]]] | None = None
) -> Path:
    """Loss per step and validation metrics per epoch from the trainer's JSON-lines log.

    ``baselines``: ``{name: {task: metrics}}`` of the text-blind baselines on the same split; the best
    of them per curve is drawn as a dashed line of the curve's colour.
    """
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    records = [
        json.loads(line) for line in Path(log_path).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    steps = [
        (r["step"], r["loss"]) for r in records if r.get("event") == "step" and r.get("loss") is not None
    ]
    evals = [r for r in records if r.get("event") == "eval"]
    fig, (ax_loss, ax_eval) = plt.subplots(1, 2, figsize=(10, 3.6))
    if steps:
        ax_loss.plot(*zip(*steps), color="tab:blue")
    ax_loss.set(title="training loss", xlabel="optimizer step", ylabel="total loss")
    for (task, key, label), colour in zip(CURVES, ("tab:blue", "tab:orange")):
        pts = [
            (r["epoch"], r["metrics"][task][key])
            for r in evals
            if r.get("metrics", {}).get(task, {}).get(key) is not None
        ]
        if pts:
            ax_eval.plot(*zip(*pts), marker="o", color=colour, label=f"{label} (model)")
        values = {
            name: m[task][key]
            for name, m in (baselines or {}).items()
            if m.get(task, {}).get(key) is not None
        }
        if values:
            best = max(values, key=values.__getitem__)
            ax_eval.axhline(values[best], color=colour, ls="--", lw=1, label=f"{label} ({best})")
    ax_eval.set(title="validation (grefcoco_unc val)", xlabel="epoch", ylabel="percent")
    epochs = sorted({r["epoch"] for r in evals})
    if 0 < len(epochs) <= 12:
        ax_eval.set_xticks(epochs)  # whole epochs only
        ax_eval.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
    else:
        ax_eval.xaxis.set_major_locator(MaxNLocator(integer=True))
    if evals:
        ax_eval.legend(fontsize=7)
    else:
        ax_eval.text(0.5, 0.5, "no evaluation finished", ha="center", va="center")
    fig.tight_layout()
    path = _save(fig, path)
    plt.close(fig)
    return path


def _pick_rows(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Up to ``k`` rows: one of each target type first, then the next rows in order."""
    chosen: list[dict[str, Any]] = []
    for kind in ("single", "multi", "none"):
        row = next((r for r in rows if r["target_type"] == kind), None)
        if row is not None:
            chosen.append(row)
    chosen += [r for r in rows if r not in chosen]
    return chosen[:k]


def examples(
    data: Path, predictions: Path, path: Path, config: str = "grefcoco_unc", split: str = "val", k: int = 4
) -> Path:
    """Draw ``k`` expressions of ``config``/``split`` with the predictions of ``predictions``."""
    from baselines.rows import iter_rows
    from datasets_builders.images import open_image

    plt = _pyplot()
    from matplotlib.patches import Rectangle

    preds = {}
    with open(predictions, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            preds[rec["expr_id"]] = rec
    rows = _pick_rows(list(iter_rows(data, config, split)), k)
    fig, axes = plt.subplots(1, max(len(rows), 1), figsize=(3.4 * max(len(rows), 1), 3.8), squeeze=False)
    for ax, row in zip(axes[0], rows):
        image = np.asarray(open_image(data, row), dtype=np.float32) / 255.0
        pred = preds.get(row["expr_id"], {})
        if pred.get("mask"):
            m = rle.decode(pred["mask"]).astype(bool)
            image[m] = 0.45 * image[m] + 0.55 * np.array(MASK_RGB)
        ax.imshow(image)
        for t in row["targets"]:
            x, y, w, h = t["bbox"]
            ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=GT_COLOUR, ls="--", lw=1.5))
        for inst in pred.get("instances", []):
            if inst["score"] >= KEEP_SCORE:
                x, y, w, h = inst["bbox"]
                ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=BOX_COLOUR, lw=1.5))
        points = np.asarray(pred.get("points") or [], dtype=float).reshape(-1, 2)
        if len(points):
            ax.scatter(points[:, 0], points[:, 1], s=12, c=POINT_COLOUR, edgecolors="black", linewidths=0.5)
        verdict = (
            "pred: no target"
            if pred.get("no_target")
            else f"pred: {sum(i['score'] >= KEEP_SCORE for i in pred.get('instances', []))} box(es)"
        )
        ax.set_title(f'"{row["sentence"]}"\n{row["target_type"]} | {verdict}', fontsize=8)
        ax.axis("off")
    fig.legend(handles=_legend_handles(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    path = _save(fig, path)
    plt.close(fig)
    return path


def _legend_handles() -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    return [
        Line2D([], [], color=GT_COLOUR, ls="--", lw=1.5, label="ground truth box"),
        Patch(facecolor=MASK_RGB, label="predicted mask"),
        Line2D([], [], color=BOX_COLOUR, lw=1.5, label=f"predicted box (score >= {KEEP_SCORE})"),
        Line2D([], [], color="black", marker="o", ls="", markerfacecolor=POINT_COLOUR, label="prior point"),
    ]


def make_plots(
    out_dir: Path,
    data: Path,
    log_path: Path,
    model_predictions: Path,
    baselines: dict[str, dict[str, dict[str, float | None]]] | None = None,
) -> list[Path]:
    """Both figures from the run log and the model's grefcoco_unc val predictions; returns their paths.
    ``baselines``: see `training_curves`."""
    out_dir = Path(out_dir)
    made = [training_curves(log_path, out_dir / "training_curves.png", baselines)]
    made.append(examples(data, model_predictions, out_dir / "examples.png"))
    return made
