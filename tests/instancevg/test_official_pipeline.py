"""The official InstanceVG test-time input pipeline (``instancevg.official.preprocess``).

Data in ``data/official/`` (see its README.md): ``tiny_inputs.npz`` / ``tiny_img_metas.json`` are what the official
transforms (mmcv decode + ``Resize((128, 128), keep_ratio=False)`` + ``Normalize``) made of two raw BGR images;
``beit3_tokenizer_expected.json`` holds the ids and masks the official call path (transformers 4.44.2's slow
``XLMRobertaTokenizer`` + the official cleaning / truncation / bos / eos / padding) gave on 228 expressions with the
SentencePiece model ``toy_unigram.model`` trained here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import instancevg.official.preprocess as pp
from evaluators.errors import InputError
from instancevg.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Tokenizer, clean_text

DATA = Path(__file__).parent / "data" / "official"


@pytest.fixture(scope="module")
def tiny():
    with np.load(DATA / "tiny_inputs.npz") as d:
        arrays = {k: d[k] for k in d.files}
    metas = json.loads((DATA / "tiny_img_metas.json").read_text())
    return arrays, metas


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.from_file(DATA / "toy_unigram.model")


@pytest.fixture(scope="module")
def expected():
    return json.loads((DATA / "beit3_tokenizer_expected.json").read_text(encoding="utf-8"))


@pytest.fixture(params=["cv2", "no-cv2"])
def backend(request, monkeypatch):
    """Run a test with OpenCV and with the fallback (Pillow decoding, numpy resize)."""
    if request.param == "cv2":
        pytest.importorskip("cv2")
    else:
        monkeypatch.setattr(pp, "have_cv2", lambda: False)
    return request.param


def _check_meta(meta, official):
    assert list(meta["ori_shape"]) == official["ori_shape"]
    assert list(meta["img_shape"]) == official["img_shape"]
    assert list(meta["pad_shape"]) == official["pad_shape"]
    assert meta["scale_factor"].dtype == np.float32
    np.testing.assert_array_equal(
        meta["scale_factor"], np.asarray(official["scale_factor"], dtype=np.float32)
    )


# ---------------------------------------------------------------- images


@pytest.mark.parametrize("i", [0, 1])
def test_raw_arrays_give_the_official_input_exactly(tiny, backend, i):
    arrays, metas = tiny
    img, meta = pp.official_image(arrays[f"raw_image{i}_bgr"], 128)
    assert img.dtype == torch.float32
    assert img.shape == (3, 128, 128)
    np.testing.assert_array_equal(img.numpy(), arrays["img"][i])  # bit-equal, not only close
    _check_meta(meta, metas[i])
    assert meta["filename"] is None


@pytest.mark.parametrize("i", [0, 1])
def test_png_file_decodes_to_the_official_input(tiny, backend, tmp_path, i):
    cv2 = pytest.importorskip("cv2")
    arrays, metas = tiny
    path = tmp_path / f"random_{i}.png"
    assert cv2.imwrite(str(path), arrays[f"raw_image{i}_bgr"])
    img, meta = pp.official_image(path, 128)
    np.testing.assert_array_equal(img.numpy(), arrays["img"][i])
    _check_meta(meta, metas[i])
    assert meta["filename"] == str(path)
    img_b, _ = pp.official_image(path.read_bytes(), 128)  # encoded bytes too
    np.testing.assert_array_equal(img_b.numpy(), arrays["img"][i])


def test_jpeg_file_decodes_as_mmcv_imread(tiny, tmp_path):
    """mmcv's ``imfrombytes(flag="color")`` is ``cv2.imdecode(IMREAD_COLOR)``; Pillow agrees within a grey level."""
    cv2 = pytest.importorskip("cv2")
    raw = tiny[0]["raw_image0_bgr"]
    path = tmp_path / "x.jpg"
    assert cv2.imwrite(str(path), raw, [cv2.IMWRITE_JPEG_QUALITY, 80])
    ref = cv2.imread(str(path), cv2.IMREAD_COLOR)
    got = pp.decode_image(path)
    assert got.dtype == np.uint8
    assert got.shape == raw.shape
    np.testing.assert_array_equal(got, ref)
    assert not np.array_equal(got, raw)  # JPEG is lossy: the file, not the array, was decoded
    pil = pp.decode_image(path, backend="pil")
    assert np.abs(pil.astype(int) - ref.astype(int)).max() <= 1
    img, _ = pp.official_image(path, 320)
    want = pp.normalize_image(cv2.resize(ref, (320, 320), interpolation=cv2.INTER_LINEAR))
    np.testing.assert_array_equal(img.numpy(), want)


def test_exif_orientation_grey_and_alpha_as_opencv(tmp_path):
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    data = buf.getvalue()
    a, b = pp.decode_image(data, backend="cv2"), pp.decode_image(data, backend="pil")
    assert a.shape == b.shape == (50, 30, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    for mode, arr in (("L", rgb[..., 0]), ("RGBA", np.dstack([rgb, rgb[..., :1]]))):
        buf = io.BytesIO()
        Image.fromarray(arr, mode).save(buf, "PNG")
        a, b = pp.decode_image(buf.getvalue(), backend="cv2"), pp.decode_image(buf.getvalue(), backend="pil")
        assert a.shape == (30, 50, 3)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(
            a, cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
        )


def test_numpy_resize_is_opencv_bilinear():
    """The fallback re-implements OpenCV's fixed-point INTER_LINEAR: equal to ``cv2.resize`` on uint8."""
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    shapes = [(100, 160, 128, 128), (140, 120, 128, 128), (480, 640, 320, 320), (640, 640, 320, 320)]
    shapes += [(50, 60, 320, 320), (320, 320, 320, 320), (1, 7, 5, 3), (7, 1, 2, 9), (333, 517, 321, 97)]
    shapes += [(*(int(v) for v in rng.integers(1, 700, 2)), 320, 320) for _ in range(12)]
    shapes += [tuple(int(v) for v in rng.integers(1, 400, 4)) for _ in range(12)]
    for h, w, oh, ow in shapes:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        want = cv2.resize(img, (ow, oh), interpolation=cv2.INTER_LINEAR)
        got = pp.resize_linear(img, ow, oh, backend="numpy")
        np.testing.assert_array_equal(got, want, err_msg=f"{h}x{w} -> {oh}x{ow}")
    grey = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    np.testing.assert_array_equal(
        pp.resize_linear(grey, 20, 90, backend="numpy"),
        cv2.resize(grey, (20, 90), interpolation=cv2.INTER_LINEAR),
    )


def test_normalisation_is_mmcv_imnormalize():
    rng = np.random.default_rng(1)
    bgr = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    got = pp.normalize_image(bgr)
    assert got.dtype == np.float32
    assert got.shape == (3, 9, 11)
    rgb = bgr[..., ::-1].astype(np.float64)
    ref = ((rgb - np.array(pp.MEAN)) / np.array(pp.STD)).transpose(2, 0, 1)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    cv2 = pytest.importorskip("cv2")
    x = bgr.astype(np.float32)  # mmcv.imnormalize_: in-place OpenCV ops on float32
    cv2.cvtColor(x, cv2.COLOR_BGR2RGB, x)
    cv2.subtract(x, np.float64(np.array(pp.MEAN, np.float32).reshape(1, -1)), x)
    cv2.multiply(x, 1 / np.float64(np.array(pp.STD, np.float32).reshape(1, -1)), x)
    if int(cv2.__version__.split(".")[0]) == 4:  # the OpenCV of mmcv and the official code: bit for bit
        np.testing.assert_array_equal(got, x.transpose(2, 0, 1))
    else:  # OpenCV 5 rounds the scaled product differently (2e-7); the official numbers are OpenCV 4's
        np.testing.assert_allclose(got, x.transpose(2, 0, 1), rtol=0, atol=1e-6)


def test_rgb_arrays_grey_arrays_and_pil_images(tiny):
    raw = tiny[0]["raw_image0_bgr"]
    want, _ = pp.official_image(raw, 64)
    for image, order in ((raw[..., ::-1], "rgb"), (Image.fromarray(raw[..., ::-1]), "bgr")):
        got, _ = pp.official_image(image, 64, channel_order=order)
        assert torch.equal(got, want)
    grey = raw[..., 1]
    got, meta = pp.official_image(grey, 64)
    assert torch.equal(got, pp.official_image(np.dstack([grey] * 3), 64)[0])
    assert meta["ori_shape"] == (100, 160, 3)


def test_bad_images_are_input_errors(tmp_path):
    with pytest.raises(InputError, match=r"missing\.jpg: cannot read image"):
        pp.official_image(tmp_path / "missing.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    for backend in ("auto", "pil"):
        with pytest.raises(InputError, match=r"bad\.jpg: cannot decode image"):
            pp.decode_image(bad, backend=backend)
    with pytest.raises(InputError, match=r"expected an \[H, W, 3\] array"):
        pp.official_image(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(InputError, match="expected uint8"):
        pp.official_image(np.zeros((4, 4, 3), np.float32))


# ---------------------------------------------------------------- text


def test_special_ids_are_the_official_ones(tok, expected):
    bos, eos, pad, unk, mask = expected["bos_eos_pad_unk_mask"]
    assert (bos, eos, pad, unk) == (BOS_ID, EOS_ID, PAD_ID, UNK_ID)
    assert mask == tok.mask_id == tok.vocab_size - 1


@pytest.mark.parametrize("max_token", [20, 50])
def test_token_ids_equal_the_official_tokenizer(tok, expected, max_token):
    cases = expected["cases"]
    assert len(cases) >= 200
    kinds = {"truncated": 0, "empty": 0, "unk": 0, "special": 0}
    for case in cases:
        want = case[f"max_token_{max_token}"]
        if want is None:  # the official loader raises: nothing left after cleaning
            kinds["empty"] += 1
            with pytest.raises(InputError, match="no token left after cleaning"):
                pp.official_tokens(case["text"], tok, max_token)
            continue
        ids, pad_mask = pp.official_tokens(case["text"], tok, max_token)
        assert ids.dtype == torch.long
        assert pad_mask.dtype == torch.bool
        assert ids.shape == (max_token,)
        assert ids.tolist() == want["ids"], repr(case["text"])
        assert pad_mask.tolist() == [bool(m) for m in want["text_attention_mask"]], repr(case["text"])
        kinds["truncated"] += not pad_mask.any()
        kinds["unk"] += UNK_ID in want["ids"][1:]
        kinds["special"] += any(i in (BOS_ID, tok.mask_id) for i in want["ids"][1:])
    assert all(n > 0 for n in kinds.values()), kinds  # the data covers every special case


def test_encode_unchanged_on_ordinary_expressions(tok, expected):
    """Backward compatible: on text without special-token strings or control characters, ``encode`` gives the
    ids of the former ``EncodeAsIds(clean_text(text))`` path (vgbench-trained models are unaffected)."""
    n = 0
    for case in expected["cases"]:
        text = case["text"]
        if "<" in text or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text):
            continue
        old = [UNK_ID if i == 0 else i + 1 for i in tok._sp.EncodeAsIds(clean_text(text))]
        assert tok.encode(text) == old, repr(text)
        n += 1
    assert n > 150


def test_max_token_per_released_config():
    assert pp.MAX_TOKEN == {"grefcoco": 50, "refzom": 50, "rrefcoco": 50, "refcoco": 20}
    assert pp.IMG_SIZE == 320


# ---------------------------------------------------------------- one sample and a batch


def test_official_inputs_and_collate(tiny, tok, tmp_path):
    arrays, metas = tiny
    samples = [
        pp.official_inputs(arrays["raw_image0_bgr"], "The man on the LEFT.", tok, img_size=128, max_token=12),
        pp.official_inputs(arrays["raw_image1_bgr"], "a dog", tok, img_size=128, max_token=12),
    ]
    img, ids, pad_mask, meta = samples[0]
    assert img.shape == (3, 128, 128)
    assert ids.shape == pad_mask.shape == (12,)
    assert meta["expression"] == "the man on the left"
    images, ids_b, pad_b, metas_b = pp.collate_official(samples)
    assert images.shape == (2, 3, 128, 128)
    assert ids_b.shape == pad_b.shape == (2, 12)
    np.testing.assert_array_equal(images.numpy(), arrays["img"])
    assert ids_b[1].tolist()[:2] == [BOS_ID, *tok.encode("a dog")][:2]
    assert pad_b.equal(ids_b == PAD_ID)
    _check_meta(metas_b[1], metas[1])
    other = pp.official_inputs(arrays["raw_image1_bgr"], "a dog", tok, img_size=64, max_token=12)
    with pytest.raises(ValueError, match="samples differ in size"):
        pp.collate_official([samples[0], other])
    with pytest.raises(InputError, match="max_token"):
        pp.official_tokens("a dog", tok, 1)


def test_encode_batch_masks_padding_by_length_as_the_official_pipeline(tok):
    """A literal "<pad>" in an expression is a token (id 1) inside the sequence, not padding."""
    text = "the cat <pad> on the left"
    ids, pad = tok.encode_batch([text], 20)
    official_ids, official_pad = pp.official_tokens(text, tok, 20)
    assert torch.equal(ids[0], official_ids)
    assert torch.equal(pad[0], official_pad)
    assert (ids[0][~pad[0]] == PAD_ID).any()
