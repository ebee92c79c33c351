"""The training / prediction dataset over a built dataset: one sample per unified row (expression).

The official pipeline picks one expression at random per annotation; a built dataset already has one
row per expression, so an epoch visits every expression once (in the sampler's order) and nothing
random happens in data loading -- which is what makes ``--resume`` exact.

Per sample (official ``Resize(keep_ratio=False)`` + ``Normalize``; no augmentation unless ``hflip`` > 0):

- ``image``: FloatTensor[3, S, S], bilinear resize of the whole image to S x S (aspect ratio NOT
  kept), ImageNet-normalised (`instancevg.transforms.preprocess_image`).
- ``text_ids`` / ``text_pad_mask``: LongTensor[L] / BoolTensor[L] (True = padding), the fairseq
  layout of `instancevg.tokenizer.Tokenizer.encode_batch`; sentences are encoded once, up front.
- ``target``: the criterion's per-sample dict --
  ``boxes`` FloatTensor[N, 4] normalised (cx, cy, w, h) in [0, 1] (the same numbers for the original
  and the S x S image, since the resize scales each axis); ``masks`` FloatTensor[N, S, S] binary
  instance masks (RLE decoded at the original size, nearest-resized); ``mask`` FloatTensor[S, S] the
  row's merged ``mask``; ``no_target`` bool.
- ``meta``: ``{"expr_id", "orig_size": (h, w)}`` for `instancevg.postprocess.postprocess`.

Crowd targets (``iscrowd``): kept as instances (box and instance mask), because GREC counts their
boxes; the merged ``mask`` is the row's, which leaves them out, because GRES ignores them (docs/formats.md
section 3). A no-target row has N = 0 and an all-zero ``mask``.

``hflip`` (training only, ``train.hflip``; the official recipe has no augmentation): with this probability a
sample is mirrored left-right -- image, boxes (cx -> 1 - cx), instance masks, merged mask -- and its sentence
is `instancevg.transforms.mirror_sentence` of the original ("the circle left of the star" -> "... right of
..."). Whether sample ``index`` is mirrored in epoch ``e`` is a function of (``seed``, ``e``, ``index``) alone
(`GroundingDataset.set_epoch`), so data loading stays free of global randomness and ``--resume`` stays exact.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from evaluators import rle
from evaluators.errors import InputError
from instancevg.training.rows import open_image, resolve_images_dir

__all__ = ["GroundingDataset", "build_target", "collate"]


def _resized_mask(rle_obj: dict[str, Any], size: int, where: str) -> torch.Tensor:
    from instancevg.transforms import resize_mask

    try:
        dense = rle.decode(rle_obj).astype(bool)
    except Exception as exc:  # pycocotools raises plain Exceptions on malformed counts
        raise InputError(f"{where}: cannot decode RLE: {exc}") from None
    return resize_mask(dense, size).float()


def build_target(row: dict[str, Any], size: int) -> dict[str, Any]:
    """The criterion's target dict of one unified row at input size ``size`` (see module docstring)."""
    from instancevg.transforms import boxes_xywh_to_cxcywh_norm

    h, w = int(row["height"]), int(row["width"])
    targets = list(row.get("targets") or [])
    where = f"expr_id={row['expr_id']!r}"
    if targets:
        masks = torch.stack(
            [
                _resized_mask(t["mask"], size, f"{where} field='targets[{i}].mask'")
                for i, t in enumerate(targets)
            ]
        )
    else:
        masks = torch.zeros((0, size, size), dtype=torch.float32)
    return {
        "boxes": boxes_xywh_to_cxcywh_norm([t["bbox"] for t in targets], h, w),
        "masks": masks,
        "mask": _resized_mask(row["mask"], size, f"{where} field='mask'"),
        "no_target": bool(row["no_target"]),
    }


class GroundingDataset(Dataset):
    """Rows of a built dataset as model inputs (see the module docstring for the sample layout).

    Args:
        rows: unified rows (`instancevg.training.rows.load_rows`), in the order predictions follow.
        data_dir: the built dataset (for the manifest's ``images_root``).
        tokenizer: an `instancevg.tokenizer.Tokenizer`.
        img_size: S; max_tokens: L.
        images_dir: folder holding ``file_name`` paths (overrides the manifest).
        with_targets: build the criterion targets (training); False for prediction.
        cache_images: keep up to this many preprocessed images in memory, per DataLoader worker
            (several expressions share an image; 64 images of 320 px are 75 MB); 0 disables the cache.
        hflip: probability of mirroring a sample (see the module docstring); needs ``with_targets``.
        seed: seed of the mirroring decisions.
        image_loader: ``row -> FloatTensor[3, S, S]`` replacing the default decoding and resize (the official
            test-time pipeline of `instancevg.official.inputs` for the released checkpoints).
    """

    def __init__(
        self,
        rows: list[dict[str, Any]],
        data_dir: str | Path,
        tokenizer,
        img_size: int,
        max_tokens: int,
        images_dir: str | Path | None = None,
        with_targets: bool = True,
        cache_images: int = 64,
        hflip: float = 0.0,
        seed: int = 0,
        image_loader: Callable[[dict[str, Any]], torch.Tensor] | None = None,
    ):
        if not 0.0 <= float(hflip) <= 1.0:
            raise InputError(f"train.hflip: {hflip} is not a probability in [0, 1]")
        self.rows = rows
        self.img_size = int(img_size)
        self.data_dir = Path(data_dir)
        self.images_dir = resolve_images_dir(data_dir, images_dir)
        self.with_targets = with_targets
        self.cache_images = int(cache_images)
        self.image_loader = image_loader
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        sentences = [str(r["sentence"]) for r in rows]
        if sentences:
            self.text_ids, self.text_pad_mask = tokenizer.encode_batch(sentences, int(max_tokens))
        else:
            self.text_ids = torch.zeros((0, int(max_tokens)), dtype=torch.long)
            self.text_pad_mask = torch.ones((0, int(max_tokens)), dtype=torch.bool)
        self.hflip = float(hflip) if with_targets else 0.0
        self.seed = int(seed)
        self.epoch = 0
        if self.hflip > 0 and sentences:
            from instancevg.transforms import mirror_sentence

            mirrored = [mirror_sentence(s) for s in sentences]
            self.mirror_ids, self.mirror_pad_mask = tokenizer.encode_batch(mirrored, int(max_tokens))

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose mirroring decisions `__getitem__` applies (no effect when ``hflip`` is 0)."""
        self.epoch = int(epoch)

    def mirrored(self, index: int) -> bool:
        """Whether sample ``index`` is mirrored in the current epoch: a pure function of (seed, epoch, index)."""
        if self.hflip <= 0:
            return False
        return bool(np.random.default_rng([self.seed, self.epoch, int(index)]).random() < self.hflip)

    def __len__(self) -> int:
        return len(self.rows)

    def _image(self, row: dict[str, Any]) -> torch.Tensor:
        from instancevg.transforms import preprocess_image

        key = str(row["file_name"])
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        if self.image_loader is not None:
            tensor = self.image_loader(row)
        else:
            img = open_image(self.data_dir, row, self.images_dir)
            if (img.height, img.width) != (int(row["height"]), int(row["width"])):
                raise InputError(
                    f"expr_id={row['expr_id']!r} field='height/width': the image is {img.height}x{img.width}, "
                    f"the row says {row['height']}x{row['width']}"
                )
            tensor = preprocess_image(img, self.img_size)
        if self.cache_images > 0:
            self._cache[key] = tensor
            if len(self._cache) > self.cache_images:
                self._cache.popitem(last=False)
        return tensor

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.rows[index]
        sample = {
            "index": index,
            "image": self._image(row),
            "text_ids": self.text_ids[index],
            "text_pad_mask": self.text_pad_mask[index],
            "meta": {"expr_id": row["expr_id"], "orig_size": (int(row["height"]), int(row["width"]))},
        }
        if self.with_targets:
            sample["target"] = build_target(row, self.img_size)
            if self.mirrored(index):
                _mirror(sample, self.mirror_ids[index], self.mirror_pad_mask[index])
        return sample


def _mirror(sample: dict[str, Any], text_ids: torch.Tensor, text_pad_mask: torch.Tensor) -> None:
    """Mirror one sample left-right in place: image [3,S,S], target boxes/masks, the mirrored sentence."""
    sample["image"] = sample["image"].flip(-1)
    sample["text_ids"], sample["text_pad_mask"] = text_ids, text_pad_mask
    target = sample["target"]
    boxes = target["boxes"].clone()
    boxes[:, 0] = 1.0 - boxes[:, 0]
    target["boxes"] = boxes
    target["masks"] = target["masks"].flip(-1)
    target["mask"] = target["mask"].flip(-1)


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack a list of samples: ``images`` [B,3,S,S], ``text_ids`` [B,L], ``text_pad_mask`` [B,L],
    ``targets`` (list of dicts, when present), ``metas`` (list), ``indices`` LongTensor[B]."""
    batch = {
        "images": torch.stack([s["image"] for s in samples]),
        "text_ids": torch.stack([s["text_ids"] for s in samples]),
        "text_pad_mask": torch.stack([s["text_pad_mask"] for s in samples]),
        "metas": [s["meta"] for s in samples],
        "indices": torch.as_tensor(np.array([s["index"] for s in samples], dtype=np.int64)),
    }
    if "target" in samples[0]:
        batch["targets"] = [s["target"] for s in samples]
    return batch
