"""Write boxes as a family would answer: ground truth -> answer text (fixtures, round trips, benchmarks).

`render_answer` quantises like the model's tokenizer or prompt would (integers on a grid, Florence-2
bins, PaliGemma's 1024 bins y first, Kosmos-2 patch indices, three decimals for Shikra);
`render_quantum` bounds the resulting error per coordinate in pixels, which the round-trip tests use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from baselines.adapters.text.conventions import CONVENTIONS, Convention, ImageSize
from baselines.adapters.text.families import get_family, resolve_convention
from baselines.adapters.text.grammars import KOSMOS_GRID

__all__ = ["NO_TARGET_TEXT", "render_answer", "render_quantum"]

NO_TARGET_TEXT = "There is no matching object in the image."

Box = Sequence[float]


def _ints(values) -> list[int]:
    # numpy scalars may come in, and round() of those can stay a numpy float: int() makes it a Python int.
    return [int(round(v)) for v in values]  # noqa: RUF046


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def _florence_bin(v: float, side: int) -> int:
    return _clamp(math.floor(v / side * 1000), 0, 999)


def _kosmos(box_px: Box, size: ImageSize) -> str:
    n = KOSMOS_GRID
    x1, y1, x2, y2 = (
        box_px[0] / size.width,
        box_px[1] / size.height,
        box_px[2] / size.width,
        box_px[3] / size.height,
    )
    ulx, uly = _clamp(math.floor(x1 * n), 0, n - 1), _clamp(math.floor(y1 * n), 0, n - 1)
    lrx, lry = _clamp(math.ceil(x2 * n - 1), 0, n - 1), _clamp(math.ceil(y2 * n - 1), 0, n - 1)
    return f"<patch_index_{uly * n + ulx:04d}><patch_index_{lry * n + lrx:04d}>"


# C901: a flat dispatch, one short branch per answer family, so each family's format reads in one place.
def render_answer(  # noqa: C901
    family: str,
    boxes: Sequence[Box],
    size: ImageSize,
    *,
    coords: str | None = None,
    phrase: str = "the target",
) -> str:
    """The answer text of ``family`` for ``boxes`` (pixels ``x1, y1, x2, y2`` of the original image);
    an empty ``boxes`` gives the family's no-target answer."""
    fam = get_family(family)
    conv: Convention = resolve_convention(fam, coords)
    if not boxes:
        return "[]" if family == "qwen2.5-vl" else NO_TARGET_TEXT
    units = [conv.from_pixels(tuple(b), size) for b in boxes]
    if family == "qwen-vl":
        return f"<ref>{phrase}</ref>" + "".join("<box>({},{}),({},{})</box>".format(*_ints(u)) for u in units)
    if family == "qwen2-vl":
        return f"<|object_ref_start|>{phrase}<|object_ref_end|>" + "".join(
            "<|box_start|>({},{}),({},{})<|box_end|>".format(*_ints(u)) for u in units
        )
    if family == "qwen2.5-vl":
        items = [{"bbox_2d": _ints(u), "label": phrase} for u in units]
        return "```json\n" + json.dumps(items) + "\n```"
    if family == "internvl":
        inner = ", ".join("[{}, {}, {}, {}]".format(*_ints(u)) for u in units)
        return f"<ref>{phrase}</ref><box>[{inner}]</box>"
    if family == "cogvlm":
        inner = ";".join(",".join(f"{_clamp(v, 0, 999):03d}" for v in _ints(u)) for u in units)
        return f"{phrase} [[{inner}]]"
    if family == "shikra":
        inner = ";".join(",".join(f"{v:.3f}" for v in u) for u in units)
        return f"{phrase} [{inner}]"
    if family == "ferret":
        return " and ".join(f"{phrase} [{', '.join(map(str, _ints(u)))}]" for u in units)
    if family == "minigpt-v2":
        inner = "<delim>".join("".join(f"<{v}>" for v in _ints(u)) for u in units)
        return f"<p>{phrase}</p> {{{inner}}}"
    if family == "florence-2-seg":
        rings = []
        for b in boxes:  # each box as a rectangle polygon
            x1, y1, x2, y2 = (_florence_bin(v, s) for v, s in zip(b, (size.width, size.height) * 2))
            rings.append("".join(f"<loc_{v}>" for v in (x1, y1, x2, y1, x2, y2, x1, y2)))
        return "<poly>".join(rings)
    if family == "florence-2":
        out = ""
        for b in boxes:
            out += phrase
            bins = [
                _clamp(math.floor(b[0] / size.width * 1000), 0, 999),
                _clamp(math.floor(b[1] / size.height * 1000), 0, 999),
                _clamp(math.floor(b[2] / size.width * 1000), 0, 999),
                _clamp(math.floor(b[3] / size.height * 1000), 0, 999),
            ]
            out += "".join(f"<loc_{v}>" for v in bins)
        return out
    if family == "paligemma":
        parts = []
        for u in units:
            x1, y1, x2, y2 = (_clamp(v, 0, 1023) for v in _ints(u))
            parts.append(f"<loc{y1:04d}><loc{x1:04d}><loc{y2:04d}><loc{x2:04d}> {phrase}")
        return " ; ".join(parts)
    if family == "kosmos-2":
        inner = "</delimiter_of_multi_objects/>".join(_kosmos(b, size) for b in boxes)
        return f"<phrase>{phrase}</phrase><object>{inner}</object>"
    if family == "ref-vlm":
        refs = "".join(f"[{i}]<REF>" for i in range(len(boxes)))
        return f"<Phrase>{phrase}</Phrase> (<Unit>box</Unit>{refs})"
    if family == "seg":
        return "Sure, it is [SEG]."
    if family == "vlmevalkit":  # 0-1 units, which its scale guess reads for any image size
        units = [CONVENTIONS["norm1"].from_pixels(tuple(b), size) for b in boxes]
        return " ".join("[" + ", ".join(f"{v:.4f}" for v in u) + "]" for u in units)
    # generic, lmms-eval: plain brackets, 4 decimals in 0-1 units, else 2 decimals
    digits = 4 if conv.limit == 1.0 else 2
    return " ".join("[" + ", ".join(f"{v:.{digits}f}" for v in u) + "]" for u in units)


def render_quantum(family: str, size: ImageSize, coords: str | None = None) -> tuple[float, float]:
    """Largest error per coordinate ``(x, y)`` in pixels that `render_answer` + parsing can introduce."""
    fam = get_family(family)
    conv = resolve_convention(fam, coords)
    w, h = float(size.width), float(size.height)
    if family in ("kosmos-2",):
        return w / KOSMOS_GRID, h / KOSMOS_GRID
    if family == "shikra":
        s = max(w, h)
        return 0.0005 * s + 1e-9, 0.0005 * s + 1e-9
    if family == "vlmevalkit":
        return 0.5e-4 * w + 1e-9, 0.5e-4 * h + 1e-9
    if family in ("ref-vlm", "seg"):
        return 1e-6, 1e-6
    if conv.name == "resized":
        ax, _, ay, _ = conv.scale(size)
        return 0.5 * ax + 1e-9, 0.5 * ay + 1e-9
    if family not in ("generic", "lmms-eval") and conv.name in (
        "norm1000",
        "bins1000",
        "norm1024",
        "norm100",
    ):
        grid = {"norm100": 100, "norm1000": 1000, "bins1000": 1000, "norm1024": 1024}[conv.name]
        # rounding (or Florence-2's floor decoded at the bin centre) is off by half a cell; the families
        # whose largest token is grid - 1 (CogVLM 999, PaliGemma 1023) lose a whole cell at the far edge
        cells = 1.0 if family in ("cogvlm", "paligemma") else 0.5
        return cells * w / grid + 1e-9, cells * h / grid + 1e-9
    step = 1e-4 if conv.limit == 1.0 else 1e-2
    scale = CONVENTIONS[conv.name].scale(size)
    return 0.5 * step * abs(scale[0]) + 1e-9, 0.5 * step * abs(scale[2]) + 1e-9
