"""vgbench dataset builders: official refs/instances files (or synthetic ones) -> one unified schema.

- `write_synth`: synthetic sources for all ten configs (``vgbench synth``)
- `build_dataset`: Parquet shards + dataset card + manifest (``vgbench build``)
- `iter_rows`, `list_configs`, `shard_paths`, `read_manifest`: read a built dataset with pyarrow;
  `open_image`: a row's image
- `synth_grammar.VOCAB` / `synth_grammar.resolve` and `synth.generate_scenes`: the synthetic grammar's
  words and an oracle that interprets a sentence in its scene
- `export_targets`: the evaluator's targets file (``vgbench export-targets``)
- `CONFIGS`, `REFMIX`: the configs of docs/formats.md#configs-and-splits (+ ``refmix_train``)
- `load_pickle`: the restricted unpickler for untrusted refs files
- `load_instances`, `annotation_mask`: COCO instances and polygon/RLE masks
- `LAYOUTS`, `detect_layout`: the source layouts ``vgbench build --format`` reads;
  `write_formats`: an official-layout source written again in every other layout
"""

from datasets_builders.coco import CocoIndex, annotation_mask, load_instances
from datasets_builders.configs import CONFIGS, PUBLISHED, REFMIX, REFMIX_SOURCES, config_names
from datasets_builders.layouts import LAYOUTS
from datasets_builders.layouts import detect as detect_layout
from datasets_builders.reading import iter_rows, list_configs, read_manifest, shard_paths
from datasets_builders.sources import Ref, Sentence, read_refs
from datasets_builders.unpickle import load_pickle, loads_restricted

__all__ = [
    "CONFIGS",
    "LAYOUTS",
    "PUBLISHED",
    "REFMIX",
    "REFMIX_SOURCES",
    "CocoIndex",
    "Ref",
    "Sentence",
    "annotation_mask",
    "build_dataset",
    "config_names",
    "detect_layout",
    "export_targets",
    "iter_rows",
    "list_configs",
    "load_instances",
    "load_pickle",
    "loads_restricted",
    "open_image",
    "read_manifest",
    "read_refs",
    "shard_paths",
    "write_formats",
    "write_synth",
]


def __getattr__(name: str):
    """Lazy imports: `build_dataset` needs `datasets`, `open_image`/`write_synth` need Pillow."""
    if name == "build_dataset":
        from datasets_builders.build import build_dataset

        return build_dataset
    if name == "open_image":
        from datasets_builders.images import open_image

        return open_image
    if name == "write_synth":
        from datasets_builders.synth import write_synth

        return write_synth
    if name == "write_formats":
        from datasets_builders.write_formats import write_formats

        return write_formats
    if name == "export_targets":
        from datasets_builders.export import export_targets

        return export_targets
    raise AttributeError(f"module 'datasets_builders' has no attribute {name!r}")
