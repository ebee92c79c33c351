"""Ref-ZOM zero (no-target) refs: synth writes them as the real refs(final).p does (an existing
annotation id, which the official DMMI loader needs), and the builder reads both that and ``-1``."""

from __future__ import annotations

import json
import pickle

from datasets_builders.sources import read_refs
from datasets_builders.unpickle import load_pickle


def test_synth_zero_refs_name_an_existing_annotation(synth_src):
    refs = load_pickle(synth_src / "ref-zom" / "refs(final).p")
    coco = json.loads((synth_src / "ref-zom" / "instances.json").read_text())
    anns = {a["id"]: a for a in coco["annotations"]}
    zero = [r for r in refs if r["source"] == "zero"]
    assert zero
    for r in zero:
        assert isinstance(r["ann_id"], int)
        assert r["ann_id"] in anns
        assert anns[r["ann_id"]]["image_id"] == r["image_id"]  # the official loader indexes refToAnn


def test_builder_reads_zero_refs_both_ways(tmp_path):
    sent = {"sent_id": 1, "sent": "nothing here", "raw": "nothing here", "tokens": ["nothing", "here"]}
    base = {
        "ref_id": 0,
        "image_id": 5,
        "split": "test",
        "category_id": 1,
        "source": "zero",
        "sentences": [sent],
    }
    for ann_id in (-1, 42, [42, 43]):
        path = tmp_path / "refs(final).p"
        path.write_bytes(pickle.dumps([{**base, "ann_id": ann_id}], protocol=2))
        (ref,) = read_refs(path, "refzom")
        assert ref.no_target
        assert ref.ann_ids == ()
