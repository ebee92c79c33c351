"""COCO instances and annotation masks, checked pixel for pixel against pycocotools on real data."""

import json

import numpy as np
import pytest
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from datasets_builders.coco import annotation_mask, image_folder, load_instances
from evaluators import rle
from evaluators.errors import InputError
from tests.datasets_builders.realdata import COCO_EXCERPT, RLE_RESULTS, needs_realdata


@needs_realdata
def test_real_excerpt_masks_equal_pycocotools(capsys):
    index = load_instances(COCO_EXCERPT)
    coco = COCO(str(COCO_EXCERPT))
    capsys.readouterr()
    kinds = {"polygon": 0, "multipart": 0, "crowd": 0}
    for ann_id, ann in index.anns.items():
        image = index.images[ann["image_id"]]
        ours = annotation_mask(ann, image.height, image.width)
        theirs = coco.annToRLE(coco.anns[ann_id])
        assert ours["size"] == [image.height, image.width]
        assert ours["counts"] == theirs["counts"].decode("ascii")
        assert np.array_equal(rle.decode(ours), coco_mask.decode(theirs))
        if ann["iscrowd"]:
            kinds["crowd"] += 1
            assert isinstance(ann["segmentation"]["counts"], list)
        else:
            kinds["polygon"] += 1
            kinds["multipart"] += len(ann["segmentation"]) > 1
    assert kinds["polygon"] == 75
    assert kinds["crowd"] == 2
    assert kinds["multipart"] > 0
    assert index.images[192].file_name == "val2014/COCO_val2014_000000000192.jpg"
    assert len(index.categories) == 80


@needs_realdata
def test_compressed_rle_is_kept_and_checked():
    results = json.loads(RLE_RESULTS.read_text())
    for r in results[:10]:
        h, w = r["segmentation"]["size"]
        assert annotation_mask(r, h, w) == {"size": [h, w], "counts": r["segmentation"]["counts"]}
    r = results[0]
    with pytest.raises(InputError, match="differs from the image size"):
        annotation_mask(r, 10, 10, "x.json:annotation 1")


def test_polygon_parts_are_ored_not_summed():
    square = [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]
    shifted = [5.0, 0.0, 15.0, 0.0, 15.0, 10.0, 5.0, 10.0]
    m = annotation_mask({"segmentation": [square, shifted]}, 20, 20)
    one = coco_mask.frPyObjects([square, shifted], 20, 20)
    assert np.array_equal(rle.decode(m), coco_mask.decode(coco_mask.merge(one)))
    assert rle.decode(m).max() == 1


def test_bad_segmentation_and_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="segmentation"):
        annotation_mask({"segmentation": 3}, 5, 5, "f.json:annotation 9")
    bad = tmp_path / "instances.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_instances(bad)
    bad.write_text(json.dumps({"images": [{"id": 1}]}))
    with pytest.raises(InputError, match=r"images\[0\]"):
        load_instances(bad)
    assert image_folder("COCO_train2014_000000000001.jpg") == "train2014"
