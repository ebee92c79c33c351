"""Paths of the real annotation excerpts (see /work/shared/realdata/README.md)."""

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
if not REALDATA.is_dir():  # the checkout may live elsewhere; the workplace keeps the excerpts here
    REALDATA = Path("/work/shared/realdata")

COCO_EXCERPT = REALDATA / "coco" / "instances_val2014_excerpt.json"
RLE_RESULTS = REALDATA / "coco" / "fakesegm_results_rle_excerpt.json"
REFER_CSV = REALDATA / "refer_csv"
REFER_DOCS = REALDATA / "refer_docs" / "refcoco_readme_records.json"

needs_realdata = pytest.mark.skipif(not COCO_EXCERPT.is_file(), reason="real data excerpts not available")
