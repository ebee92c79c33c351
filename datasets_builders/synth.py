"""``write_synth``: synthetic source files for all ten configs (docs/datasets_builders.md, synthetic data), from a seed.

Writes the layout of docs/formats.md#source-files with real JPEG images::

    OUT/images/train2014/COCO_train2014_%012d.jpg   (``images`` scenes)
    OUT/images/val2014/COCO_val2014_%012d.jpg       (a few more scenes, used by Ref-ZOM only)
    OUT/{refcoco,refcoco+,refcocog,grefcoco,ref-zom,rrefcoco,rrefcoco+,rrefcocog}/instances.json + refs
    OUT/vgbench_synth.json                          (what was generated: seed, images, vgbench version)
    OUT/formats/{zip,instancevg,jxu124,lmms-lab}/   the same sources in the other layouts `vgbench build`
                                                    reads (`write_formats.write_formats`)

Scenes and expressions come from `synth_scene` and `synth_grammar`; every sentence determines its
targets. Pickles are protocol 2 (as the official Python-2 files). The output is a pure function of
``(images, seed)``: a rerun is byte-identical. The folder is written to a temporary sibling and
renamed into place.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

from datasets_builders.atomic_dir import check_replaceable, remove_stale_temps, swap_in
from datasets_builders.synth_grammar import LOCATION_WORDS, absent_expressions, describe, multi_expressions
from datasets_builders.synth_scene import CATEGORIES, CATEGORY_ID, Scene, SceneObject, make_scene, render
from datasets_builders.write_formats import write_formats
from evaluators.progress import progress

__all__ = ["MARKER", "generate_scenes", "write_synth"]

log = logging.getLogger(__name__)

MARKER = "vgbench_synth.json"
_PLAIN = ("refcoco", "refcoco+", "refcocog", "grefcoco", "rrefcoco", "rrefcoco+", "rrefcocog")


def _file_name(folder: str, image_id: int) -> str:
    return f"COCO_{folder}_{image_id:012d}.jpg"


def _instances(scenes: list[tuple[int, str, Scene]]) -> dict[str, Any]:
    images, anns = [], []
    for image_id, folder, scene in scenes:
        images.append(
            {
                "license": 1,
                "file_name": _file_name(folder, image_id),
                "height": scene.height,
                "width": scene.width,
                "id": image_id,
            }
        )
        for o in scene.objects:
            anns.append(
                {
                    "segmentation": o.rle if o.rle is not None else o.parts,
                    "area": o.area,
                    "iscrowd": int(o.iscrowd),
                    "image_id": image_id,
                    "bbox": o.bbox,
                    "category_id": CATEGORY_ID[o.kind],
                    "id": o.ann_id,
                }
            )
    return {
        "info": {"description": "vgbench synthetic shapes (vgbench synth)", "version": "1.0"},
        "licenses": [{"id": 1, "name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}],
        "images": images,
        "annotations": anns,
        "categories": CATEGORIES,
    }


class _RefWriter:
    """Accumulates refs of one file with its own ref_id / sent_id counters."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.refs: list[dict[str, Any]] = []
        self.next_sent = 0

    def add(
        self, image_id: int, split: str, ann_id: Any, category_id: Any, sents: list[str], **extra
    ) -> dict:
        sentences = []
        for sent in sents:
            raw = self.rng.choice([sent, sent.capitalize(), sent.upper()])
            sentences.append({"tokens": sent.split(), "raw": raw, "sent_id": self.next_sent, "sent": sent})
            self.next_sent += 1
        first = ann_id[0] if isinstance(ann_id, list) else ann_id
        ref = {
            "sent_ids": [s["sent_id"] for s in sentences],
            "file_name": f"COCO_train2014_{image_id:012d}_{max(first, 0)}.jpg",
            "ann_id": ann_id,
            "ref_id": len(self.refs),
            "image_id": image_id,
            "split": split,
            "sentences": sentences,
            "category_id": category_id,
        }
        ref.update(extra)
        self.refs.append(ref)
        return ref


def _pick(rng: random.Random, options: list[str], k: int) -> list[str]:
    seen = list(dict.fromkeys(options))
    rng.shuffle(seen)
    return seen[: max(1, min(k, len(seen)))] if seen else []


def _single_sentences(o: SceneObject, scene: Scene, rng: random.Random, style: str) -> list[str]:
    """1-3 unique descriptions of one object in the style of a dataset."""
    if o.kind == "bar":
        return ["the black bar"] if sum(p.kind == "bar" for p in scene.objects) == 1 else []
    d = describe(o, scene, allow_location=style != "refcoco+")
    if style == "refcocog":  # longer, relational sentences first
        longest = sorted(d["relation"] + d["attr"] + d["location"], key=lambda s: (-len(s), s))
        return longest[: rng.randint(1, 2)]
    options = d["attr"] + d["location"][:1] + d["relation"][:1]
    if style == "refcoco+":
        options = [s for s in options if not LOCATION_WORDS & set(s.split())]
    return _pick(rng, options, rng.randint(1, 3))


def _refer_refs(
    scenes: list[tuple[int, str, Scene]],
    splits: dict[int, str],
    rng: random.Random,
    style: str,
    negatives: str | None = None,
) -> list[dict[str, Any]]:
    """RefCOCO-shaped refs: one ref per describable object; R-RefCOCO adds ``exist: false`` sentences."""
    w = _RefWriter(rng)
    for image_id, _, scene in scenes:
        if image_id not in splits:
            continue
        for o in scene.objects:
            if o.iscrowd:
                continue
            sents = _single_sentences(o, scene, rng, style)
            if not sents:
                continue
            ref = w.add(image_id, splits[image_id], o.ann_id, CATEGORY_ID[o.kind], sents)
            if negatives is not None:
                for s in ref["sentences"]:
                    if negatives == "explicit":
                        s["exist"] = True
                for sent in absent_expressions(scene, rng, rng.randint(1, 2)):
                    neg = {
                        "tokens": sent.split(),
                        "raw": sent,
                        "sent_id": w.next_sent,
                        "sent": sent,
                        "exist": False,
                    }
                    w.next_sent += 1
                    ref["sentences"].append(neg)
                    ref["sent_ids"].append(neg["sent_id"])
    return w.refs


def _grouped_multi(scene: Scene) -> list[tuple[list[SceneObject], list[str]]]:
    groups: dict[tuple[int, ...], tuple[list[SceneObject], list[str]]] = {}
    for sent, objs in multi_expressions(scene):
        key = tuple(sorted(o.ann_id for o in objs))
        groups.setdefault(key, (objs, []))[1].append(sent)
    return list(groups.values())


def _grefcoco_refs(
    scenes: list[tuple[int, str, Scene]], splits: dict[int, str], rng: random.Random
) -> list[dict[str, Any]]:
    w = _RefWriter(rng)
    for image_id, _, scene in scenes:
        if image_id not in splits:
            continue
        split = splits[image_id]
        for o in scene.shapes:
            sents = _single_sentences(o, scene, rng, "refcoco")[:2]
            if sents:
                w.add(image_id, split, [o.ann_id], [CATEGORY_ID[o.kind]], sents, no_target=False)
        for objs, sents in _grouped_multi(scene):
            ids = [o.ann_id for o in objs]
            w.add(image_id, split, ids, [CATEGORY_ID[o.kind] for o in objs], sents[:2], no_target=False)
        absent = absent_expressions(scene, rng, rng.randint(1, 2))
        if absent:
            w.add(image_id, split, [-1], [-1], absent, no_target=True)
    return w.refs


def _refzom_refs(
    scenes: list[tuple[int, str, Scene]], splits: dict[int, str], rng: random.Random
) -> list[dict[str, Any]]:
    w = _RefWriter(rng)
    for image_id, folder, scene in scenes:
        split = splits[image_id]
        for o in scene.shapes:
            sents = _single_sentences(o, scene, rng, "refcoco")[:1]
            if sents:
                ref = w.add(image_id, split, o.ann_id, CATEGORY_ID[o.kind], sents, source="one")
                ref["file_name"] = f"COCO_{folder}_{image_id:012d}_{o.ann_id}.jpg"
        for objs, sents in _grouped_multi(scene)[:2]:
            w.add(
                image_id,
                split,
                [o.ann_id for o in objs],
                [CATEGORY_ID[o.kind] for o in objs],
                sents[:1],
                source="many",
            )
        for sent in absent_expressions(scene, rng, 1) if scene.shapes else ():
            # as the real refs(final).p: a zero ref names an existing annotation of its image (the
            # official loader indexes every ann_id), and only source == "zero" marks it no-target
            anchor = scene.shapes[0]
            w.add(image_id, split, anchor.ann_id, CATEGORY_ID[anchor.kind], [sent], source="zero")
    return w.refs


def _splits(
    ids: list[int], names: tuple[str, ...], held: list[int], weights: tuple[int, ...] | None = None
) -> dict[int, str]:
    """First name for every id not held out; the held-out ids cut into runs for the others, of sizes in
    proportion to ``weights`` (equal runs without weights, or when there are fewer ids than weight units)."""
    out = {i: names[0] for i in ids}
    rest = names[1:]
    if weights is None or len(held) < sum(weights):
        weights = (1,) * len(rest)
    bounds = list(itertools.accumulate(weights))
    for k, image_id in enumerate(held):
        out[image_id] = rest[next(j for j, b in enumerate(bounds) if k * bounds[-1] < b * len(held))]
    return out


def _dump_pickle(path: Path, obj: Any) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _dump_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":")), encoding="utf-8")


def generate_scenes(images: int, seed: int) -> list[tuple[int, str, Scene]]:
    """The scenes `write_synth` draws: ``(image_id, "train2014" | "val2014", scene)`` with ann ids set.

    ``images`` train2014 scenes then ``max(2, images // 10)`` val2014 scenes; a pure function of the
    arguments (tests and demos use it to look up an object's colour, size and position).
    """
    rng = random.Random(seed)
    n_val = max(2, images // 10)
    ids = rng.sample(range(1, 581930), images + n_val)
    scenes: list[tuple[int, str, Scene]] = []
    next_ann = 100001
    for k, image_id in enumerate(ids):
        folder = "train2014" if k < images else "val2014"
        scene = make_scene(random.Random(f"vgbench-synth:{seed}:{k}"))
        for o in scene.objects:
            o.ann_id = next_ann
            next_ann += 1
        scenes.append((image_id, folder, scene))
    return scenes


def _write_tree(root: Path, images: int, seed: int, quiet: bool) -> None:
    rng = random.Random(seed)
    rng.sample(range(1, 581930), images + max(2, images // 10))  # the ids drawn by generate_scenes
    scenes = generate_scenes(images, seed)
    train_ids = [i for i, folder, _ in scenes if folder == "train2014"]
    val_ids = [i for i, folder, _ in scenes if folder == "val2014"]
    for image_id, folder, scene in progress(scenes, len(scenes), "synth images", quiet=quiet, leave=True):
        path = root / "images" / folder / _file_name(folder, image_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        render(scene).save(path, format="JPEG", quality=92)
    train_scenes = [s for s in scenes if s[1] == "train2014"]

    order = list(train_ids)
    rng.shuffle(order)
    n_held = max(3, round(0.3 * images))
    held, kept = order[:n_held], order[n_held:]
    k_g = max(1, n_held // 4)  # RefCOCOg holds out some RefCOCO train images (refmix drops them)
    held_g = held[: n_held - k_g] + kept[:k_g]

    # UNC splits hold out val : testA : testB images 2 : 1 : 1, as the real ones do (1,500 / 750 / 750)
    unc = _splits(train_ids, ("train", "val", "testA", "testB"), held, weights=(2, 1, 1))
    google = _splits(train_ids, ("train", "val", "test"), held)
    umd = _splits(train_ids, ("train", "val", "test"), held_g)
    g_google = _splits(train_ids, ("train", "val"), held_g)
    rref = _splits(train_ids, ("train", "val"), held)
    zom = _splits(train_ids, ("train", "test"), held[: max(1, n_held // 2)])
    zom.update({i: "test" for i in val_ids})

    instances = _instances(train_scenes)
    for folder in _PLAIN:
        (root / folder).mkdir(parents=True)
        _dump_json(root / folder / "instances.json", instances)
    (root / "ref-zom").mkdir()
    _dump_json(root / "ref-zom" / "instances.json", _instances(scenes))

    r = random.Random(f"vgbench-synth-refs:{seed}")
    _dump_pickle(root / "refcoco" / "refs(unc).p", _refer_refs(train_scenes, unc, r, "refcoco"))
    _dump_pickle(root / "refcoco" / "refs(google).p", _refer_refs(train_scenes, google, r, "refcoco"))
    _dump_pickle(root / "refcoco+" / "refs(unc).p", _refer_refs(train_scenes, unc, r, "refcoco+"))
    _dump_pickle(root / "refcocog" / "refs(umd).p", _refer_refs(train_scenes, umd, r, "refcocog"))
    _dump_pickle(root / "refcocog" / "refs(google).p", _refer_refs(train_scenes, g_google, r, "refcocog"))
    _dump_json(root / "grefcoco" / "grefs(unc).json", _grefcoco_refs(train_scenes, unc, r))
    _dump_pickle(root / "ref-zom" / "refs(final).p", _refzom_refs(scenes, zom, r))
    _dump_pickle(root / "rrefcoco" / "refs(unc).p", _refer_refs(train_scenes, rref, r, "refcoco", "implicit"))
    _dump_pickle(
        root / "rrefcoco+" / "refs(unc).p", _refer_refs(train_scenes, rref, r, "refcoco+", "explicit")
    )
    _dump_pickle(
        root / "rrefcocog" / "refs(umd).p", _refer_refs(train_scenes, rref, r, "refcocog", "explicit")
    )


def write_synth(out_dir: str | Path, images: int = 40, seed: int = 0, quiet: bool = False) -> Path:
    """Write synthetic sources for all ten configs into ``out_dir`` (replaced atomically); return it.

    ``images`` train2014 scenes (at least 10, so that every split has an image) plus
    ``max(2, images // 10)`` val2014 scenes for Ref-ZOM. Raises `InputError` if ``out_dir`` exists and
    is a non-empty folder that `write_synth` did not write. ``quiet`` hides the progress bar (stderr).
    """
    from evaluators.errors import InputError
    from evaluators.version import package_version

    if images < 10:
        raise InputError(f"images: need at least 10 scenes so that every split is non-empty, got {images}")
    out = Path(out_dir).resolve()
    check_replaceable(out, MARKER, "vgbench synth")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    tmp = out.with_name(f".{out.name}.synth-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _write_tree(tmp, images, seed, quiet)
        write_formats(tmp, tmp / "formats")
        _dump_json(
            tmp / MARKER,
            {
                "generator": "vgbench synth",
                "vgbench_version": package_version(),
                "images": images,
                "seed": seed,
            },
        )
        swap_in(tmp, out, MARKER, "vgbench synth")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("wrote synthetic sources (%d scenes, seed %d) to %s", images, seed, out)
    return out
