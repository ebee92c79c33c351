"""Images of a built dataset through the official test-time pipeline, for the released checkpoints.

`OfficialImageLoader` reads a row's image bytes (the embedded ``image`` column, or ``images_dir / file_name``)
and hands them to `instancevg.official.preprocess.official_image` (OpenCV decoding, OpenCV's bilinear resize to
S x S without keeping the aspect ratio, mmcv's normalisation), so an official checkpoint sees exactly the inputs
the authors' code gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from evaluators.errors import InputError

__all__ = ["OfficialImageLoader", "official_image_loader"]


class OfficialImageLoader:
    """``row -> FloatTensor[3, S, S]`` (picklable, for DataLoader workers)."""

    def __init__(self, data_dir: str | Path, images_dir: str | Path | None, img_size: int) -> None:
        from datasets_builders.images import resolve_images_dir

        self.data_dir = Path(data_dir)
        self.images_dir = resolve_images_dir(data_dir, images_dir)
        self.img_size = int(img_size)

    def _source(self, row: dict[str, Any]) -> bytes | Path:
        embedded = row.get("image")
        if isinstance(embedded, dict) and embedded.get("bytes"):
            return bytes(embedded["bytes"])
        where = f"{self.data_dir}: expr_id={row.get('expr_id')!r}"
        if self.images_dir is None:
            raise InputError(
                f"{where}: image: no embedded image, no --images and no images_root in the build"
            )
        path = self.images_dir / str(row["file_name"])
        if not path.is_file():
            raise InputError(f"{where}: file_name: image not found: {path}")
        return path

    def __call__(self, row: dict[str, Any]) -> torch.Tensor:
        from instancevg.official.preprocess import official_image

        img, meta = official_image(self._source(row), self.img_size)
        h, w = meta["ori_shape"][:2]
        if (h, w) != (int(row["height"]), int(row["width"])):
            raise InputError(
                f"expr_id={row['expr_id']!r} field='height/width': the image is {h}x{w}, "
                f"the row says {row['height']}x{row['width']}"
            )
        return img


def official_image_loader(
    data_dir: str | Path, images_dir: str | Path | None, img_size: int
) -> OfficialImageLoader:
    """The loader `GroundingDataset(image_loader=...)` uses for an official checkpoint."""
    return OfficialImageLoader(data_dir, images_dir, img_size)
