"""Tokenizer id layout (fairseq offset) and the input transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from instancevg.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Tokenizer
from instancevg.transforms import MEAN, STD, boxes_xywh_to_cxcywh_norm, preprocess_image, resize_mask

CORPUS = [
    f"the {c} {s} on the {side}"
    for c in ("red", "blue", "green")
    for s in ("square", "circle")
    for side in ("left", "right")
]


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("tok") / "spm"
    return Tokenizer.train(CORPUS * 5, prefix, vocab_size=200)


def test_fairseq_layout(tok):
    ids, pad = tok.encode_batch(["the red square", "the blue circle on the left", ""], max_len=6)
    assert ids.shape == pad.shape == (3, 6)
    raw = tok._sp.EncodeAsIds("the red square")
    n = len(raw)
    assert ids[0, 0] == BOS_ID
    assert ids[0, n + 1] == EOS_ID
    assert ids[0, 1 : n + 1].tolist() == [i + 1 for i in raw]
    assert (ids[0, n + 2 :] == PAD_ID).all()
    assert pad[0].tolist() == [False] * (n + 2) + [True] * (4 - n)
    assert ids[1, -1] == EOS_ID  # truncated to L-2 pieces
    assert not pad[1].any()
    assert ids[2, :2].tolist() == [BOS_ID, EOS_ID]
    assert pad[2, 2:].all()
    assert int(ids.max()) < tok.vocab_size


def test_unknown_characters_map_to_unk(tok):
    ids = tok.encode("zzz")
    assert UNK_ID in ids


def test_save_and_reload(tok, tmp_path):
    tok.save(tmp_path / "x.model")
    again = Tokenizer.from_file(tmp_path / "x.model")
    assert again.encode_batch(CORPUS[:3], 10)[0].equal(tok.encode_batch(CORPUS[:3], 10)[0])
    assert again.vocab_size == tok.vocab_size


def test_preprocess_image_normalises_rgb():
    img = Image.fromarray(np.full((10, 20, 3), [255, 0, 128], dtype=np.uint8))
    x = preprocess_image(img, 16)
    assert x.shape == (3, 16, 16)
    expected = (torch.tensor([255.0, 0.0, 128.0]) - torch.tensor(MEAN)) / torch.tensor(STD)
    torch.testing.assert_close(x[:, 5, 5], expected)


def test_resize_mask_nearest():
    m = np.zeros((4, 8), dtype=bool)
    m[:, 4:] = True
    r = resize_mask(m, 8)
    assert r.shape == (8, 8)
    assert set(r.unique().tolist()) <= {0.0, 1.0}
    assert r[:, 4:].all()
    assert not r[:, :4].any()


def test_boxes_to_normalised_cxcywh():
    out = boxes_xywh_to_cxcywh_norm([[10, 20, 30, 40]], h=100, w=200)
    torch.testing.assert_close(out, torch.tensor([[25 / 200, 40 / 100, 30 / 200, 40 / 100]]))
    assert boxes_xywh_to_cxcywh_norm(np.zeros((0, 4)), 5, 5).shape == (0, 4)


def test_boxes_are_clamped_to_the_image_before_normalising():
    # x from -10 to 20 in a 100 x 100 image: the visible part is x 0..20 (centre 10, width 20), not the
    # normalised (cx, w) = (0.05, 0.3) that clamping after normalising would keep
    out = boxes_xywh_to_cxcywh_norm([[-10, 0, 30, 50], [90, 90, 40, 40]], h=100, w=100)
    torch.testing.assert_close(out, torch.tensor([[0.1, 0.25, 0.2, 0.5], [0.95, 0.95, 0.1, 0.1]]))
    assert out.dtype == torch.float32


def test_whole_words_on_a_toy_grammar(tok):
    assert len(tok.encode("the red square")) == 3


def test_too_small_a_vocabulary_is_an_input_error(tmp_path):
    from evaluators.errors import InputError

    with pytest.raises(InputError, match="vocab_size"):
        Tokenizer.train(CORPUS, tmp_path / "t", vocab_size=10)
