"""Multimodal-LLM text answers and harness logs -> vgbench predictions files.

- `convert_text_answers`: an answers file (vgbench JSON lines, lmms-eval ``--log_samples``, VLMEvalKit
  results) + targets -> predictions file + ``.adapt.json`` report (``vgbench adapt text``).
- `adapt_and_score`: the same, scoring the written records in the same pass (results dicts).
- `adapt_answers`: the same on in-memory `Answer`s and `Target`s (records + `AdaptReport`).
- `AdaptOptions`: the keyword options the three share (coordinates, parse failures, masks, ...).
- `FAMILIES`: the answer families (grammar, coordinate convention, source); `CONVENTIONS`;
  `smart_resize` (Qwen2-VL input size).
- `render_answer` / `render_quantum`: boxes -> a family's answer text, and its quantisation bound.
- `check_convention`: warnings when coordinates contradict the declared convention.

Formats, grammars and sources: docs/baselines.md, section "Text answers of multimodal LLMs".
"""

from baselines.adapters.text.answers import ANSWER_FORMATS, Answer, read_answers
from baselines.adapters.text.check import Observation, check_convention
from baselines.adapters.text.conventions import CONVENTIONS, Convention, ImageSize, smart_resize
from baselines.adapters.text.convert import (
    PARSE_FAILURE_MODES,
    AdaptOptions,
    adapt_and_score,
    adapt_answers,
    convert_text_answers,
)
from baselines.adapters.text.families import FAMILIES, Family, get_family, resolve_convention
from baselines.adapters.text.grammars import GRAMMARS, Parsed, says_no_target
from baselines.adapters.text.render import NO_TARGET_TEXT, render_answer, render_quantum
from baselines.adapters.text.report import AdaptReport, load_report, report_path

__all__ = [
    "ANSWER_FORMATS",
    "CONVENTIONS",
    "FAMILIES",
    "GRAMMARS",
    "NO_TARGET_TEXT",
    "PARSE_FAILURE_MODES",
    "AdaptOptions",
    "AdaptReport",
    "Answer",
    "Convention",
    "Family",
    "ImageSize",
    "Observation",
    "Parsed",
    "adapt_and_score",
    "adapt_answers",
    "check_convention",
    "convert_text_answers",
    "get_family",
    "load_report",
    "read_answers",
    "render_answer",
    "render_quantum",
    "report_path",
    "resolve_convention",
    "says_no_target",
    "smart_resize",
]
