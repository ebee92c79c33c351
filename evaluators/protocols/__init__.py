"""The registry of scoring protocols (docs/formats.md#scoring-protocols): names, versions, defaults, "did you mean" lookup."""

from __future__ import annotations

import difflib

from evaluators.errors import InputError
from evaluators.limits import MAX_RESIZE
from evaluators.protocols.base import Protocol
from evaluators.protocols.grec import GrecGRefCOCO, GrecIoU
from evaluators.protocols.gres import GresInstanceVG, GresReLA
from evaluators.protocols.harness import RecLmmsEval, RecVLMEvalKit
from evaluators.protocols.rec import RecGIoU, RecIoU, RecRefer
from evaluators.protocols.refzom import RefzomDMMI, RefzomInstanceVG
from evaluators.protocols.res import ResLAVT
from evaluators.protocols.rrefcoco import RRefCOCOInstanceVG, RRefCOCORefSegformer

__all__ = ["DEFAULTS", "PROTOCOLS", "TASKS", "Protocol", "get_protocol"]

PROTOCOLS: dict[str, type[Protocol]] = {
    cls.name: cls
    for cls in (
        RecIoU,
        RecGIoU,
        RecRefer,
        RecLmmsEval,
        RecVLMEvalKit,
        ResLAVT,
        GrecGRefCOCO,
        GrecIoU,
        GresReLA,
        GresInstanceVG,
        RefzomDMMI,
        RefzomInstanceVG,
        RRefCOCORefSegformer,
        RRefCOCOInstanceVG,
    )
}
DEFAULTS: dict[str, str] = {
    "rec": "rec/iou",
    "res": "res/lavt",
    "grec": "grec/grefcoco",
    "gres": "gres/rela",
    "refzom": "refzom/dmmi",
    "rrefcoco": "rrefcoco/refsegformer",
}
TASKS = tuple(DEFAULTS)


def get_protocol(task: str, name: str | None = None, resize: int | None = None) -> Protocol:
    """The protocol ``name`` (or the task's default), checked to belong to ``task``."""
    if task not in DEFAULTS:
        close = difflib.get_close_matches(task, TASKS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown task {task!r}{hint} (tasks: {', '.join(TASKS)})")
    name = name or DEFAULTS[task]
    if name not in PROTOCOLS:
        close = difflib.get_close_matches(name, PROTOCOLS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown protocol {name!r}{hint} (see `vgbench protocols`)")
    cls = PROTOCOLS[name]
    if cls.task != task:
        raise InputError(f"protocol {name!r} scores task {cls.task!r}, not {task!r}")
    if resize is not None and not 0 < resize <= MAX_RESIZE:
        raise InputError(f"--resize must be an integer in [1, {MAX_RESIZE}], got {resize}")
    return cls(resize=resize)
