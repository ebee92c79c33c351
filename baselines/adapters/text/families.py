"""The answer families: grammar + coordinate convention + source, and the conversion to pixels.

A `Family` reads one answer (`grammars`) and maps its boxes to ``(x1, y1, x2, y2)`` pixels of the
original image (`conventions`). The table in docs/baselines.md lists each family's grammar,
convention and the source it follows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from baselines.adapters.text import grammars
from baselines.adapters.text.conventions import CONVENTIONS, Convention, ImageSize
from evaluators.errors import InputError

__all__ = ["FAMILIES", "Family", "get_family"]


@dataclass(frozen=True)
class Family:
    """One answer family. ``convention`` is ``None`` for ``generic`` (given by ``--coords``)."""

    name: str
    grammar: str  # key of grammars.GRAMMARS
    convention: str | None
    example: str
    source: str
    masks: str = "none"  # "none", "polygons" (in the text) or "png" (a separate mask file)

    def parse(self, text: str) -> grammars.Parsed:
        return grammars.GRAMMARS[self.grammar](text)

    def to_pixels(self, box: tuple[float, ...], size: ImageSize, conv: Convention) -> tuple[float, ...]:
        """A family-unit box -> original-image pixels (x1, y1, x2, y2)."""
        if self.name == "vlmevalkit":
            return vlmevalkit_to_pixels(box, size)
        return conv.to_pixels(box, size)


def vlmevalkit_to_pixels(box: tuple[float, ...], size: ImageSize) -> tuple[float, ...]:
    """VLMEvalKit's scale guess: largest |coordinate| <= 1.5 -> 0-1, <= 1000 -> 0-1000, else pixels;
    then clipped to the image and corners put in order (``RefCOCODataset._to_absolute``)."""
    w, h = float(size.width), float(size.height)
    biggest = max(abs(v) for v in box)
    if biggest <= 1.5:
        sx, sy = w, h
    elif biggest <= 1000:
        sx, sy = w / 1000.0, h / 1000.0
    else:
        sx = sy = 1.0
    x1, x2 = sorted((min(max(box[0] * sx, 0.0), w), min(max(box[2] * sx, 0.0), w)))
    y1, y2 = sorted((min(max(box[1] * sy, 0.0), h), min(max(box[3] * sy, 0.0), h)))
    return x1, y1, x2, y2


_SRC_QWEN = "Qwen-VL paper (Bai et al., 2023) and QwenLM/Qwen-VL eval_mm/evaluate_grounding.py"
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "qwen-vl", "qwen-vl", "norm1000", "<ref>the man</ref><box>(120,230),(560,780)</box>", _SRC_QWEN
        ),
        Family(
            "qwen2-vl",
            "qwen2-vl",
            "norm1000",
            "<|object_ref_start|>the man<|object_ref_end|><|box_start|>(120,230),(560,780)<|box_end|>",
            "Qwen2-VL paper (Wang et al., 2024), section on grounding tokens; Qwen2-VL chat template",
        ),
        Family(
            "qwen2.5-vl",
            "qwen2.5-vl",
            "resized",
            '```json\n[{"bbox_2d": [84, 161, 392, 546], "label": "the man"}]\n```',
            "Qwen2.5-VL technical report (2025, absolute coordinates); qwen_vl_utils.smart_resize",
        ),
        Family(
            "internvl",
            "internvl",
            "norm1000",
            "<ref>the man</ref><box>[[120, 230, 560, 780]]</box>",
            "OpenGVLab/InternVL internvl_chat/eval/refcoco/evaluate_grounding.py",
        ),
        Family(
            "cogvlm",
            "cogvlm",
            "norm1000",
            "the man [[120,230,560,780]]",
            "THUDM/CogVLM README, grounding models: [[x0,y0,x1,y1]] with 000-999 values",
        ),
        Family(
            "shikra",
            "shikra",
            "square1",
            "the man [0.120,0.302,0.560,0.790]",
            "shikras/shikra: boxes normalised by the expand2square-padded image, 3 decimals",
        ),
        Family(
            "ferret",
            "ferret",
            "norm1000",
            "the man [120, 230, 560, 780]",
            "apple/ml-ferret: coordinates on a 1000 x 1000 grid (VOCAB_IMAGE_W = VOCAB_IMAGE_H = 1000)",
        ),
        Family(
            "minigpt-v2",
            "minigpt-v2",
            "norm100",
            "<p>the man</p> {<12><23><56><78>}",
            "MiniGPT-v2 paper (Chen et al., 2023), section 3: {<Xleft><Ytop><Xright><Ybottom>} on a 0-100 grid",
        ),
        Family(
            "florence-2",
            "florence-2",
            "bins1000",
            "the man<loc_120><loc_230><loc_560><loc_780>",
            "microsoft/Florence-2 processing_florence2.py: 1000 bins per side, decoded at the bin centre",
        ),
        Family(
            "florence-2-seg",
            "florence-2-seg",
            "bins1000",
            "<loc_120><loc_230><loc_560><loc_230><loc_560><loc_780><loc_120><loc_780>",
            "microsoft/Florence-2 processing_florence2.py: polygons of <loc_x><loc_y> pairs, <sep> between rings",
            masks="polygons",
        ),
        Family(
            "paligemma",
            "paligemma",
            "norm1024",
            "<loc0235><loc0123><loc0799><loc0573> the man",
            "google-research/big_vision PaliGemma README: <locYYYY> tokens, y first, 1024 bins",
        ),
        Family(
            "kosmos-2",
            "kosmos-2",
            "norm1",
            "<phrase>the man</phrase><object><patch_index_0227><patch_index_0817></object>",
            "transformers Kosmos2Processor patch_index_to_coordinate (32 x 32 patch grid)",
        ),
        Family(
            "ref-vlm",
            "ref-vlm",
            "pixel",
            "<Phrase>the man</Phrase> (<Unit>box</Unit>[0]<REF>)",
            "REF-VLM paper (Tian et al., 2024): triplet-based referring paradigm; boxes from its box decoder",
            masks="png",
        ),
        Family(
            "seg",
            "seg",
            "pixel",
            "Sure, it is [SEG].",
            "LISA (Lai et al., 2024), GLaMM, OMG-LLaVA: [SEG] tokens decoded into a mask by a mask decoder",
            masks="png",
        ),
        Family(
            "generic",
            "generic",
            None,
            "the man is at [120, 230, 560, 780]",
            "vgbench: any [x1, y1, x2, y2], (x1, y1, x2, y2) or (x1,y1),(x2,y2) with --coords",
        ),
        Family(
            "lmms-eval",
            "lmms-eval",
            "norm1",
            "[0.12, 0.23, 0.56, 0.78]",
            "EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/refcoco/utils_rec.py parse_float_sequence_within",
        ),
        Family(
            "vlmevalkit",
            "vlmevalkit",
            "pixel",
            "[0.12, 0.23, 0.56, 0.78]",
            "open-compass/VLMEvalKit vlmeval/dataset/refcoco.py (_parse_prediction, _to_absolute)",
        ),
    )
}


def get_family(name: str) -> Family:
    """The family ``name``; `InputError` with a "did you mean" hint otherwise."""
    if name not in FAMILIES:
        close = difflib.get_close_matches(name, FAMILIES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown answer family {name!r}{hint} (known: {', '.join(FAMILIES)})")
    return FAMILIES[name]


def resolve_convention(family: Family, coords: str | None) -> Convention:
    """The convention of ``family``; ``generic`` needs ``coords``, other families refuse a different one."""
    if family.convention is None:
        if not coords:
            raise InputError("--family generic needs --coords (one of: " + ", ".join(CONVENTIONS) + ")")
        if coords not in CONVENTIONS:
            raise InputError(f"unknown --coords {coords!r} (known: {', '.join(CONVENTIONS)})")
        return CONVENTIONS[coords]
    if coords and coords != family.convention:
        raise InputError(
            f"--coords {coords} contradicts family {family.name} (its convention is {family.convention}); "
            "use --family generic to choose the convention"
        )
    return CONVENTIONS[family.convention]
