"""RLE helpers: round trips, uncompressed conversion, malformed input, differential tests vs pycocotools,
and the real COCO polygons / RLE strings of tests/data/realdata/coco/."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as coco_mask

from evaluators import rle

REALDATA = Path(__file__).resolve().parents[1] / "data" / "realdata" / "coco"
masks = st.tuples(st.integers(1, 24), st.integers(1, 24)).flatmap(
    lambda s: arrays(np.uint8, s, elements=st.integers(0, 1))
)


@settings(max_examples=60, deadline=None)
@given(dense=masks)
def test_encode_decode_round_trip_and_area(dense):
    encoded = rle.encode(dense)
    assert isinstance(encoded["counts"], str)
    assert encoded["size"] == list(dense.shape)
    assert np.array_equal(rle.decode(encoded), dense)
    assert rle.area(encoded) == int(dense.sum())
    assert rle.normalize(encoded) == encoded
    assert int(rle.run_lengths(encoded["counts"]).sum()) == dense.size


@settings(max_examples=60, deadline=None)
@given(dense=masks)
def test_uncompressed_counts_convert(dense):
    flat = dense.flatten(order="F")
    runs, current, length = [], 0, 0
    for v in flat:
        if v != current:
            runs.append(length)
            current, length = v, 0
        length += 1
    runs.append(length)
    converted = rle.normalize({"size": list(dense.shape), "counts": runs})
    assert converted == rle.encode(dense)


@settings(max_examples=60, deadline=None)
@given(
    pair=st.tuples(st.integers(1, 20), st.integers(1, 20)).flatmap(
        lambda s: st.tuples(
            arrays(np.uint8, s, elements=st.integers(0, 1)), arrays(np.uint8, s, elements=st.integers(0, 1))
        )
    )
)
def test_intersection_union_matches_dense_and_pycocotools(pair):
    a, b = pair
    inter, union = rle.intersection_union(rle.encode(a), rle.encode(b))
    assert inter == int((a & b).sum())
    assert union == int((a | b).sum())
    ra, rb = coco_mask.encode(np.asfortranarray(a)), coco_mask.encode(np.asfortranarray(b))
    if union:
        assert inter / union == pytest.approx(coco_mask.iou([ra], [rb], [0])[0, 0])
    merged = rle.union([rle.encode(a), rle.encode(b)], *a.shape)
    assert np.array_equal(rle.decode(merged), a | b)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"size": [2, 2], "counts": ""}, "cover 0 pixels"),
        ({"size": [2, 2], "counts": "zz"}, "alphabet"),
        ({"size": [2, 2], "counts": "0`"}, "ends inside"),
        ({"size": [2, 2], "counts": "O"}, "negative"),
        ({"size": [2, 2], "counts": [1, 2]}, "sum to 3"),
        ({"size": [2, 2], "counts": [1, -1, 4]}, "non-negative"),
        ({"size": [2], "counts": "4"}, "size"),
        ({"size": [2, 2], "counts": 4}, "string or a list"),
        ({"counts": "4"}, "'size' and 'counts'"),
        ({"size": [2, 2], "counts": "é"}, "alphabet"),
    ],
)
def test_malformed_rle_is_refused(bad, reason):
    with pytest.raises(ValueError, match=reason):
        rle.normalize(bad)


@pytest.mark.skipif(not REALDATA.exists(), reason="tests/data/realdata not present")
def test_real_rle_strings_decode_consistently():
    results = json.loads((REALDATA / "fakesegm_results_rle_excerpt.json").read_text())
    assert len(results) == 68
    for r in results:
        seg = r["segmentation"]
        ours = rle.normalize(seg)
        dense = coco_mask.decode({"size": seg["size"], "counts": seg["counts"].encode()})
        assert rle.area(ours) == int(dense.sum())
        assert int(rle.run_lengths(ours["counts"]).sum()) == dense.size
        assert np.array_equal(rle.decode(ours), dense)


@pytest.mark.skipif(not REALDATA.exists(), reason="tests/data/realdata not present")
def test_real_polygons_and_crowd_rle_match_pycocotools():
    data = json.loads((REALDATA / "instances_val2014_excerpt.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    kinds = {"polygon": 0, "crowd": 0}
    for ann in data["annotations"]:
        im = images[ann["image_id"]]
        h, w = im["height"], im["width"]
        seg = ann["segmentation"]
        if isinstance(seg, list):
            ours = rle.from_polygons(seg, h, w)
            ref = coco_mask.merge(coco_mask.frPyObjects(seg, h, w))
            kinds["polygon"] += 1
        else:
            ours = rle.normalize(seg)
            ref = coco_mask.frPyObjects(seg, h, w)
            kinds["crowd"] += 1
        assert np.array_equal(rle.decode(ours), coco_mask.decode(ref))
        assert rle.area(ours) == int(coco_mask.area(ref))
    assert kinds == {"polygon": 75, "crowd": 2}


@pytest.mark.skipif(not REALDATA.exists(), reason="tests/data/realdata not present")
def test_real_masks_score_like_dense_reference():
    """GRES I/U of the real fake-results masks against the polygons of the same image, RLE vs dense."""
    data = json.loads((REALDATA / "instances_val2014_excerpt.json").read_text())
    results = json.loads((REALDATA / "fakesegm_results_rle_excerpt.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    anns = [a for a in data["annotations"] if isinstance(a["segmentation"], list)]
    checked = 0
    for r in results:
        im = images[r["image_id"]]
        gts = [a for a in anns if a["image_id"] == r["image_id"] and a["category_id"] == r["category_id"]]
        if not gts:
            continue
        gt = rle.from_polygons(gts[0]["segmentation"], im["height"], im["width"])
        pred = rle.normalize(r["segmentation"])
        inter, union = rle.intersection_union(pred, gt)
        dp, dg = rle.decode(pred).astype(bool), rle.decode(gt).astype(bool)
        assert (inter, union) == (int((dp & dg).sum()), int((dp | dg).sum()))
        checked += 1
    assert checked >= 20


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(min_codepoint=40, max_codepoint=115), max_size=12), max_size=6)
)
def test_c_accelerator_agrees_with_numpy_parser(strings):
    """Totals and errors of the optional C parser equal the numpy parser's, on valid and junk strings."""

    def outcome(fn):
        try:
            return list(fn(strings))
        except rle.CountsError as exc:
            return ("error", exc.index)  # the reason may differ when a string has two defects

    numpy_outcome = outcome(rle.counts_totals_numpy)
    if rle._rlecount is None:
        pytest.skip("C accelerator not built")
    assert outcome(rle.counts_totals) == numpy_outcome


def test_counts_totals_of_real_strings_both_parsers():
    rng = np.random.default_rng(0)
    strings, sizes = [], []
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        strings.append(rle.encode(rng.random((h, w)) < rng.random())["counts"])
        sizes.append(h * w)
    assert list(rle.counts_totals(strings)) == sizes
    assert list(rle.counts_totals_numpy(strings)) == sizes
