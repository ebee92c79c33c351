"""Card thumbnails: the image (or a blank canvas of the image size) with ground truth and prediction.

Drawn once per report at ``size`` pixels on the longer side, as JPEG, in worker processes. Each file is
named by a hash of what it shows (`Drawing.key`), so a report re-written into the same folder reuses
the thumbnails that did not change.

Colours (`COLOURS`), chosen to stay readable on any image and for red-green colour blindness: ground
truth cyan, prediction orange, prior points yellow; masks are a 45 % tint with a solid outline, boxes
a 2-pixel coloured line inside a black halo, points a black-ringed dot.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from evaluators import InputError, rle
from evaluators.progress import progress_bar

__all__ = ["COLOURS", "Drawing", "Renderer", "render", "render_many"]

COLOURS = {"gt": (0, 213, 255), "pred": (255, 122, 0), "points": (255, 230, 0)}
BLANK = (236, 236, 236)
ALPHA = 0.45


@dataclass(frozen=True)
class Drawing:
    """What one thumbnail shows. Boxes are COCO ``[x, y, w, h]`` and points ``[x, y]`` in absolute
    pixels of the ``height`` x ``width`` image; masks are COCO RLE of that size; ``image`` is the file
    (``None``: a blank canvas)."""

    height: int
    width: int
    image: str | None
    gt_boxes: tuple[tuple[float, ...], ...]
    gt_mask: dict | None
    pred_boxes: tuple[tuple[float, ...], ...]
    pred_mask: dict | None
    points: tuple[tuple[float, ...], ...]

    def key(self, size: int) -> str:
        """A name for the thumbnail: hash of everything drawn, the size and the image file's stat."""
        shapes = (self.height, self.width, self.image, self.gt_boxes, self.pred_boxes, self.points, size)
        h = hashlib.sha1(repr(shapes).encode())
        for mask in (self.gt_mask, self.pred_mask):
            if mask is None:
                h.update(b"|-")
            else:
                counts = mask["counts"]
                h.update(f"|{list(mask['size'])}:".encode())
                h.update(counts if isinstance(counts, bytes) else counts.encode())
        if self.image:
            try:
                st = os.stat(self.image)
                h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            except OSError:
                pass
        return h.hexdigest()[:20]


def _overlay(canvas: np.ndarray, mask: dict, ys: np.ndarray, xs: np.ndarray, colour) -> None:
    # decode gives a column-major (h, w) array: gather whole columns first (contiguous), then rows
    m = rle.decode(mask).T[xs][:, ys].T.view(bool)
    if not m.any():
        return
    col = np.array(colour, dtype=np.float32)
    canvas[m] = canvas[m] * (1.0 - ALPHA) + col * ALPHA
    inner = m.copy()
    inner[1:] &= m[:-1]
    inner[:-1] &= m[1:]
    inner[:, 1:] &= m[:, :-1]
    inner[:, :-1] &= m[:, 1:]
    canvas[m & ~inner] = col


@functools.lru_cache(maxsize=16)
def _image_base(path: str, width: int, height: int, tw: int, th: int) -> np.ndarray:
    """The image at thumbnail size (float32, read-only); cached because the expressions of one
    image come together in the datasets (several sentences per image, and both models of --compare)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.size != (width, height):
                raise InputError(
                    f"{path}: image is {img.size[0]}x{img.size[1]}, the row says {width}x{height}"
                )
            img.draft("RGB", (tw, th))  # JPEG: decode at a reduced scale (fast)
            small = img.convert("RGB").resize((tw, th), Image.BILINEAR)
    except OSError as exc:
        raise InputError(f"{path}: cannot read image: {exc}") from None
    base = np.asarray(small, dtype=np.float32)
    base.flags.writeable = False
    return base


def _base(d: Drawing, tw: int, th: int) -> np.ndarray:
    if d.image is None:
        return np.full((th, tw, 3), BLANK, dtype=np.float32)
    return _image_base(d.image, d.width, d.height, tw, th).copy()


def render(d: Drawing, path: str | Path, size: int = 256) -> Path:
    """Draw ``d`` into the JPEG ``path`` (longer side ``size`` pixels). Not atomic by itself: the
    report writes into a temporary folder renamed as a whole."""
    from PIL import Image, ImageDraw

    scale = size / max(d.height, d.width)
    tw, th = max(1, round(d.width * scale)), max(1, round(d.height * scale))
    canvas = _base(d, tw, th)
    ys = np.minimum(((np.arange(th) + 0.5) / scale).astype(np.int64), d.height - 1)
    xs = np.minimum(((np.arange(tw) + 0.5) / scale).astype(np.int64), d.width - 1)
    if d.gt_mask is not None:
        _overlay(canvas, d.gt_mask, ys, xs, COLOURS["gt"])
    if d.pred_mask is not None:
        _overlay(canvas, d.pred_mask, ys, xs, COLOURS["pred"])
    img = Image.fromarray(canvas.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for boxes, colour in ((d.gt_boxes, COLOURS["gt"]), (d.pred_boxes, COLOURS["pred"])):
        for x, y, w, h in boxes:
            xy = [x * scale, y * scale, (x + w) * scale, (y + h) * scale]
            draw.rectangle([xy[0] - 1, xy[1] - 1, xy[2] + 1, xy[3] + 1], outline=(0, 0, 0), width=4)
            draw.rectangle(xy, outline=colour, width=2)
    for x, y in d.points:
        px, py = x * scale, y * scale
        draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=COLOURS["points"], outline=(0, 0, 0))
    path = Path(path)
    img.save(path, "JPEG", quality=80, subsampling=0)  # 4:4:4 keeps thin colour lines
    return path


def _render_chunk(jobs: Sequence[tuple[Drawing, str]], size: int) -> int:
    for d, path in jobs:
        render(d, path, size)
    return len(jobs)


class Renderer:
    """Draws thumbnails in ``workers`` processes while the caller goes on (scoring, for the report).

    ``add(drawing, path)`` queues a job (sent in chunks of `CHUNK`); ``finish()`` waits for all and
    returns how many were drawn, re-raising a worker's error (e.g. an unreadable image). With
    ``workers <= 1`` the jobs are drawn in this process when a chunk is full.
    """

    CHUNK = 64

    def __init__(self, size: int = 256, workers: int = 1, quiet: bool = False):
        self.size = size
        self._pending: list[tuple[Drawing, str]] = []
        self._futures: list = []
        self._done = 0
        self._pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None
        self._bar = progress_bar(None, "report thumbnails", quiet=quiet, unit="img", leave=True)

    def add(self, drawing: Drawing, path: str | Path) -> None:
        self._pending.append((drawing, str(path)))
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        jobs, self._pending = self._pending, []
        if not jobs:
            return
        self._bar.total = (self._bar.total or 0) + len(jobs)
        if self._pool is None:
            self._done += _render_chunk(jobs, self.size)
            self._bar.update(len(jobs))
        else:
            future = self._pool.submit(_render_chunk, jobs, self.size)
            future.add_done_callback(lambda f: self._bar.update(len(jobs)) if not f.exception() else None)
            self._futures.append(future)

    def finish(self) -> int:
        self._flush()
        try:
            for future in self._futures:
                self._done += future.result()
        finally:
            self.close()
        return self._done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._bar.close()


def render_many(
    jobs: Iterable[tuple[Drawing, str | Path]], size: int = 256, workers: int = 1, quiet: bool = False
) -> int:
    """Render every ``(drawing, path)`` (``workers`` processes when > 1); returns how many."""
    renderer = Renderer(size, workers, quiet)
    try:
        for d, path in jobs:
            renderer.add(d, path)
    except BaseException:
        renderer.close()
        raise
    return renderer.finish()
