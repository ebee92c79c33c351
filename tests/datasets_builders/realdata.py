"""Paths of the real annotation excerpts (tests/data/realdata, described in tests/data/README.md)."""

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[1] / "data" / "realdata"

COCO_EXCERPT = REALDATA / "coco" / "instances_val2014_excerpt.json"
RLE_RESULTS = REALDATA / "coco" / "fakesegm_results_rle_excerpt.json"
REFER_CSV = REALDATA / "refer_csv"
REFER_DOCS = REALDATA / "refer_docs" / "refcoco_readme_records.json"

needs_realdata = pytest.mark.skipif(not COCO_EXCERPT.is_file(), reason="real data excerpts not available")
