"""The dataset card (``OUT/README.md``) and the check of built counts against published sizes.

The card's YAML front matter maps every config to ``data/{config}/{split}-*.parquet`` per split
(``configs:``) and carries ``dataset_info`` (features and split sizes), so
``datasets.load_dataset(OUT, config, split=...)`` works offline without a loading script.
The text is built from the inputs only (no dates), so rebuilding gives the same bytes.

Published sizes: the card always shows "published vs built" for the configs with published numbers.
The comparison is *applied* (mismatches logged as warnings and listed in the manifest) only when the
build looks like the real data: the built row count of a split with a published size is at least 10%
of that size. Synthetic and excerpt builds are orders of magnitude smaller and are reported, not flagged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCardData

from datasets_builders.configs import PUBLISHED, REFMIX, REFMIX_SOURCES
from datasets_builders.plan import BuildPlan
from evaluators.atomic import write_text_atomic

Counts = dict[str, dict[str, dict[str, Any]]]  # config -> split -> {rows, refs, images, ...}

__all__ = ["card_data", "published_check", "render_card", "write_card"]

REAL_FRACTION = 0.10

_CITATIONS = """\
- RefCOCO / RefCOCO+: Kazemzadeh et al., "ReferItGame", EMNLP 2014; Yu et al., "Modeling Context in Referring Expressions", ECCV 2016.
- RefCOCOg: Mao et al., "Generation and Comprehension of Unambiguous Object Descriptions", CVPR 2016; UMD split: Nagaraja et al., ECCV 2016.
- gRefCOCO: Liu et al., "GRES: Generalized Referring Expression Segmentation", CVPR 2023.
- Ref-ZOM: Hu et al., "Beyond One-to-One: Rethinking the Referring Image Segmentation", ICCV 2023.
- R-RefCOCO/+/g: Wu et al., "Towards Robust Referring Image Segmentation", IEEE TIP 2024.
- COCO: Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014."""


def published_check(counts: Counts) -> dict[str, Any]:
    """Compare built counts with `PUBLISHED`: ``{"table": [...], "applied": [...], "mismatches": [...]}``."""
    table, applied, mismatches = [], [], []
    for config, splits in PUBLISHED.items():
        if config not in counts:
            continue
        real = any(
            counts[config].get(split, {}).get("rows", 0) >= REAL_FRACTION * pub["rows"]
            for split, pub in splits.items()
        )
        if real:
            applied.append(config)
        for split, pub in splits.items():
            built = counts[config].get(split, {})
            for key, value in pub.items():
                got = built.get(key)
                table.append([config, split, key, value, got])
                if real and got != value:
                    mismatches.append(f"{config}/{split} {key}: published {value}, built {got}")
    return {"table": table, "applied": applied, "mismatches": mismatches}


def card_data(
    plan: BuildPlan, counts: Counts, feats: datasets.Features, info: dict[str, Any]
) -> DatasetCardData:
    """The card's metadata (`huggingface_hub.DatasetCardData`): licence, citation, ``configs`` (the Parquet
    files of each split) and ``dataset_info`` (features and split sizes, from `datasets`' own
    `DatasetInfosDict.to_dataset_card_data`), as the Hub and ``datasets.load_dataset`` read them."""
    extra: dict[str, Any] = (
        {"license_name": "vgbench-synthetic", "tags": ["synthetic"]} if info["synthetic"] else {}
    )
    data = DatasetCardData(
        license=info["license"],
        **extra,
        task_categories=["object-detection", "image-segmentation"],
        pretty_name="vgbench synthetic shapes" if info["synthetic"] else "vgbench visual grounding",
        citation=info["citation"],
        configs=[
            {
                "config_name": c.name,
                "data_files": [{"split": s, "path": f"data/{c.name}/{s}-*.parquet"} for s in c.splits],
            }
            for c in plan.configs
        ],
    )
    infos = DatasetInfosDict(
        {
            c.name: datasets.DatasetInfo(
                features=feats,
                splits=datasets.SplitDict(
                    {
                        s: datasets.SplitInfo(
                            name=s,
                            num_bytes=counts[c.name][s]["num_bytes"],
                            num_examples=counts[c.name][s]["rows"],
                        )
                        for s in c.splits
                    }
                ),
                dataset_size=sum(counts[c.name][s]["num_bytes"] for s in c.splits),
            )
            for c in plan.configs
        }
    )
    infos.to_dataset_card_data(data)
    return data


def render_card(plan: BuildPlan, counts: Counts, manifest: dict[str, Any], feats: datasets.Features) -> str:
    """The card text (YAML front matter + Markdown)."""
    first = plan.configs[0]
    info = manifest["dataset_info"]
    layout = manifest["layout"]
    lines = [
        "---",
        card_data(plan, counts, feats, info).to_yaml(),
        "---",
        "",
        "# vgbench synthetic shapes (not real data)"
        if info["synthetic"]
        else "# vgbench visual grounding data",
        "",
        "Built by `vgbench build` (vgbench "
        f"{manifest['vgbench_version']}) from source files in the `{layout}` layout: one row per referring "
        "expression, one schema for every config (vgbench docs/formats.md#the-unified-row).",
        "",
    ]
    if info["synthetic"]:
        lines += [
            "**This build is synthetic**: its sources were written by `vgbench synth` (coloured shapes and "
            "grammar sentences). It contains no COCO or RefCOCO material and claims no CC BY licence; its "
            "numbers say nothing about models on the real data.",
            "",
        ]
    lines += _layout_section(layout)
    lines += _images_section(manifest)
    lines += [
        "## How to load",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("path/to/this/folder", "{first.name}", split="{first.splits[0]}")',
        f'it = load_dataset("path/to/this/folder", "{first.name}", split="{first.splits[0]}", streaming=True)',
        "```",
        "",
        "Without `datasets`: `datasets_builders.reading.iter_rows(folder, config, split)` (pyarrow), or "
        "score predictions directly with `vgbench eval --targets folder --config C --split S`.",
        "",
        "## Counts",
        "",
        "| config | split | rows | refs | images | no-target | multi-target | shards |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in plan.configs:
        for s in c.splits:
            n = counts[c.name][s]
            lines.append(
                f"| {c.name} | {s} | {n['rows']} | {n['refs']} | {n['images']} | {n['no_target']} | "
                f"{n['multi_target']} | {n['shards']} |"
            )
    if plan.skipped:
        lines += [
            "",
            "Configs not built (sources absent): "
            + "; ".join(f"`{k}` ({v})" for k, v in plan.skipped.items())
            + ".",
        ]
    notes = manifest.get("notes", {}).get(REFMIX)
    if notes:
        lines += [
            "",
            f"`{REFMIX}` is the train splits of {', '.join(f'`{s}`' for s in REFMIX_SOURCES)} minus every "
            f"image that appears in one of their val/test splits: {notes['dropped_images']} images "
            f"({notes['dropped_rows']} expressions) were dropped. Its `expr_id` is "
            f"`{REFMIX}/train/{{source config}}/{{sent_id}}`.",
        ]
    check = manifest["published_check"]
    lines += ["", "## Published vs built sizes", ""]
    if check["table"]:
        lines += [
            "Checked against the published sizes (vgbench docs/formats.md#configs-and-splits) only for configs whose build "
            f"looks like the real data (a split with at least {REAL_FRACTION:.0%} of its published size): "
            + (", ".join(f"`{c}`" for c in check["applied"]) or "none (this is not a build of the real data)")
            + ".",
            "",
            "| config | split | count | published | built |",
            "|---|---|---|---:|---:|",
        ]
        lines += [
            f"| {c} | {s} | {k} | {p} | {b if b is not None else '-'} |" for c, s, k, p, b in check["table"]
        ]
        if check["mismatches"]:
            lines += ["", "**Mismatches:** " + "; ".join(check["mismatches"]) + "."]
    else:
        lines.append("No config with published sizes was built.")
    lines += [
        "",
        "## Schema",
        "",
        "| field | type | meaning |",
        "|---|---|---|",
        "| `expr_id` | string | `{config}/{split}/{sent_id}`, unique; the join key of predictions |",
        "| `dataset`, `config`, `split` | string | source dataset, config, split as the source spells it |",
        "| `image_id` | int64 | COCO image id |",
        "| `file_name` | string | image path relative to `images/`, e.g. `train2014/COCO_train2014_000000581857.jpg` |",
        "| `height`, `width` | int32 | original image size |",
        "| `ref_id`, `sent_id` | int64 | source ids |",
        "| `sentence`, `raw` | string | cleaned sentence, original typing |",
        "| `no_target` | bool | gRefCOCO `[-1]` ref, Ref-ZOM `zero` ref, R-RefCOCO negative |",
        "| `target_type` | string | `none` / `single` / `multi` (count of non-crowd targets) |",
        "| `targets` | list of struct | `{ann_id, category_id, iscrowd, bbox [x,y,w,h] abs. pixels, area, mask (RLE)}` |",
        "| `mask` | RLE | union of non-crowd target masks; all-zero when `no_target` |",
        "| `tokens`, `category_names` | list of string | extra: source tokens; category name per target |",
        "",
        "RLE is COCO compressed RLE `{size: [h, w], counts: str}` (column-major), as `pycocotools.mask.encode` "
        "writes it. Polygons with several parts are rasterised part by part and OR-ed.",
        "",
        "## Sources",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{p}` | `{h}` |" for p, h in manifest["sources"].items()]
    lines += [
        "",
        "## Licences and citation",
        "",
        f"Licence: `{info['license']}`. {info['license_text']} The same licence and BibTeX are in the YAML "
        "header above (`license`, `citation`), in `vgbench_build.json` (`dataset_info`, per config "
        "`config_citations`) and in the schema metadata of every Parquet shard (key `vgbench`).",
        "",
    ]
    if info["synthetic"]:
        lines += ["Synthetic data: nothing to cite but vgbench.", ""]
    else:
        lines += [
            "The referring expressions belong to their datasets; cite them when you use this data:",
            "",
            _CITATIONS,
            "",
            "```bibtex",
            info["citation"],
            "```",
            "",
        ]
    return "\n".join(lines)


def _layout_section(layout: str) -> list[str]:
    from datasets_builders.layouts import LAYOUTS, notes

    n = notes(layout)
    return [
        "## Source layout",
        "",
        f"Layout `{layout}`: {LAYOUTS[layout]}.",
        "",
        f"- Missing from this source: {n.missing}.",
        f"- Derived: {n.derived}.",
        f"- Split names: {n.splits}.",
        f"- Joins with an official build (predictions keyed by `expr_id`): {n.joinable}.",
        "",
    ]


def _images_section(manifest: dict[str, Any]) -> list[str]:
    if manifest["embed_images"]:
        text = (
            "Images are embedded: the `image` column is a `datasets.Image` (bytes + the path relative "
            "to the images root), so `load_dataset` returns PIL images."
            + (
                " They were taken from the source's own embedded images."
                if manifest.get("images_from_source")
                else ""
            )
        )
    else:
        root = manifest.get("images_root")
        text = (
            "Images are not embedded: `file_name` is the image path relative to the images root (the folder "
            "holding `train2014/` and `val2014/`"
            + (
                f"; at build time `{root}`). The `image` column (`datasets.Image`, no bytes) points at "
                "`{images root}/{file_name}`, so `load_dataset` returns PIL images while the images stay there"
                if root
                else "; none was present at build time, so there is no `image` column)"
            )
            + ". `datasets_builders.open_image(folder, row, images_dir)` opens a row's image from any root; "
            "`vgbench build --embed-images` stores the bytes instead."
        )
    return ["## Images", "", text, ""]


def write_card(
    path: Path, plan: BuildPlan, counts: Counts, manifest: dict[str, Any], feats: datasets.Features
) -> None:
    """Write the card atomically (temp file, then rename)."""
    write_text_atomic(path, render_card(plan, counts, manifest, feats), option="card")
