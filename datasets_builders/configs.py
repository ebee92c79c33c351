"""The ten configs of docs/formats.md#configs-and-splits (+ ``refmix_train``) and the published split sizes.

A config names the source folder under ``--source``, the refs file(s) it reads (first found wins),
the reader kind, and the splits kept as the source spells them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONFIGS", "PUBLISHED", "REFMIX", "REFMIX_SOURCES", "ConfigSpec", "config_names"]


@dataclass(frozen=True)
class ConfigSpec:
    """One built config: ``kind`` is ``refer``, ``grefcoco``, ``refzom`` or ``rrefcoco``."""

    name: str
    dataset: str
    folder: str
    refs_files: tuple[str, ...]
    kind: str
    splits: tuple[str, ...]


def _spec(name: str, dataset: str, folder: str, refs: tuple[str, ...], kind: str, splits: str) -> ConfigSpec:
    return ConfigSpec(name, dataset, folder, refs, kind, tuple(splits.split()))


CONFIGS: dict[str, ConfigSpec] = {
    s.name: s
    for s in (
        _spec("refcoco_unc", "refcoco", "refcoco", ("refs(unc).p",), "refer", "train val testA testB"),
        _spec("refcoco_google", "refcoco", "refcoco", ("refs(google).p",), "refer", "train val test"),
        _spec(
            "refcocoplus_unc", "refcocoplus", "refcoco+", ("refs(unc).p",), "refer", "train val testA testB"
        ),
        _spec("refcocog_umd", "refcocog", "refcocog", ("refs(umd).p",), "refer", "train val test"),
        _spec("refcocog_google", "refcocog", "refcocog", ("refs(google).p",), "refer", "train val"),
        _spec(
            "grefcoco_unc",
            "grefcoco",
            "grefcoco",
            ("grefs(unc).json", "grefs(unc).p"),
            "grefcoco",
            "train val testA testB",
        ),
        _spec("refzom_final", "refzom", "ref-zom", ("refs(final).p",), "refzom", "train test"),
        _spec("rrefcoco_unc", "rrefcoco", "rrefcoco", ("refs(unc).p",), "rrefcoco", "train val"),
        _spec("rrefcocoplus_unc", "rrefcocoplus", "rrefcoco+", ("refs(unc).p",), "rrefcoco", "train val"),
        _spec("rrefcocog_umd", "rrefcocog", "rrefcocog", ("refs(umd).p",), "rrefcoco", "train val"),
    )
}

# The mixed REC/RES training set of InstanceVG: these train splits, minus every image that appears in
# one of their val/test splits.
REFMIX = "refmix_train"
REFMIX_SOURCES = ("refcoco_unc", "refcocoplus_unc", "refcocog_umd")


def config_names() -> list[str]:
    """Every buildable config name, ``refmix_train`` last."""
    return [*CONFIGS, REFMIX]


# Published sizes (docs/formats.md#configs-and-splits; refs/images from the refer CSV split statistics, tests/data/realdata/refer_csv/full_split_stats.json,
# counted on the full official CSV files). Used only to validate builds of the real data.
PUBLISHED: dict[str, dict[str, dict[str, int]]] = {
    "refcoco_unc": {
        "train": {"rows": 120624},
        "val": {"rows": 10834, "refs": 3811, "images": 1500},
        "testA": {"rows": 5657, "refs": 1975, "images": 750},
        "testB": {"rows": 5095, "refs": 1810, "images": 750},
    },
    "refcocoplus_unc": {
        "train": {"rows": 120191},
        "val": {"rows": 10758, "refs": 3805, "images": 1500},
        "testA": {"rows": 5726, "refs": 1975, "images": 750},
        "testB": {"rows": 4889, "refs": 1798, "images": 750},
    },
    "refcocog_umd": {
        "train": {"rows": 80512},
        "val": {"rows": 4896, "refs": 2573, "images": 1300},
        "test": {"rows": 9602, "refs": 5023, "images": 2600},
    },
    "refcocog_google": {
        "val": {"rows": 9536, "refs": 5000, "images": 4650},
    },
}
