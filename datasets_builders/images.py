"""Open the image of a unified row: embedded bytes, or a file under the images folder."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from datasets_builders.reading import read_manifest
from evaluators.errors import InputError

__all__ = ["open_image", "resolve_images_dir"]


def resolve_images_dir(data_dir: str | Path, images_dir: str | Path | None = None) -> Path | None:
    """``images_dir`` if given, else the build manifest's ``images_root`` (None if neither)."""
    if images_dir is not None:
        return Path(images_dir)
    root = read_manifest(data_dir).get("images_root")
    return Path(root) if root else None


def open_image(
    data_dir: str | Path, row: dict[str, Any], images_dir: str | Path | None = None
) -> Image.Image:
    """The row's image as an RGB `PIL.Image.Image` of size ``(row["width"], row["height"])``.

    Uses the embedded ``image`` column when present (``--embed-images``), else
    ``images_dir / row["file_name"]`` with ``images_dir`` defaulting to the manifest's ``images_root``.
    Raises `InputError` naming the row and the path tried when the image cannot be found or read.
    """
    where = f"{data_dir}: expr_id={row.get('expr_id')!r}"
    embedded = row.get("image")
    if isinstance(embedded, dict) and embedded.get("bytes"):
        try:
            return Image.open(io.BytesIO(embedded["bytes"])).convert("RGB")
        except OSError as exc:
            raise InputError(f"{where}: image: cannot decode the embedded image: {exc}") from None
    folder = resolve_images_dir(data_dir, images_dir)
    if folder is None:
        raise InputError(
            f"{where}: image: no embedded image, no images_dir given and no images_root in the build manifest"
        )
    path = folder / str(row["file_name"])
    if not path.is_file():
        raise InputError(f"{where}: file_name: image not found: {path}")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError as exc:
        raise InputError(f"{where}: file_name: cannot read image {path}: {exc}") from None
