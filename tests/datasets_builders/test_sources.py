"""Readers of every refs format normalise to `Ref` (docs/formats.md#source-files)."""

import json
import pickle

import pytest

from datasets_builders.sources import read_refs
from evaluators.errors import InputError


def _sent(i, **extra):
    return {"tokens": ["a", "b"], "raw": "A b", "sent_id": i, "sent": "a b", **extra}


def _ref(ref_id, ann_id, sents, **extra):
    return {"ref_id": ref_id, "image_id": 5, "split": "val", "ann_id": ann_id, "sentences": sents, **extra}


def _write(tmp_path, name, refs):
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(refs))
    else:
        path.write_bytes(pickle.dumps(refs, protocol=2))
    return path


def test_grefcoco_lists_scalars_and_no_target(tmp_path):
    refs = [
        _ref(0, [1, 2], [_sent(0)]),
        _ref(1, 3, [_sent(1)]),  # a scalar is wrapped
        _ref(2, [-1], [_sent(2)], no_target=True, category_id=[-1]),
        _ref(3, [-1], [_sent(3)]),  # [-1] alone marks no-target
    ]
    for name in ("grefs(unc).json", "grefs(unc).p"):
        out = read_refs(_write(tmp_path, name, refs), "grefcoco")
        assert [r.ann_ids for r in out] == [(1, 2), (3,), (), ()]
        assert [r.no_target for r in out] == [False, False, True, True]


def test_refzom_zero_source_and_int_or_list(tmp_path):
    refs = [
        _ref(0, 7, [_sent(0)], source="one"),
        _ref(1, [7, 8], [_sent(1)], source="many"),
        _ref(2, -1, [_sent(2)], source="zero"),
    ]
    out = read_refs(_write(tmp_path, "refs(final).p", refs), "refzom")
    assert [(r.ann_ids, r.no_target) for r in out] == [((7,), False), ((7, 8), False), ((), True)]


def test_rrefcoco_negatives(tmp_path):
    refs = [_ref(0, 4, [_sent(0), _sent(1, exist=True), _sent(2, exist=False)])]
    (ref,) = read_refs(_write(tmp_path, "refs(unc).p", refs), "rrefcoco")
    assert [s.exists for s in ref.sentences] == [True, True, False]
    assert not ref.no_target


def test_refer_sentences_keep_text(tmp_path):
    (ref,) = read_refs(_write(tmp_path, "refs(unc).p", [_ref(9, 4, [_sent(3)])]), "refer")
    assert (ref.ref_id, ref.image_id, ref.split, ref.ann_ids) == (9, 5, "val", (4,))
    s = ref.sentences[0]
    assert (s.sent_id, s.sent, s.raw, s.tokens, s.exists) == (3, "a b", "A b", ("a", "b"), True)


@pytest.mark.parametrize(
    ("refs", "kind", "match"),
    [
        ([_ref(0, [1, 2], [_sent(0)])], "refer", r"\[0\]: ann_id"),
        ([{"ref_id": 0}], "refer", r"\[0\]: image_id: missing"),
        ([_ref(0, 1, [{"sent": "x"}])], "refer", r"sentences\[0\]: sent_id: missing"),
        ([_ref(0, "one", [_sent(0)])], "grefcoco", "ann_id: expected an integer"),
        ([_ref(0, [], [_sent(0)])], "grefcoco", "needs annotation ids"),
        ({"not": "a list"}, "refer", "expected a list of refs"),
    ],
)
def test_malformed_refs_name_file_record_field(tmp_path, refs, kind, match):
    path = _write(tmp_path, "refs(unc).p", refs)
    with pytest.raises(InputError, match=match) as info:
        read_refs(path, kind)
    assert "refs(unc).p" in str(info.value)
