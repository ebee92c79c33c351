"""The official InstanceVG test-time input pipeline, bit for bit: image decoding, resize, normalisation, the
expression cleaning and the BEiT-3 token ids of the released checkpoints' configs.

The val/test pipeline of every released config (``configs/gres/InstanceVG-grefcoco.py``, ``configs/refcoco/
InstanceVG-{B,L}-refcoco``, ``configs/refzom``, ``configs/rrefcoco``) is::

    LoadImageAnnotationsFromFile{GRES,_TO}(max_token, use_token_type="beit3")
    Resize(img_scale=(S, S), keep_ratio=False)
    Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])   # to_rgb=True
    DefaultFormatBundle, CollectData

- decoding: mmcv's ``imfrombytes(flag="color")`` = ``cv2.imdecode(bytes, IMREAD_COLOR)``: 3-channel **BGR**
  uint8, EXIF orientation applied, alpha dropped, grey replicated, 16-bit scaled to 8-bit;
- resize: ``cv2.resize(img, (S, S), INTER_LINEAR)`` on uint8 (no aspect ratio kept, no padding);
  ``scale_factor = float32 [w_scale, h_scale, w_scale, h_scale]`` with ``w_scale = S / w``, ``h_scale = S / h``;
- normalisation: BGR -> RGB, ``(x - mean) / std`` in float32, then HWC -> CHW;
- text: ``clean_string`` then transformers' slow ``XLMRobertaTokenizer(beit3.spm)`` ``tokenize`` +
  ``convert_tokens_to_ids`` (``Tokenizer.encode`` gives the same ids), truncated to ``max_token - 2``, then
  ``[0 (<s>)] + ids + [2 (</s>)]`` padded with 1 (``<pad>``); the mask is True on padding (the official
  ``text_attention_mask`` is the same as 0/1). An expression with no token left raises, as the official loader does.

Without OpenCV (``opencv-python-headless``, in the ``model`` extra) the image is decoded with Pillow (a warning is
logged: a JPEG may decode to values one grey level apart) and resized with a numpy re-implementation of OpenCV's
fixed-point bilinear resize, equal to ``cv2.resize`` on uint8 (tested).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evaluators.errors import InputError
from instancevg.tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer, clean_string

__all__ = [
    "IMG_SIZE",
    "MAX_TOKEN",
    "MEAN",
    "STD",
    "collate_official",
    "decode_image",
    "have_cv2",
    "normalize_image",
    "official_image",
    "official_inputs",
    "official_tokens",
    "resize_linear",
]

logger = logging.getLogger(__name__)

IMG_SIZE = 320
#: ``max_token`` of each released checkpoint's config (RefCOCO: both the B and the L model).
MAX_TOKEN = {"grefcoco": 50, "refzom": 50, "rrefcoco": 50, "refcoco": 20}
MEAN = (123.675, 116.28, 103.53)  # RGB, on 0-255 values
STD = (58.395, 57.12, 57.375)

_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS
_COEF_SCALE = 1 << _COEF_BITS
_warned_no_cv2 = False


def have_cv2() -> bool:
    """Whether OpenCV is importable (then decoding and resizing are OpenCV's own, as the official code's)."""
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


def _warn_no_cv2() -> None:
    global _warned_no_cv2
    if not _warned_no_cv2:
        logger.warning(
            "opencv-python-headless is not installed: images are decoded with Pillow, which may differ from the "
            "official (OpenCV) decoding by a grey level on JPEG files; install vgbench[model] for exact inputs"
        )
        _warned_no_cv2 = True


def decode_image(source: str | os.PathLike | bytes, *, backend: str = "auto") -> np.ndarray:
    """Decode an image file (path or encoded bytes) as mmcv's ``imfrombytes(flag="color")``.

    Returns a uint8 array ``[H, W, 3]`` in **BGR** order. ``backend``: ``"auto"`` (OpenCV when importable, else
    Pillow with a warning), ``"cv2"`` or ``"pil"``. Raises InputError naming the file when it cannot be read or
    decoded.
    """
    name = "<bytes>" if isinstance(source, bytes | bytearray) else str(source)
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read image: {exc.strerror}") from None
    if backend == "auto":
        backend = "cv2" if have_cv2() else "pil"
        if backend == "pil":
            _warn_no_cv2()
    if backend == "cv2":
        import cv2

        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR) if data else None
        if img is None:
            raise InputError(f"{name}: cannot decode image")
        return img
    if backend != "pil":
        raise ValueError(f"decode_image: backend must be 'auto', 'cv2' or 'pil', got {backend!r}")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im = ImageOps.exif_transpose(im)  # OpenCV's IMREAD_COLOR applies the EXIF orientation too
            rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(f"{name}: cannot decode image: {exc}") from None
    return np.ascontiguousarray(rgb[..., ::-1])


def _linear_coeffs(dst: int, src: int, clamp: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and 11-bit weights of OpenCV's INTER_LINEAR along one axis (``resize.cpp``): float32
    positions ``(d + 0.5) * src / dst - 0.5``; along x the position is clamped to the image, along y only the
    rows are (the weights stay as computed, so border rows may weigh 2047 or 2049 / 2048)."""
    scale = 1.0 / (dst / src)
    pos = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0.astype(np.float32)).astype(np.float32)
    if clamp:
        low, high = i0 < 0, i0 >= src - 1
        frac[low | high] = 0
        i0[low] = 0
        i0[high] = src - 1
    w0 = np.rint((np.float32(1) - frac) * np.float32(_COEF_SCALE)).astype(np.int32)
    w1 = np.rint(frac * np.float32(_COEF_SCALE)).astype(np.int32)
    return np.clip(i0, 0, src - 1), np.clip(i0 + 1, 0, src - 1), w0, w1


def _resize_linear_numpy(img: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    if (h, w) == (height, width):
        return img.copy()
    x0, x1, a0, a1 = _linear_coeffs(width, w, clamp=True)
    y0, y1, b0, b1 = _linear_coeffs(height, h, clamp=False)
    shape = (1, -1) + (1,) * (img.ndim - 2)
    left, right = img[:, x0].astype(np.int32), img[:, x1].astype(np.int32)
    rows = left * a0.reshape(shape) + right * a1.reshape(shape)  # [h, width(, C)], scaled by 2048
    bshape = (-1,) + (1,) * (img.ndim - 1)
    # the vertical pass of OpenCV's vectorised uint8 path: ((r >> 4) * b) >> 16 per row, summed, rounded >> 2
    top = ((rows[y0] >> 4) * b0.reshape(bshape)) >> 16
    bottom = ((rows[y1] >> 4) * b1.reshape(bshape)) >> 16
    return np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)


def resize_linear(img: np.ndarray, width: int, height: int, *, backend: str = "auto") -> np.ndarray:
    """Bilinear resize of a uint8 ``[H, W(, C)]`` image to ``[height, width(, C)]`` as ``cv2.resize(...,
    INTER_LINEAR)`` (mmcv's ``imresize(interpolation="bilinear")``): half-pixel centres, no antialiasing.

    ``backend``: ``"auto"`` (OpenCV when importable), ``"cv2"``, or ``"numpy"`` (a re-implementation of OpenCV's
    fixed-point arithmetic, equal to it on uint8).
    """
    if img.dtype != np.uint8:
        raise ValueError(f"resize_linear: expected a uint8 image, got {img.dtype}")
    if backend == "auto":
        backend = "cv2" if have_cv2() else "numpy"
    if backend == "cv2":
        import cv2

        return cv2.resize(img, (int(width), int(height)), interpolation=cv2.INTER_LINEAR)
    if backend != "numpy":
        raise ValueError(f"resize_linear: backend must be 'auto', 'cv2' or 'numpy', got {backend!r}")
    return _resize_linear_numpy(img, int(width), int(height))


def normalize_image(img_bgr: np.ndarray) -> np.ndarray:
    """mmcv's ``imnormalize(img, mean, std, to_rgb=True)`` then HWC -> CHW: float32 ``[3, H, W]`` RGB.

    Computed as OpenCV does it (``x - mean`` in float32, then times ``1 / std`` taken in float64), so the values
    are bit-equal to the official ones.
    """
    rgb = img_bgr[..., ::-1].astype(np.float32)
    centred = rgb - np.asarray(MEAN, dtype=np.float32)
    out = (centred * (1.0 / np.asarray(STD, dtype=np.float32).astype(np.float64))).astype(np.float32)
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _as_bgr(image: Any, channel_order: str) -> tuple[np.ndarray, str | None]:
    if isinstance(image, str | os.PathLike | bytes | bytearray):
        filename = None if isinstance(image, bytes | bytearray) else str(image)
        return decode_image(image), filename
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is in the model extra
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8)[..., ::-1]), None
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise InputError(f"image: expected uint8 values, got {arr.dtype}")
    if arr.ndim == 2:  # grey, as IMREAD_COLOR gives it: replicated
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InputError(f"image: expected an [H, W, 3] array, got shape {tuple(arr.shape)}")
    if channel_order == "rgb":
        arr = arr[..., ::-1]
    elif channel_order != "bgr":
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    return np.ascontiguousarray(arr), None


def official_image(
    image: str | os.PathLike | bytes | np.ndarray | Any,
    img_size: int = IMG_SIZE,
    *,
    channel_order: str = "bgr",
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The official image input: decode (a path or encoded bytes), resize to ``img_size x img_size``, normalise.

    ``image``: a path, encoded bytes, a uint8 array ``[H, W, 3]`` (``channel_order`` "bgr" as the official
    loader, or "rgb") or ``[H, W]``, or a PIL image. Returns ``(img FloatTensor[3, S, S], meta)``; ``meta`` holds
    the official ``img_metas`` fields: ``filename`` (str or None), ``ori_shape`` ``(h, w, 3)``, ``img_shape`` and
    ``pad_shape`` ``(S, S, 3)``, ``scale_factor`` float32 ``[w_scale, h_scale, w_scale, h_scale]``
    (``S / w``, ``S / h``): a box ``(x1, y1, x2, y2)`` in the ``S x S`` input divided by it is in original pixels.
    """
    if int(img_size) < 1:
        raise ValueError(f"official_image: img_size must be positive, got {img_size}")
    size = int(img_size)
    bgr, filename = _as_bgr(image, channel_order)
    h, w = bgr.shape[:2]
    resized = resize_linear(bgr, size, size)
    w_scale, h_scale = size / w, size / h
    meta = {
        "filename": filename,
        "ori_shape": (h, w, 3),
        "img_shape": (size, size, 3),
        "pad_shape": (size, size, 3),
        "scale_factor": np.array([w_scale, h_scale, w_scale, h_scale], dtype=np.float32),
    }
    return torch.from_numpy(normalize_image(resized)), meta


def official_tokens(
    sentence: str, tokenizer: Tokenizer, max_token: int = 50
) -> tuple[torch.Tensor, torch.Tensor]:
    """The official BEiT-3 text input of one expression: ``(ids LongTensor[L], pad_mask BoolTensor[L])``,
    ``L = max_token``: ``[0] + ids[: L - 2] + [2]`` padded with 1, ``pad_mask`` True on padding.

    Raises InputError when nothing is left of ``sentence`` after cleaning (the official loader raises there too).
    """
    if int(max_token) < 2:
        raise InputError(f"tokenizer: max_token: must be >= 2, got {max_token}")
    length = int(max_token)
    pieces = tokenizer.encode(sentence)
    if not pieces:
        raise InputError(
            f"expression {sentence!r}: no token left after cleaning (the official loader rejects it)"
        )
    seq = [BOS_ID, *pieces[: length - 2], EOS_ID]
    ids = torch.full((length,), PAD_ID, dtype=torch.long)
    ids[: len(seq)] = torch.tensor(seq, dtype=torch.long)
    pad_mask = torch.ones(length, dtype=torch.bool)
    pad_mask[: len(seq)] = False
    return ids, pad_mask


def official_inputs(
    image_path_or_array: str | os.PathLike | bytes | np.ndarray | Any,
    sentence: str,
    tokenizer: Tokenizer,
    img_size: int = IMG_SIZE,
    max_token: int = 50,
    *,
    channel_order: str = "bgr",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
    """One sample exactly as the official test pipeline builds it.

    Returns ``(img FloatTensor[3, S, S], ids LongTensor[L], pad_mask BoolTensor[L], meta)`` with ``S = img_size``,
    ``L = max_token`` (see ``MAX_TOKEN`` for each released checkpoint). ``meta`` is ``official_image``'s plus
    ``expression`` (the cleaned text, as the official ``img_metas``). Inputs as in ``official_image``.
    """
    ids, pad_mask = official_tokens(sentence, tokenizer, max_token)
    img, meta = official_image(image_path_or_array, img_size, channel_order=channel_order)
    meta["expression"] = clean_string(sentence)
    return img, ids, pad_mask, meta


def collate_official(
    samples: Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[dict[str, Any]]]:
    """Stack ``official_inputs`` samples as the official collate does (no padding: every image is S x S):
    ``(images FloatTensor[B, 3, S, S], ids LongTensor[B, L], pad_mask BoolTensor[B, L], metas list[B])``."""
    if not samples:
        raise ValueError("collate_official: no sample")
    img_shapes = {tuple(s[0].shape) for s in samples}
    text_shapes = {tuple(s[1].shape) for s in samples}
    if len(img_shapes) != 1 or len(text_shapes) != 1:
        raise ValueError(
            f"collate_official: samples differ in size: images {sorted(img_shapes)}, texts {sorted(text_shapes)}"
        )
    images = torch.stack([s[0] for s in samples])
    ids = torch.stack([s[1] for s in samples])
    pad_mask = torch.stack([s[2] for s in samples])
    return images, ids, pad_mask, [s[3] for s in samples]
