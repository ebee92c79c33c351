"""Property tests: crowd RLE written by synth and read by the builder agree with pycocotools."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as coco_mask

from datasets_builders.coco import annotation_mask
from datasets_builders.synth_scene import _uncompressed_rle
from evaluators import rle


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 1)))
def test_uncompressed_rle_round_trips_like_pycocotools(dense):
    h, w = dense.shape
    unc = _uncompressed_rle(dense)
    assert sum(unc["counts"]) == h * w
    ours = annotation_mask({"segmentation": unc}, h, w)
    theirs = coco_mask.frPyObjects(unc, h, w)
    assert ours["counts"] == theirs["counts"].decode("ascii")
    assert np.array_equal(rle.decode(ours), dense)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0, 30, allow_nan=False), min_size=6, max_size=12), min_size=1, max_size=3))
def test_polygons_match_pycocotools_annToRLE(parts):
    parts = [p[: len(p) // 2 * 2] for p in parts]
    ours = annotation_mask({"segmentation": parts}, 32, 24)
    theirs = coco_mask.merge(coco_mask.frPyObjects(parts, 32, 24))
    assert np.array_equal(rle.decode(ours), coco_mask.decode(theirs))
