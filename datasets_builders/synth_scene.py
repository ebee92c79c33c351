"""Synthetic scenes: coloured shapes on a plain background, their COCO annotations and the image.

Coordinates are absolute pixels, x to the right and y down; polygons are COCO flat lists
``[x1, y1, x2, y2, ...]``. A scene holds 3-6 shapes (circle, square, triangle, star, diamond) in six
colours and two sizes, never overlapping. Some scenes add

- an *occluder*: a black horizontal bar drawn across a shape, whose polygon is then cut into two
  parts (a multi-part COCO polygon), the bar itself being an annotation (category ``bar``);
- a *crowd*: a cluster of small dots of one colour, annotated once with ``iscrowd = 1`` and an
  uncompressed RLE (category ``dots``).

Everything is drawn from a `random.Random` seeded by the caller, so a scene is a pure function of it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from evaluators import rle

__all__ = [
    "BACKGROUND",
    "CATEGORIES",
    "COLOURS",
    "SHAPES",
    "SIZES",
    "Scene",
    "SceneObject",
    "make_scene",
    "render",
]

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 160, 60),
    "blue": (40, 80, 215),
    "yellow": (235, 200, 25),
    "purple": (145, 55, 185),
    "orange": (245, 130, 25),
}
SHAPES = ("circle", "square", "triangle", "star", "diamond")
SIZES = {"small": (9, 14), "big": (22, 32)}  # radius ranges in pixels, well apart
BACKGROUND = (232, 232, 228)
BAR_COLOUR = (20, 20, 20)
CATEGORIES = [{"id": i + 1, "name": s, "supercategory": "shape"} for i, s in enumerate(SHAPES)] + [
    {"id": len(SHAPES) + 1, "name": "bar", "supercategory": "occluder"},
    {"id": len(SHAPES) + 2, "name": "dots", "supercategory": "crowd"},
]
CATEGORY_ID = {c["name"]: c["id"] for c in CATEGORIES}
_CONVEX = ("circle", "square", "triangle", "diamond")


@dataclass
class SceneObject:
    """One annotated object. ``parts``: polygon parts (flat lists); ``rle``: uncompressed RLE (crowd)."""

    kind: str  # a shape name, "bar" or "dots"
    colour: str
    size: str
    cx: float
    cy: float
    r: float
    parts: list[list[float]] = field(default_factory=list)
    rle: dict | None = None
    bbox: list[float] = field(default_factory=list)
    area: float = 0.0
    ann_id: int = 0

    @property
    def iscrowd(self) -> bool:
        return self.rle is not None

    @property
    def is_shape(self) -> bool:
        return self.kind in SHAPES


@dataclass
class Scene:
    width: int
    height: int
    objects: list[SceneObject]

    @property
    def shapes(self) -> list[SceneObject]:
        return [o for o in self.objects if o.is_shape]


def _outline(kind: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if kind == "circle":
        return [
            (cx + r * math.cos(2 * math.pi * k / 24), cy + r * math.sin(2 * math.pi * k / 24))
            for k in range(24)
        ]
    if kind == "square":
        a = r * 0.85
        return [(cx - a, cy - a), (cx + a, cy - a), (cx + a, cy + a), (cx - a, cy + a)]
    if kind == "diamond":
        return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
    if kind == "triangle":
        return [(cx, cy - r), (cx + r * 0.95, cy + r * 0.8), (cx - r * 0.95, cy + r * 0.8)]
    if kind == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.45
            ang = -math.pi / 2 + math.pi * k / 5
            pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
        return pts
    raise ValueError(kind)


def _clip(points: list[tuple[float, float]], y0: float, keep_below: bool) -> list[tuple[float, float]]:
    """Sutherland-Hodgman clip of a polygon against the half-plane ``y >= y0`` (or ``y <= y0``)."""

    def inside(p):
        return p[1] >= y0 if keep_below else p[1] <= y0

    out: list[tuple[float, float]] = []
    for i, cur in enumerate(points):
        prev = points[i - 1]
        if inside(cur) != inside(prev):
            t = (y0 - prev[1]) / (cur[1] - prev[1])
            out.append((prev[0] + t * (cur[0] - prev[0]), y0))
        if inside(cur):
            out.append(cur)
    return out


def _flat(points: list[tuple[float, float]]) -> list[float]:
    return [round(v, 2) for p in points for v in p]


def _poly_area(points: list[tuple[float, float]]) -> float:
    return 0.5 * abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1])))


def _finish_polygon(obj: SceneObject, parts_pts: list[list[tuple[float, float]]]) -> None:
    obj.parts = [_flat(p) for p in parts_pts if len(p) >= 3]
    xs = [v for p in obj.parts for v in p[0::2]]
    ys = [v for p in obj.parts for v in p[1::2]]
    obj.bbox = [
        round(min(xs), 2),
        round(min(ys), 2),
        round(max(xs) - min(xs), 2),
        round(max(ys) - min(ys), 2),
    ]
    obj.area = round(sum(_poly_area(p) for p in parts_pts if len(p) >= 3), 2)


def _place(
    rng: random.Random, objs: list[SceneObject], w: int, h: int, r: float
) -> tuple[float, float] | None:
    for _ in range(60):
        cx, cy = rng.uniform(r + 3, w - r - 3), rng.uniform(r + 3, h - r - 3)
        if all(math.hypot(cx - o.cx, cy - o.cy) > r + o.r + 8 for o in objs):
            return cx, cy
    return None


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE (column-major runs, starting with a run of zeros) of a 0/1 mask."""
    flat = mask.flatten(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0, *runs]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(v) for v in runs]}


def _add_dots(rng: random.Random, scene: Scene, colour: str) -> None:
    r = 16.0
    spot = _place(rng, scene.objects, scene.width, scene.height, r)
    if spot is None:
        return
    cx, cy = spot
    canvas = Image.new("L", (scene.width, scene.height), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.randint(7, 12)):
        dx, dy, dr = rng.uniform(-r + 3, r - 3), rng.uniform(-r + 3, r - 3), rng.uniform(1.5, 2.8)
        draw.ellipse([cx + dx - dr, cy + dy - dr, cx + dx + dr, cy + dy + dr], fill=1)
    mask = np.asarray(canvas, dtype=np.uint8)
    ys, xs = np.nonzero(mask)
    obj = SceneObject("dots", colour, "small", cx, cy, r)
    obj.rle = _uncompressed_rle(mask)
    obj.bbox = [
        float(xs.min()),
        float(ys.min()),
        float(xs.max() - xs.min() + 1),
        float(ys.max() - ys.min() + 1),
    ]
    obj.area = float(mask.sum())
    scene.objects.append(obj)


def _add_bar(rng: random.Random, scene: Scene) -> None:
    big = [o for o in scene.shapes if o.size == "big" and o.kind in _CONVEX]
    if not big:
        return
    target = rng.choice(big)
    thick = rng.uniform(5, 8)
    y0 = target.cy + rng.uniform(-0.25, 0.25) * target.r - thick / 2
    x0, x1 = target.cx - target.r - 6, target.cx + target.r + 6
    y1 = y0 + thick
    for o in scene.objects:
        if (
            o is not target
            and o.cx + o.r + 2 > x0
            and o.cx - o.r - 2 < x1
            and o.cy + o.r + 2 > y0
            and o.cy - o.r - 2 < y1
        ):
            return  # the bar would touch another object
    outline = _outline(target.kind, target.cx, target.cy, target.r)
    above, below = _clip(outline, y0, keep_below=False), _clip(outline, y1, keep_below=True)
    if len(above) < 3 or len(below) < 3:
        return
    _finish_polygon(target, [above, below])
    bar = SceneObject("bar", "black", "small", (x0 + x1) / 2, (y0 + y1) / 2, target.r)
    _finish_polygon(bar, [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]])
    scene.objects.append(bar)


def make_scene(rng: random.Random) -> Scene:
    """A random scene: size 160-320 px per side, 3-6 shapes, sometimes a bar and a dots crowd.

    The second shape always shares the colour or the shape of the first, so multi-target
    expressions ("all red shapes", "the two squares") exist in most scenes.
    """
    w, h = rng.randrange(160, 321, 16), rng.randrange(160, 321, 16)
    scene = Scene(w, h, [])
    n = rng.randint(3, 6)
    colours, shapes = list(COLOURS), list(SHAPES)
    for i in range(n):
        size = rng.choice(["small", "big"])
        r = rng.uniform(*SIZES[size])
        spot = _place(rng, scene.objects, w, h, r)
        if spot is None:
            continue
        colour, kind = rng.choice(colours), rng.choice(shapes)
        if i == 1 and scene.objects:
            first = scene.objects[0]
            if rng.random() < 0.5:
                colour = first.colour
            else:
                kind = first.kind
        obj = SceneObject(kind, colour, size, spot[0], spot[1], r)
        _finish_polygon(obj, [_outline(kind, obj.cx, obj.cy, r)])
        scene.objects.append(obj)
    if rng.random() < 0.35:
        _add_bar(rng, scene)
    if rng.random() < 0.4:
        _add_dots(rng, scene, rng.choice(colours))
    return scene


def render(scene: Scene) -> Image.Image:
    """Draw the scene (RGB): shapes from their polygon parts, bars in black, crowd dots from their RLE."""
    img = Image.new("RGB", (scene.width, scene.height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for obj in scene.objects:
        if obj.kind == "bar":
            continue
        if obj.rle is not None:
            dense = rle.decode(rle.normalize(obj.rle)).astype(bool)
            arr = np.asarray(img).copy()
            arr[dense] = COLOURS[obj.colour]
            img = Image.fromarray(arr)
            draw = ImageDraw.Draw(img)
            continue
        for part in obj.parts:
            draw.polygon(list(zip(part[0::2], part[1::2])), fill=COLOURS[obj.colour])
    for obj in scene.objects:
        if obj.kind == "bar":
            draw.polygon(list(zip(obj.parts[0][0::2], obj.parts[0][1::2])), fill=BAR_COLOUR)
    return img
