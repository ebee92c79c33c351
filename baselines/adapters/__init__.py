"""Adapters: other models' outputs -> vgbench predictions files (docs/formats.md#predictions-file).

- `convert_png_masks`: a folder of per-expression PNG masks (``expr_id`` with ``/`` -> ``__``).
- `convert_coco_results`: a COCO results list plus a sidecar mapping to ``expr_id``.
- `convert_vg_dump`: SimVG / InstanceVG-style per-expression dumps (boxes xyxy, scores, masks).
- `baselines.adapters.text` (`convert_text_answers`, `adapt_and_score`): multimodal-LLM text answers,
  lmms-eval logs and VLMEvalKit results (``vgbench adapt text``).

Each reads the expressions of one config/split of a built dataset and writes one record per
expression, atomically. Formats are documented in each module and in ``docs/baselines.md``.
"""

from baselines.adapters.coco_results import convert_coco_results, load_mapping
from baselines.adapters.png_masks import convert_png_masks, png_name, read_png_mask
from baselines.adapters.text import adapt_and_score, convert_text_answers
from baselines.adapters.vg_dump import OUTMASK_TYPES, convert_vg_dump, dump_record, iter_dump

ADAPTERS = ("png-masks", "coco-results", "vg-dump")

__all__ = [
    "ADAPTERS",
    "OUTMASK_TYPES",
    "adapt_and_score",
    "convert_coco_results",
    "convert_png_masks",
    "convert_text_answers",
    "convert_vg_dump",
    "dump_record",
    "iter_dump",
    "load_mapping",
    "png_name",
    "read_png_mask",
]
