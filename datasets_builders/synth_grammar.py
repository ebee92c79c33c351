"""The grammar of the synthetic expressions: every sentence determines its targets in its scene.

Words (`VOCAB`): colours, shapes (and plurals), sizes, absolute positions, relations, counts.

- `describe` gives unique descriptions of one shape: the fewest attributes that single it out
  ("the star", "the red circle", "the small blue square"), absolute position within a group
  ("the red circle on the left"), or a relation to a uniquely described shape
  ("the square left of the green star").
- `multi_expressions` gives expressions of several targets ("all red shapes", "the two squares",
  "all big shapes", "everything yellow" -- the last one includes a crowd of dots of that colour).
- `absent_expressions` gives no-target expressions: a colour and shape pair that is not in the scene.
"""

from __future__ import annotations

import random

from datasets_builders.synth_scene import COLOURS, SHAPES, SIZES, Scene, SceneObject

__all__ = [
    "LOCATION_WORDS",
    "VOCAB",
    "absent_expressions",
    "describe",
    "multi_expressions",
    "plural",
    "resolve",
]

POSITIONS = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom"}
RELATIONS = {"left": "left of", "right": "right of", "top": "above", "bottom": "below"}
COUNTS = {2: "two", 3: "three"}
VOCAB: dict[str, tuple[str, ...]] = {
    "colours": tuple(COLOURS),
    "shapes": SHAPES,
    "plurals": tuple(s + "s" for s in SHAPES),
    "sizes": tuple(SIZES),
    "positions": tuple(POSITIONS),
    "relations": ("left of", "right of", "above", "below"),
    "counts": tuple(COUNTS.values()),
    "other": ("the", "all", "shapes", "everything", "on", "at", "black", "bar", "dots"),
}
LOCATION_WORDS = frozenset({"left", "right", "top", "bottom", "above", "below"})
_GAP = 8.0


def plural(shape: str) -> str:
    return shape + "s"


def _attrs(o: SceneObject, keys: tuple[str, ...]) -> str:
    words = [o.size if "size" in keys else "", o.colour if "colour" in keys else "", o.kind]
    return "the " + " ".join(w for w in words if w)


def _matches(o: SceneObject, p: SceneObject, keys: tuple[str, ...]) -> bool:
    return p.kind == o.kind and all(getattr(p, k) == getattr(o, k) for k in keys)


def _unique_attr(o: SceneObject, shapes: list[SceneObject]) -> list[str]:
    out = []
    for keys in ((), ("colour",), ("size",), ("size", "colour")):
        if [p for p in shapes if _matches(o, p, keys)] == [o]:
            out.append(_attrs(o, keys))
    return out


def _coord(o: SceneObject, side: str) -> float:
    return {"left": -o.cx, "right": o.cx, "top": -o.cy, "bottom": o.cy}[side]


def _positional(o: SceneObject, shapes: list[SceneObject]) -> list[str]:
    out = []
    for keys in (("colour",), ()):
        group = [p for p in shapes if _matches(o, p, keys)]
        if len(group) < 2:
            continue
        for side, words in POSITIONS.items():
            if all(_coord(o, side) > _coord(p, side) + _GAP for p in group if p is not o):
                out.append(f"{_attrs(o, keys)} {words}")
        if out:
            break
    return out


def _relational(o: SceneObject, shapes: list[SceneObject]) -> list[str]:
    out = []
    for ref in shapes:
        if ref is o:
            continue
        names = [d for d in _unique_attr(ref, shapes) if len(d.split()) <= 3]
        if not names:
            continue
        same = [p for p in shapes if p.kind == o.kind and p is not ref]
        for side, words in RELATIONS.items():
            beyond = [p for p in same if _coord(p, side) > _coord(ref, side) + _GAP]
            near = [p for p in same if _coord(p, side) > _coord(ref, side) - _GAP]
            if beyond == [o] and near == [o]:
                out.append(f"the {o.kind} {words} {names[0]}")
    return out


def describe(o: SceneObject, scene: Scene, allow_location: bool = True) -> dict[str, list[str]]:
    """Unique descriptions of shape ``o`` by family: ``attr``, ``location``, ``relation``."""
    shapes = scene.shapes
    out = {"attr": _unique_attr(o, shapes), "location": [], "relation": []}
    if allow_location:
        out["location"] = _positional(o, shapes)
        out["relation"] = _relational(o, shapes)
    return out


def multi_expressions(scene: Scene) -> list[tuple[str, list[SceneObject]]]:
    """Expressions with two or more targets and their targets (crowd dots only in "everything <colour>")."""
    shapes = scene.shapes
    out: list[tuple[str, list[SceneObject]]] = []
    for colour in COLOURS:
        group = [p for p in shapes if p.colour == colour]
        if len(group) >= 2:
            out.append((f"all {colour} shapes", group))
        dots = [p for p in scene.objects if p.kind == "dots" and p.colour == colour]
        if dots and group:
            out.append((f"everything {colour}", group + dots))
    for kind in SHAPES:
        group = [p for p in shapes if p.kind == kind]
        if len(group) in COUNTS:
            out.append((f"the {COUNTS[len(group)]} {plural(kind)}", group))
        if len(group) >= 2:
            out.append((f"all {plural(kind)}", group))
    for size in SIZES:
        group = [p for p in shapes if p.size == size]
        if 2 <= len(group) < len(shapes):
            out.append((f"all {size} shapes", group))
    return out


def absent_expressions(scene: Scene, rng: random.Random, k: int) -> list[str]:
    """``k`` distinct no-target expressions: colour + shape pairs absent from the scene."""
    present = {(p.colour, p.kind) for p in scene.shapes}
    absent = [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in present]
    rng.shuffle(absent)
    return [f"the {c} {s}" for c, s in absent[:k]]


def _select(words: list[str], objs: list[SceneObject]) -> list[SceneObject]:
    """Shapes matching a noun phrase of size / colour words and a shape noun (or ``shapes``)."""
    out = [o for o in objs if o.is_shape]
    for w in words:
        if w in SIZES:
            out = [o for o in out if o.size == w]
        elif w in COLOURS:
            out = [o for o in out if o.colour == w]
        elif w in SHAPES or w.rstrip("s") in SHAPES:
            out = [o for o in out if o.kind == w.rstrip("s")]
        elif w != "shapes":
            raise ValueError(f"unknown word {w!r}")
    return out


def resolve(sentence: str, scene: Scene) -> list[SceneObject]:
    """Interpret a sentence of this grammar in ``scene``: the objects it refers to ([] if none).

    An oracle that reads the sentence and sees the scene: tests use it to prove that every
    generated sentence determines its targets. Raises ``ValueError`` on a sentence outside the grammar.
    """
    words = sentence.split()
    if words == ["the", "black", "bar"]:
        return [o for o in scene.objects if o.kind == "bar"]
    if words[0] == "everything":
        return [o for o in scene.objects if o.colour == words[1] and (o.is_shape or o.kind == "dots")]
    if words[0] == "all":
        return _select(words[1:], scene.objects)
    if words[0] == "the" and len(words) == 3 and words[1] in COUNTS.values():
        group = _select(words[2:], scene.objects)
        return group if COUNTS.get(len(group)) == words[1] else []
    text = " ".join(words)
    for side, phrase in RELATIONS.items():
        if f" {phrase} the " in text:
            head, ref_phrase = text.split(f" {phrase} ", 1)
            refs = resolve(ref_phrase, scene)
            if len(refs) != 1:
                return []
            cand = _select(head.split()[1:], scene.objects)
            return [o for o in cand if _coord(o, side) > _coord(refs[0], side) + _GAP]
    for side, phrase in POSITIONS.items():
        if text.endswith(" " + phrase):
            group = _select(text[: -len(phrase) - 1].split()[1:], scene.objects)
            best = [o for o in group if all(_coord(o, side) >= _coord(p, side) for p in group)]
            return best[:1]
    if words[0] == "the":
        found = _select(words[1:], scene.objects)
        return found if len(found) == 1 else []
    raise ValueError(f"sentence outside the grammar: {sentence!r}")
