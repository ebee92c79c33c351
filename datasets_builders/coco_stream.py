"""Stream COCO's full ``instances_{train,val}2014.json``, keeping only what the refs need.

The full train2014 file holds ~600k annotations (~450 MB of JSON); loading it whole takes several
GB of Python objects. Here the file is read in 1 MiB chunks and the top-level ``images`` and
``annotations`` arrays are decoded one element at a time (`json.JSONDecoder.raw_decode`); an element is
kept only when its id is in the wanted set, so memory is one chunk plus the kept records. The other
top-level values (``info``, ``licenses``, ``categories``) are small and decoded whole.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datasets_builders.coco import CocoIndex, index_instances
from evaluators.errors import InputError

__all__ = ["iter_top_level", "stream_index"]

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_WS = " \t\n\r"


class _Reader:
    """A text buffer over a file that decodes one JSON value at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.f = open(path, encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.dec = json.JSONDecoder()

    def close(self) -> None:
        self.f.close()

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.f.read(_CHUNK)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{self.path}: cannot read: {exc}") from None
        if not chunk:
            self.eof = True
            return False
        if self.pos > len(self.buf) // 2:
            self.buf, self.pos = self.buf[self.pos :], 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            raise InputError(
                f"{self.path}: not valid JSON: expected {char!r} at offset ~{self.pos}, got {got!r}"
            )
        self.pos += 1

    def value(self) -> Any:
        """Decode the next JSON value (reading more of the file until it is complete)."""
        self.peek()
        while True:
            try:
                obj, end = self.dec.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():  # most likely cut at the end of the buffer: read on and retry
                    continue
                raise InputError(f"{self.path}: not valid JSON: {exc.msg} near offset {exc.pos}") from None
            # a number at the very end of the buffer may continue in the next chunk
            if end >= len(self.buf) and self._more():
                continue
            self.pos = end
            return obj


def iter_top_level(path: Path, streamed: tuple[str, ...]) -> Iterator[tuple[str, int, Any]]:
    """``(key, index, element)`` for every element of the top-level arrays named in ``streamed``, and
    ``(key, -1, value)`` for every other top-level value, in file order."""
    r = _Reader(path)
    try:
        r.expect("{")
        if r.peek() == "}":
            return
        while True:
            key = r.value()
            if not isinstance(key, str):
                raise InputError(f"{path}: not valid JSON: expected an object key, got {key!r}")
            r.expect(":")
            if key in streamed and r.peek() == "[":
                r.expect("[")
                i = 0
                if r.peek() == "]":
                    r.pos += 1
                else:
                    while True:
                        yield key, i, r.value()
                        i += 1
                        nxt = r.peek()
                        r.pos += 1
                        if nxt == "]":
                            break
                        if nxt != ",":
                            raise InputError(
                                f"{path}: not valid JSON: expected ',' or ']' in {key}, got {nxt!r}"
                            )
            else:
                yield key, -1, r.value()
            nxt = r.peek()
            r.pos += 1
            if nxt == "}":
                return
            if nxt != ",":
                raise InputError(f"{path}: not valid JSON: expected ',' or '}}' after {key}, got {nxt!r}")
    finally:
        r.close()


@functools.lru_cache(maxsize=1)
def stream_index(paths: tuple[Path, ...], ann_ids: frozenset[int], image_ids: frozenset[int]) -> CocoIndex:
    """A `CocoIndex` of the images in ``image_ids`` and annotations in ``ann_ids`` found in ``paths``
    (COCO instance files, streamed). Other records are parsed one at a time and dropped."""
    kept: dict[str, list[Any]] = {"images": [], "annotations": [], "categories": []}
    for path in paths:
        for key, i, value in iter_top_level(path, ("images", "annotations")):
            if key == "categories" and i < 0 and isinstance(value, list) and not kept["categories"]:
                kept["categories"] = value
            elif key in ("images", "annotations") and i >= 0:
                if not isinstance(value, dict) or "id" not in value:
                    raise InputError(f"{path}:{key}[{i}]: id: missing")
                if isinstance(value["id"], bool) or not isinstance(value["id"], int):
                    raise InputError(f"{path}:{key}[{i}]: id: expected an integer, got {value['id']!r}")
                wanted = image_ids if key == "images" else ann_ids
                if value["id"] in wanted:
                    kept[key].append(value)
    log.info(
        "streamed %s: kept %d images, %d annotations",
        ", ".join(str(p) for p in paths),
        len(kept["images"]),
        len(kept["annotations"]),
    )
    return index_instances(kept, " + ".join(str(p) for p in paths))
