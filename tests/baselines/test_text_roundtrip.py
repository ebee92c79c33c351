"""Round trips: ground truth rendered in each family's answer format -> adapt -> score.

On the synthetic refcoco_unc and grefcoco_unc val splits (built once per module), also padded to a wide
and a tall image so that axis order, padding and resize rules are exercised. Each family quantises
(a 0-1000 grid, 1024 bins, a 32 x 32 patch grid, ...); `render_quantum` bounds the error per
coordinate, the test checks every parsed coordinate against that bound and derives from it the IoU
each box is guaranteed to keep; every metric whose threshold the guarantee clears must be exactly 100.
The same split in the wrong convention must raise a convention warning; the right one must not.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines.adapters.text import (
    CONVENTIONS,
    FAMILIES,
    Answer,
    ImageSize,
    adapt_answers,
    render_answer,
    render_quantum,
)
from evaluators import evaluate, rle
from evaluators.readers import iter_targets

HARNESS = ("lmms-eval", "vlmevalkit")  # REC only: their rules know no "no target"
COARSE = ("kosmos-2", "minigpt-v2")  # 32 and 100 cells per side: no threshold is guaranteed on 18-px boxes
CASES = [
    (f, None, c)
    for f in FAMILIES
    if f not in ("seg", "florence-2-seg", "generic")
    for c in ("refcoco_unc", "grefcoco_unc")
    if not (f in HARNESS and c == "grefcoco_unc")
] + [("generic", coords, c) for coords in CONVENTIONS for c in ("refcoco_unc", "grefcoco_unc")]
REC_PROTOCOLS = ("rec/iou", "rec/giou", "rec/refer", "rec/lmms-eval", "rec/vlmevalkit")
GREC_PROTOCOLS = ("grec/grefcoco", "grec/iou")
LAYOUTS = {"square": (0, 0), "wide": (0, 144), "tall": (96, 0)}  # rows, columns of zero padding
CONFIGS = {"refcoco_unc": "rec", "grefcoco_unc": "grec"}


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from datasets_builders.build import build_dataset
    from datasets_builders.synth import write_synth

    root = tmp_path_factory.mktemp("synth")
    src = write_synth(root / "src", images=10, seed=3)
    build_dataset(src, root / "data", quiet=True)
    return root


def _targets_file(synth, config: str, layout: str):
    """The val split as a targets file, images padded at the bottom / right (boxes unchanged)."""
    from baselines.rows import iter_rows

    path = synth / f"{config}-{layout}.jsonl"
    if not path.exists():
        pad_h, pad_w = LAYOUTS[layout]
        with open(path, "w") as f:
            for row in iter_rows(synth / "data", config, "val"):
                dense = np.pad(rle.decode(row["mask"]), ((0, pad_h), (0, pad_w)))
                out = {k: row[k] for k in ("expr_id", "no_target", "target_type", "ref_id", "sentence")}
                out.update(height=row["height"] + pad_h, width=row["width"] + pad_w, mask=rle.encode(dense))
                out["targets"] = [{k: t[k] for k in ("ann_id", "bbox", "iscrowd")} for t in row["targets"]]
                f.write(json.dumps(out) + "\n")
    return path


def _xyxy(b):
    return [b[0], b[1], b[0] + b[2], b[1] + b[3]]


def _iou_floor(box, q):
    """Least IoU of ``box`` (xyxy) with any box whose corners moved by at most ``q = (qx, qy)``."""
    w, h = box[2] - box[0], box[3] - box[1]
    inner = max(w - 2 * q[0], 0) * max(h - 2 * q[1], 0)
    return inner / ((w + 2 * q[0]) * (h + 2 * q[1]))


def _giou_floor(box, q):
    """Least generalized IoU: the IoU floor minus the largest share of the enclosing box outside the
    union (enclosing box <= the grown box, union >= the true box)."""
    w, h = box[2] - box[0], box[3] - box[1]
    grown = (w + 2 * q[0]) * (h + 2 * q[1])
    return _iou_floor(box, q) - (1 - w * h / grown)


def _answers(family: str, targets, coords=None):
    out = []
    for t in targets:
        boxes = [_xyxy(b) for b in t.boxes.tolist()]
        text = render_answer(family, boxes, ImageSize(t.width, t.height), coords=coords)
        decoder = tuple(tuple(b) for b in boxes) if family == "ref-vlm" else None
        out.append(Answer(t.expr_id, text, "<rendered>", boxes=decoder))
    return out


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(
    ("family", "coords", "config"), CASES, ids=[f"{f}-{c or ''}-{g}" for f, c, g in CASES]
)
def test_round_trip(synth, family, coords, config, layout):
    task = CONFIGS[config]
    path = _targets_file(synth, config, layout)
    targets = list(iter_targets(path))
    assert any(t.no_target for t in targets) == (task == "grec")
    records, report = adapt_answers(family, _answers(family, targets, coords), targets, coords=coords)
    assert not report.parse_failures
    assert report.convention_warnings == []
    assert report.no_target_answers == sum(t.no_target for t in targets)
    floors, gfloors, centre_ok = [], [], True
    for t, rec in zip(targets, records):
        q = render_quantum(family, ImageSize(t.width, t.height), coords)
        got = [_xyxy(i["bbox"]) for i in rec["instances"]]
        want = [_xyxy(b) for b in t.boxes.tolist()]
        assert len(got) == len(want)
        assert rec["no_target"] == t.no_target
        for g, w in zip(got, want):
            assert abs(g[0] - w[0]) <= q[0], (t.expr_id, g, w, q)
            assert abs(g[2] - w[2]) <= q[0], (t.expr_id, g, w, q)
            assert abs(g[1] - w[1]) <= q[1], (t.expr_id, g, w, q)
            assert abs(g[3] - w[3]) <= q[1], (t.expr_id, g, w, q)
            floors.append(_iou_floor(w, q))
            gfloors.append(_giou_floor(w, q))
            centre_ok &= (w[2] - w[0]) > 2 * q[0] and (w[3] - w[1]) > 2 * q[1]
    checked = 0
    for protocol in REC_PROTOCOLS if task == "rec" else GREC_PROTOCOLS:
        metrics = evaluate(task, records, path, protocol=protocol)["metrics"]
        # generalized IoU (rec/giou, float32) is only guaranteed its own, lower floor
        lows = gfloors if protocol == "rec/giou" else floors
        for key, value in metrics.items():
            if "@" in key:
                t = 0.5 if key == "prec@1" else float(key.split("@")[1])
                if min(lows) >= t + (1e-6 if protocol == "rec/giou" else 0):
                    assert value == 100.0, (protocol, key, value)
                    checked += 1
            elif key == "miou":
                assert value >= 100 * float(np.mean(lows)) - 1e-4, (protocol, value)
            elif key == "center_acc" and centre_ok:
                assert value == 100.0
            elif key in ("n_acc", "t_acc"):
                assert value == 100.0, (protocol, key, value)
            elif key == "f1_score" and min(gfloors) >= 0.5 + 1e-6:  # float32 GIoU matching at 0.5
                assert value == 100.0
                checked += 1
    assert checked or family in COARSE, "no metric was guaranteed: the bound is too loose to test"


def _x_first_locs(t) -> str:
    """PaliGemma-style tokens written x first (the classic mistake): <locX1><locY1><locX2><locY2>."""
    x1, y1, x2, y2 = _xyxy(t.boxes[0].tolist())
    v = (x1 / t.width, y1 / t.height, x2 / t.width, y2 / t.height)
    return "".join(f"<loc{round(c * 1024):04d}>" for c in v) + " x"


@pytest.mark.parametrize(
    ("rendered", "declared", "evidence"),
    [
        (("generic", "norm1"), ("generic", "norm1000"), "within [0, 1]"),
        (("qwen-vl", None), ("generic", "norm1"), "above 1"),
        (("ferret", None), ("generic", "pixel"), "read as norm1000"),
        (("generic", "pixel"), ("generic", "norm1000"), "read as pixel"),
        (("generic", "pixel"), ("lmms-eval", None), "above 1"),
        ("swapped", ("generic", "pixel"), "x and y swapped"),
        ("x-first", ("paligemma", None), "x and y swapped"),
    ],
)
def test_convention_check_fires_on_the_wrong_convention(synth, rendered, declared, evidence):
    path = _targets_file(synth, "refcoco_unc", "wide")
    targets = list(iter_targets(path))
    if rendered == "swapped":
        answers = [
            Answer(t.expr_id, "[{1}, {0}, {3}, {2}]".format(*_xyxy(t.boxes[0].tolist())), "<r>")
            for t in targets
        ]
    elif rendered == "x-first":
        answers = [Answer(t.expr_id, _x_first_locs(t), "<r>") for t in targets]
    else:
        answers = _answers(rendered[0], targets, rendered[1])
    _, report = adapt_answers(declared[0], answers, targets, coords=declared[1])
    assert not report.parse_failures
    assert any(evidence in w for w in report.convention_warnings), report.convention_warnings


def test_convention_check_quiet_on_the_right_one(synth):
    path = _targets_file(synth, "refcoco_unc", "tall")
    targets = list(iter_targets(path))
    for family, coords in (
        ("qwen-vl", None),
        ("generic", "norm1"),
        ("generic", "pixel"),
        ("qwen2.5-vl", None),
    ):
        text_family = family if family != "generic" else "generic"
        answers = [
            Answer(
                t.expr_id,
                render_answer(
                    text_family, [_xyxy(t.boxes[0].tolist())], ImageSize(t.width, t.height), coords=coords
                ),
                "<r>",
            )
            for t in targets
        ]
        _, report = adapt_answers(family, answers, targets, coords=coords)
        assert report.convention_warnings == [], (family, coords, report.convention_warnings)
