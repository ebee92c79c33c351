"""Box grammars of multimodal-LLM answers: text -> boxes (and polygons) in the family's own units.

Each parser returns a `Parsed`: ``boxes`` as ``(x1, y1, x2, y2)`` tuples in answer order, in the
units of the family's coordinate convention (`conventions`), ``polygons`` (Florence-2: one list of
flat ``[x, y, x, y, ...]`` rings per instance), ``no_target`` for an explicit "nothing matches"
answer, or ``error`` (a parse failure, with the reason). Parsers never raise on bad text: a
malformed answer is data, counted by the adapter. The grammars are documented in docs/baselines.md
with their sources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from evaluators import jsonio

__all__ = ["GRAMMARS", "NO_TARGET_PATTERN", "Parsed", "says_no_target"]

NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_N = rf"\s*({NUM})\s*"

# Explicit "no target" answers (checked only when an answer holds no box).
NO_TARGET_PATTERN = re.compile(
    r"\b(?:no(?:ne)?\s+(?:such\s+|matching\s+|target\s+|valid\s+)?(?:objects?|targets?|ones?|matches|regions?|boxes)"
    r"|none|nothing|no\s+one|not\s+(?:present|found|exist|visible|in\s+the\s+(?:image|picture))"
    r"|(?:does|do)\s*n[o']t\s+exist|there\s+(?:is|are)\s+no|cannot\s+(?:find|locate)|can't\s+(?:find|locate)"
    r"|no[-_ ]target)\b",
    re.IGNORECASE,
)


def says_no_target(text: str) -> bool:
    """True when ``text`` explicitly says that nothing in the image matches (NO_TARGET_PATTERN)."""
    return bool(NO_TARGET_PATTERN.search(text))


@dataclass
class Parsed:
    """What a grammar read from one answer (family units; see the module docstring)."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    polygons: list[list[list[float]]] = field(default_factory=list)
    no_target: bool = False
    error: str | None = None
    refs: int = 0  # REF-VLM: number of <REF> targets announced by the text

    @property
    def empty(self) -> bool:
        return not self.boxes and not self.polygons and not self.refs


def _fail(reason: str) -> Parsed:
    return Parsed(error=reason)


def _finish(text: str, parsed: Parsed) -> Parsed:
    """No box found: an explicit no-target answer, or a parse failure."""
    if parsed.error is None and parsed.empty:
        if says_no_target(text):
            parsed.no_target = True
        else:
            parsed.error = "no box in the answer"
    return parsed


def _floats(groups) -> tuple[float, ...]:
    return tuple(float(g) for g in groups)


def _tagged(text: str, open_tag: str, close_tag: str, inner: re.Pattern, per_tag: int | None) -> Parsed:
    """Boxes inside ``open_tag ... close_tag`` blocks; each block must consist of ``inner`` matches."""
    out = Parsed()
    blocks = re.findall(re.escape(open_tag) + r"(.*?)" + re.escape(close_tag), text, re.S)
    if text.count(open_tag) != len(blocks):
        return _fail(f"unterminated {open_tag}")
    for block in blocks:
        found = inner.findall(block)
        rest = inner.sub("", block).strip(" \t\n,;")
        if not found or rest or (per_tag is not None and len(found) != per_tag):
            return _fail(f"malformed {open_tag}{block}{close_tag}")
        out.boxes += [_floats(g) for g in found]
    return _finish(text, out)


_PAIR2 = re.compile(rf"\({_N},{_N}\)\s*,\s*\({_N},{_N}\)")
_QUAD = re.compile(rf"\[{_N},{_N},{_N},{_N}\]")


def parse_qwen_vl(text: str) -> Parsed:
    """Qwen-VL: ``<ref>phrase</ref><box>(x1,y1),(x2,y2)</box>`` (one box per tag, 0-1000 grid)."""
    return _tagged(text, "<box>", "</box>", _PAIR2, 1)


def parse_qwen2_vl(text: str) -> Parsed:
    """Qwen2-VL: ``<|object_ref_start|>phrase<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>``."""
    return _tagged(text, "<|box_start|>", "<|box_end|>", _PAIR2, 1)


def parse_internvl(text: str) -> Parsed:
    """InternVL: ``<ref>phrase</ref><box>[[x1, y1, x2, y2], [x1, y1, x2, y2]]</box>`` (0-1000 grid)."""
    out = Parsed()
    blocks = re.findall(r"<box>(.*?)</box>", text, re.S)
    if text.count("<box>") != len(blocks):
        return _fail("unterminated <box>")
    for block in blocks:
        inner = block.strip()
        if not (inner.startswith("[[") and inner.endswith("]]")):
            return _fail(f"malformed <box>{block}</box>")
        inner = inner[1:-1]
        found = _QUAD.findall(inner)
        if not found or _QUAD.sub("", inner).strip(" \t\n,"):
            return _fail(f"malformed <box>{block}</box>")
        out.boxes += [_floats(g) for g in found]
    return _finish(text, out)


_DIGITS4 = re.compile(r"\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*")


def parse_cogvlm(text: str) -> Parsed:
    """CogVLM grounding: ``[[x1,y1,x2,y2;x1,y1,x2,y2]]``, three-digit 000-999 values (0-1000 grid)."""
    out = Parsed()
    for block in re.findall(r"\[\[(.*?)\]\]", text, re.S):
        for part in block.split(";"):
            m = _DIGITS4.fullmatch(part)
            if not m:
                return _fail(f"malformed [[{block}]]")
            out.boxes.append(_floats(m.groups()))
    if not out.boxes and "[[" in text:
        return _fail("unterminated [[")
    return _finish(text, out)


_FLOAT4 = re.compile(rf"{_N},{_N},{_N},{_N}")


def parse_shikra(text: str) -> Parsed:
    """Shikra: ``[x1,y1,x2,y2]`` with 0-1 values (three decimals), several boxes ``[a,b,c,d;e,f,g,h]``."""
    out = Parsed()
    for block in re.findall(r"\[([^\[\]]*)\]", text):
        parts = block.split(";")
        matched = [_FLOAT4.fullmatch(p) for p in parts]
        if not all(matched):
            if any(ch.isdigit() for ch in block):
                return _fail(f"malformed [{block}]")
            continue
        out.boxes += [_floats(m.groups()) for m in matched]
    return _finish(text, out)


def parse_ferret(text: str) -> Parsed:
    """Ferret: ``phrase [x1, y1, x2, y2]`` after each grounded phrase (integers, 0-1000 grid)."""
    out = Parsed()
    for block in re.findall(r"\[([^\[\]]*)\]", text):
        m = _FLOAT4.fullmatch(block)
        if not m:
            if any(ch.isdigit() for ch in block):
                return _fail(f"malformed [{block}]")
            continue
        out.boxes.append(_floats(m.groups()))
    return _finish(text, out)


_ANGLE4 = re.compile(r"\s*<(\d+)>\s*<(\d+)>\s*<(\d+)>\s*<(\d+)>\s*")


def parse_minigpt_v2(text: str) -> Parsed:
    """MiniGPT-v2: ``<p>phrase</p> {<x1><y1><x2><y2>}``, several boxes joined by ``<delim>`` (0-100 grid)."""
    out = Parsed()
    blocks = re.findall(r"\{([^{}]*)\}", text)
    for block in blocks:
        for part in block.split("<delim>"):
            m = _ANGLE4.fullmatch(part)
            if not m:
                return _fail(f"malformed {{{block}}}")
            out.boxes.append(_floats(m.groups()))
    if not blocks and re.search(r"\{\s*<\d", text):
        return _fail("unterminated {<...")
    return _finish(text, out)


_FLORENCE_TOKEN = re.compile(r"<loc_(\d+)>|(<sep>)|(</?poly>)|([^<]+|<)")


def parse_florence2(text: str) -> Parsed:
    """Florence-2 box tasks (phrase grounding, open-vocabulary detection): ``label<loc_x1><loc_y1><loc_x2>
    <loc_y2>``; each run of ``<loc_N>`` tokens after a label holds one or more boxes (4 tokens each)."""
    out = Parsed()
    for run in re.findall(r"(?:<loc_\d+>\s*)+", text):
        values = [float(v) for v in re.findall(r"<loc_(\d+)>", run)]
        if len(values) % 4:
            return _fail(f"{len(values)} <loc_N> tokens in a run: not a multiple of 4")
        out.boxes += [tuple(values[i : i + 4]) for i in range(0, len(values), 4)]
    return _finish(text, out)


_FLORENCE_TOKEN = re.compile(r"<loc_(\d+)>|(<sep>)|(</?poly>)|([^<]+|<)")


def parse_florence2_polygons(text: str) -> Parsed:
    """Florence-2 segmentation tasks (referring expression segmentation): polygon rings ``<loc_x><loc_y>
    ...`` (an even run of at least 6 tokens); ``<sep>`` separates rings of one instance, ``<poly>`` or a
    label starts a new instance. Whitespace does not split a run."""
    out = Parsed()
    run: list[float] = []
    rings: list[list[float]] = []
    for m in _FLORENCE_TOKEN.finditer(text):
        loc, sep, _poly, other = m.groups()
        if loc is not None:
            run.append(float(loc))
            continue
        if other is not None and not other.strip():
            continue
        if run:
            if len(run) < 6 or len(run) % 2:
                return _fail(f"{len(run)} <loc_N> tokens: not a polygon ring (an even number, at least 6)")
            rings.append(list(run))
            run.clear()
        if sep is None and rings:
            out.polygons.append(list(rings))
            rings.clear()
    if run:
        if len(run) < 6 or len(run) % 2:
            return _fail(f"{len(run)} <loc_N> tokens: not a polygon ring (an even number, at least 6)")
        rings.append(list(run))
    if rings:
        out.polygons.append(rings)
    return _finish(text, out)


_LOC4 = re.compile(r"<loc(\d{4})><loc(\d{4})><loc(\d{4})><loc(\d{4})>")


def parse_paligemma(text: str) -> Parsed:
    """PaliGemma: ``<locY1><locX1><locY2><locX2> label`` (four-digit 0000-1023, y first), several
    detections joined by `` ; ``. ``<segNNN>`` tokens (masks, need the VQ-VAE decoder) are ignored."""
    out = Parsed()
    found = _LOC4.findall(text)
    if len(re.findall(r"<loc\d{4}>", text)) != 4 * len(found):
        return _fail("<locNNNN> tokens not in groups of four")
    for y1, x1, y2, x2 in found:
        out.boxes.append((float(x1), float(y1), float(x2), float(y2)))
    return _finish(text, out)


KOSMOS_GRID = 32
_PATCH = re.compile(r"<patch_index_(\d{4})>")


def kosmos_patch_box(ul: int, lr: int, grid: int = KOSMOS_GRID) -> tuple[float, float, float, float]:
    """Kosmos-2 patch indices (upper-left, lower-right) -> 0-1 ``(x1, y1, x2, y2)``.

    As ``patch_index_to_coordinate`` of the Kosmos-2 processor: the same patch (or patches in one row or
    column) span whole cells; otherwise the box joins the two cells' centres.
    """
    cell = 1.0 / grid
    ulx, uly = ul % grid, ul // grid
    lrx, lry = lr % grid, lr // grid
    if ul == lr or ulx == lrx or uly == lry:
        return ulx * cell, uly * cell, lrx * cell + cell, lry * cell + cell
    return ulx * cell + cell / 2, uly * cell + cell / 2, lrx * cell + cell / 2, lry * cell + cell / 2


def parse_kosmos2(text: str) -> Parsed:
    """Kosmos-2: ``<phrase>p</phrase><object><patch_index_A><patch_index_B></object>`` on a 32 x 32 grid;
    several boxes joined by ``</delimiter_of_multi_objects/>``. Boxes are returned as 0-1 fractions."""
    out = Parsed()
    blocks = re.findall(r"<object>(.*?)</object>", text, re.S)
    if text.count("<object>") != len(blocks):
        return _fail("unterminated <object>")
    for block in blocks:
        for part in block.split("</delimiter_of_multi_objects/>"):
            idx = _PATCH.findall(part)
            if len(idx) != 2 or _PATCH.sub("", part).strip():
                return _fail(f"malformed <object>{block}</object>")
            ul, lr = int(idx[0]), int(idx[1])
            if max(ul, lr) >= KOSMOS_GRID * KOSMOS_GRID:
                return _fail(f"patch index {max(ul, lr)} beyond the {KOSMOS_GRID}x{KOSMOS_GRID} grid")
            out.boxes.append(kosmos_patch_box(ul, lr))
    return _finish(text, out)


def parse_qwen25_vl(text: str) -> Parsed:
    """Qwen2.5-VL: a JSON list ``[{"bbox_2d": [x1, y1, x2, y2], "label": "..."}]`` (optionally in a
    ```json fence), pixels of the resized model input; ``[]`` is an explicit no-target answer."""
    body = text
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        body = fence.group(1)
    starts = [i for i in (body.find("["), body.find("{")) if i >= 0]
    if not starts:
        return _finish(text, Parsed())
    start = min(starts)
    end = max(body.rfind("]"), body.rfind("}"))
    try:
        data = jsonio.loads(body[start : end + 1])
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return _fail("not valid JSON")
    items = data if isinstance(data, list) else [data]
    out = Parsed()
    for item in items:
        box = item.get("bbox_2d") if isinstance(item, dict) else None
        if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
            return _fail(f"an item without a bbox_2d of 4 numbers: {item!r}"[:120])
        out.boxes.append(tuple(float(v) for v in box))
    if not items:
        out.no_target = True
        return out
    return _finish(text, out)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_GENERIC = re.compile(
    rf"\[{_N}[,\s]{_N}[,\s]{_N}[,\s]{_N}\]|\({_N},{_N},{_N},{_N}\)|\({_N},{_N}\)\s*,\s*\({_N},{_N}\)"
)


def parse_generic(text: str) -> Parsed:
    """Generic: every ``[x1, y1, x2, y2]``, ``(x1, y1, x2, y2)`` or ``(x1,y1),(x2,y2)`` group, in order."""
    out = Parsed()
    for m in _GENERIC.finditer(text):
        values = [g for g in m.groups() if g is not None]
        out.boxes.append(_floats(values))
    return _finish(text, out)


def parse_ref_vlm(text: str) -> Parsed:
    """REF-VLM triplets ``<Phrase>p</Phrase> (<Unit>box</Unit>[0]<REF>[1]<REF>)``: the text names the
    targets; their boxes come from the model's box decoder (the answer's ``boxes``), one per ``<REF>``."""
    out = Parsed(refs=len(re.findall(r"<REF>", text)))
    if out.refs and not re.search(r"<Unit>\s*\w+\s*</Unit>", text):
        return _fail("<REF> without a <Unit>...</Unit> decoding type")
    return _finish(text, out)


def parse_seg(text: str) -> Parsed:
    """LISA / GLaMM / OMG-LLaVA: ``[SEG]`` tokens; the mask itself comes from a PNG file."""
    out = Parsed(refs=text.count("[SEG]"))
    return _finish(text, out)


_LMMS = re.compile(
    r"\[\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)\s*\]"
)


def parse_lmms_eval(text: str) -> Parsed:
    """lmms-eval ``refcoco*_bbox_rec``: the first ``[a, b, c, d]`` (commas, optional minus, decimals;
    no exponent, no ``+``); nothing else is read. A miss is a parse failure (lmms-eval scores it as
    ``[0, 0, 0, 0]``, which the ``rec/lmms-eval`` protocol reproduces)."""
    m = _LMMS.search(text)
    if not m:
        return _fail("no [a, b, c, d] (lmms-eval rule)")
    return Parsed(boxes=[_floats(m.groups())])


_VLM_NUM = r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"
_VLM_BOX = re.compile(
    rf"\[\s*({_VLM_NUM})(?:\s*,\s*|\s+)({_VLM_NUM})(?:\s*,\s*|\s+)({_VLM_NUM})(?:\s*,\s*|\s+)({_VLM_NUM})\s*\]"
)


def parse_vlmevalkit(text: str) -> Parsed:
    """VLMEvalKit ``RefCOCODataset``: the first ``[a, b, c, d]`` (comma or space separated), else the
    first four numbers anywhere in the answer; fewer than four numbers is a failure."""
    m = _VLM_BOX.search(text)
    if m:
        return Parsed(boxes=[_floats(m.groups())])
    numbers = re.findall(_VLM_NUM, text)
    if len(numbers) < 4:
        return _fail("fewer than four numbers (VLMEvalKit rule)")
    return Parsed(boxes=[_floats(numbers[:4])])


GRAMMARS = {
    "qwen-vl": parse_qwen_vl,
    "qwen2-vl": parse_qwen2_vl,
    "qwen2.5-vl": parse_qwen25_vl,
    "internvl": parse_internvl,
    "cogvlm": parse_cogvlm,
    "shikra": parse_shikra,
    "ferret": parse_ferret,
    "minigpt-v2": parse_minigpt_v2,
    "florence-2": parse_florence2,
    "florence-2-seg": parse_florence2_polygons,
    "paligemma": parse_paligemma,
    "kosmos-2": parse_kosmos2,
    "ref-vlm": parse_ref_vlm,
    "seg": parse_seg,
    "generic": parse_generic,
    "lmms-eval": parse_lmms_eval,
    "vlmevalkit": parse_vlmevalkit,
}
