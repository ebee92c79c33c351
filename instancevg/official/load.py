"""Load the authors' released InstanceVG checkpoints (``InstanceVG-*.pth``) into vgbench's ``InstanceVG``.

A released checkpoint is a ``torch.save`` dict whose ``state_dict`` holds the official model's tensors (a
``module.`` prefix may occur), beside training bookkeeping (epoch, metrics, optimizer and scheduler states) that is
ignored. It is read with ``torch.load(weights_only=True)``, so no code stored in the file can run.

Every size is read off the tensor shapes: encoder width / layers / FFN / vocabulary / patch size, the input size
from the vision position table (``3 + g*g`` rows), head width, number of queries (AQSM's unused ``query_embed``
has N_q rows), FFN sizes and decoder depth, MSDA levels (``level_embeds`` rows) and points. What shapes cannot
fix follows the official configs unless overridden: 64-dim BEiT-3 heads (12 for ViT-B, 16 for ViT-L), 8-head
decoders, ``max_tokens`` 20 for the single-query RefCOCO models and 50 otherwise. Post-processing is the official
one (``official_postprocess_fields``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from evaluators.errors import InputError
from instancevg.build import build_model
from instancevg.config import InstanceVGConfig, config_from_dict
from instancevg.model import InstanceVG
from instancevg.official.layout import ALIAS_PATTERN, UNUSED_KEYS, official_to_vgbench, vgbench_to_official
from instancevg.runtime import ModelRuntime

__all__ = [
    "OFFICIAL_POSTPROCESS",
    "build_official",
    "infer_official_config",
    "is_official_state_dict",
    "load_official",
    "looks_official",
    "read_official_state_dict",
]

logger = logging.getLogger(__name__)

BEIT3_HEAD_DIM = 64  # BEiT-3 base: 768 / 12 heads, large: 1024 / 16
OFFICIAL_DECODER_HEADS = 8  # deformable decoder and the query generator's text-to-image layer
OFFICIAL_MAX_TOKENS = {"refcoco": 20, "generalized": 50}  # max_token of the RefCOCO / gRefCOCO-style configs

# the official post-processing (``get_predictions_parts`` + ``detector_postprocess``) as dotted config keys
# (`instancevg.config.replace_values`)
OFFICIAL_POSTPROCESS: dict[str, Any] = {
    "postprocess.score_threshold": 0.7,
    "postprocess.mask_threshold": 0.5,
    "postprocess.score_weighted": True,
    "quirks.exist_score": "sigmoid",
    "postprocess.mask_output": "merge",
    "postprocess.mask_resize": "nearest",
    "postprocess.nms_threshold": 0.0,
    "quirks.no_target_rule": "queries",
    "quirks.reference_point": "offset",
    "postprocess.instances_written": "all",
    "postprocess.drop_empty_boxes": True,
    "postprocess.empty_mask_on_no_target": False,
}

_ENCODER_LAYER = re.compile(r"^vis_enc\.beit3\.encoder\.layers\.(\d+)\.")
_DECODER_LAYER = re.compile(r"^head\.decoder_transformer\.decoder\.layers\.(\d+)\.")


def is_official_state_dict(state: Mapping[str, Any]) -> bool:
    """True when the keys are the official model's (``vis_enc.beit3.*`` and ``head.*``, ``module.`` allowed)."""
    keys = [k[len("module.") :] if k.startswith("module.") else k for k in state]
    return any(k.startswith("vis_enc.beit3.") for k in keys) and any(k.startswith("head.") for k in keys)


def looks_official(path: str | Path) -> bool:
    """Whether ``path`` is a ``torch.save`` archive whose pickle names official keys (``vis_enc.beit3.``).

    Reads only the archive's small ``data.pkl`` entry as bytes: nothing is unpickled, so this is safe on any
    file. A file that is not a zip archive (legacy ``torch.save``, or not a checkpoint) gives False.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if len(names) != 1 or archive.getinfo(names[0]).file_size > 64 * 2**20:
                return False
            data = archive.read(names[0])
    except (OSError, zipfile.BadZipFile, KeyError):
        return False
    return b"vis_enc.beit3." in data and b"head." in data


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"{path}: checkpoint: file not found")
    try:  # mmap: a released checkpoint also holds the optimizer state (several GB), never read
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):
            raise InputError(
                f"{path}: checkpoint: cannot read with weights_only=True: {_first_line(exc)}"
            ) from None
    except Exception as exc:  # pickle refused by the weights-only unpickler, truncated zip, not a checkpoint
        raise InputError(
            f"{path}: checkpoint: cannot read with weights_only=True: {_first_line(exc)}"
        ) from None
    try:  # legacy (non-zip) torch.save files cannot be memory-mapped
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(
            f"{path}: checkpoint: cannot read with weights_only=True: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_official_state_dict(path: str | Path) -> dict[str, torch.Tensor] | None:
    """The official state dict of a checkpoint file (``module.`` stripped), or None when the file is a
    checkpoint of another layout (a vgbench training checkpoint, a bare BEiT-3 file). InputError when the file
    cannot be read safely."""
    path = Path(path)
    obj = _load_file(path)
    state = obj.get("state_dict", obj) if isinstance(obj, Mapping) else None
    if not isinstance(state, Mapping) or not is_official_state_dict(state):
        return None
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise InputError(f"{path}: checkpoint: state_dict: {key}: not a tensor ({type(value).__name__})")
        out[key[len("module.") :] if key.startswith("module.") else key] = value
    return out


def _shape(state: Mapping[str, torch.Tensor], key: str, source: str) -> tuple[int, ...]:
    if key not in state:
        raise InputError(f"{source}: checkpoint: missing key {key}")
    return tuple(state[key].shape)


def _canonical_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` with dotted keys (old flat names accepted); InputError for a key that is no config field."""
    from instancevg.config import canonical_key

    out = {}
    for key, value in overrides.items():
        try:
            dotted = canonical_key(key, "load_official: override")
        except InputError:
            dotted = None
        if dotted is None or dotted == "name" or dotted.startswith("train."):
            raise InputError(f"load_official: override {key!r}: not an InstanceVGConfig field") from None
        out[dotted] = value
    return out


def infer_official_config(
    state: Mapping[str, torch.Tensor], source: str = "checkpoint", **overrides: Any
) -> InstanceVGConfig:
    """The ``InstanceVGConfig`` of an official state dict, sizes from the tensor shapes (module docstring);
    ``overrides`` are config keys that replace what was inferred (dotted, ``**{"encoder.heads": 4}``, or the old
    flat names, ``encoder_heads=4``)."""
    overrides = _canonical_overrides(overrides)
    vocab, dim = _shape(state, "vis_enc.beit3.text_embed.weight", source)
    patch = _shape(state, "vis_enc.beit3.vision_embed.proj.weight", source)[-1]
    vision_rows = _shape(state, "vis_enc.beit3.encoder.embed_positions.A.weight", source)[0]
    grid = round((vision_rows - 3) ** 0.5)
    if grid < 1 or grid * grid + 3 != vision_rows:
        raise InputError(
            f"{source}: checkpoint: vis_enc.beit3.encoder.embed_positions.A.weight: {vision_rows} rows is not "
            "3 + g*g for a square patch grid"
        )
    enc_layers = 1 + max((int(m.group(1)) for k in state if (m := _ENCODER_LAYER.match(k))), default=-1)
    dec_layers = 1 + max((int(m.group(1)) for k in state if (m := _DECODER_LAYER.match(k))), default=-1)
    if enc_layers == 0 or dec_layers == 0:
        raise InputError(
            f"{source}: checkpoint: no {'encoder' if enc_layers == 0 else 'decoder'} layers found"
        )
    hidden = _shape(state, "head.img_embedding.weight", source)[0]
    num_queries = _shape(state, "head.query_generation.query_embed.weight", source)[0]
    dec = "head.decoder_transformer.decoder.layers.0"
    levels = _shape(state, "head.decoder_transformer.level_embeds", source)[0]
    heads = int(overrides.get("decoder.heads", OFFICIAL_DECODER_HEADS))
    weights_out = _shape(state, f"{dec}.attentions.1.attention_weights.weight", source)[0]
    points, rest = divmod(weights_out, max(heads * levels, 1))
    if rest or points < 1:
        raise InputError(
            f"{source}: checkpoint: {dec}.attentions.1.attention_weights.weight: {weights_out} outputs are not "
            f"{heads} heads x {levels} levels x points (set decoder.heads= to the model's)"
        )
    t2i = "head.query_generation.T2I_decoder.layers.0"
    kind = "refcoco" if num_queries == 1 else "generalized"
    data: dict[str, Any] = {
        "name": f"official-{kind}-{dim}",
        "input": {"img_size": grid * patch, "max_tokens": OFFICIAL_MAX_TOKENS[kind]},
        "encoder": {
            "vocab_size": vocab,
            "patch_size": patch,
            "dim": dim,
            "layers": enc_layers,
            "heads": max(dim // BEIT3_HEAD_DIM, 1),
            "ffn_dim": _shape(state, "vis_enc.beit3.encoder.layers.0.ffn.A.fc1.weight", source)[0],
            "drop_path": 0.0,
            "max_text_positions": _shape(state, "vis_enc.beit3.encoder.embed_positions.B.weight", source)[0],
        },
        "head": {
            "hidden_dim": hidden,
            "num_queries": num_queries,
            "t2i_heads": OFFICIAL_DECODER_HEADS,
            "t2i_ffn_dim": _shape(state, f"{t2i}.ffns.0.layers.0.0.weight", source)[0],
        },
        "decoder": {
            "layers": dec_layers,
            "heads": heads,
            "ffn_dim": _shape(state, f"{dec}.ffns.0.layers.0.0.weight", source)[0],
            "msda_levels": levels,
            "msda_points": points,
        },
        "loss": {"neg": 0.0 if num_queries == 1 else 0.2},
    }
    for key, value in {**OFFICIAL_POSTPROCESS, **overrides}.items():
        group, leaf = key.split(".")
        data.setdefault(group, {})[leaf] = value
    return config_from_dict(data, source=f"{source}: config")


def _check_aliases(state: Mapping[str, torch.Tensor], source: str) -> None:
    """The decoder-layer copies of the shared class/box heads must equal layer 0 (they are one module)."""
    for key, value in state.items():
        match = ALIAS_PATTERN.match(key)
        if not match:
            continue
        base = f"head.{match.group(1)}.0.{match.group(3)}"
        if base not in state:
            raise InputError(f"{source}: checkpoint: missing key {base} (its alias {key} is present)")
        if value.shape != state[base].shape or not torch.equal(value, state[base]):
            raise InputError(
                f"{source}: checkpoint: {key} differs from {base}; the official heads are shared"
            )


def build_official(
    state: Mapping[str, torch.Tensor],
    source: str = "checkpoint",
    runtime: ModelRuntime | None = None,
    **overrides: Any,
) -> InstanceVG:
    """An ``InstanceVG`` in eval mode holding the tensors of an official state dict (``module.`` stripped).

    Every parameter and buffer of the forward pass must come from ``state``: a missing key, a key no rule maps,
    or a shape that does not fit is an InputError naming it. The official keys that the test-time forward pass
    never uses (``UNUSED_KEYS`` and the shared-head aliases) are listed in one log line. ``runtime``: the
    model's run-time switches (`instancevg.runtime.ModelRuntime`).
    """
    cfg = infer_official_config(state, source, **overrides)
    _check_aliases(state, source)
    mapped: dict[str, torch.Tensor] = {}
    unused = []
    for key, value in state.items():
        try:
            new = official_to_vgbench(key)
        except KeyError:
            raise InputError(f"{source}: checkpoint: unknown key {key}") from None
        if new is None:
            unused.append(key)
        else:
            mapped[new] = value
    with torch.device("meta"):  # no random initialisation of hundreds of millions of weights
        model = build_model(cfg, runtime)
    expected = model.state_dict()
    not_from_checkpoint = {"encoder.vision_embed.mask_token"}  # a vgbench buffer for an unused official key
    for key, target in expected.items():
        if key in not_from_checkpoint:
            mapped[key] = torch.zeros(target.shape, dtype=target.dtype)
        elif key not in mapped:
            raise InputError(f"{source}: checkpoint: missing key {vgbench_to_official(key)}")
        elif tuple(mapped[key].shape) != tuple(target.shape):
            raise InputError(
                f"{source}: checkpoint: {vgbench_to_official(key)}: shape {tuple(mapped[key].shape)} does not fit "
                f"the inferred model's {tuple(target.shape)} (override the config field that sets it)"
            )
    for key in mapped:
        if key not in expected:
            raise InputError(f"{source}: checkpoint: key has no place in the model: {key}")
    model.load_state_dict(
        {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in mapped.items()},
        strict=True,
        assign=True,
    )
    model.eval()
    missing_unused = sorted(UNUSED_KEYS - set(state))
    logger.info(
        "%s: official checkpoint loaded: %d tensors into %s; %d official keys never used at test time and not "
        "loaded: %s%s",
        source,
        len(mapped) - len(not_from_checkpoint),
        cfg.name,
        len(unused),
        ", ".join(sorted(unused)),
        f" (absent: {', '.join(missing_unused)})" if missing_unused else "",
    )
    return model


def load_official(path: str | Path, runtime: ModelRuntime | None = None, **overrides: Any) -> InstanceVG:
    """Read an official InstanceVG checkpoint (``weights_only=True``) and return the model in eval mode.

    ``overrides``: config keys replacing what was inferred, e.g. ``encoder_heads=4`` (``encoder.heads``) for a
    model whose BEiT-3 heads are not 64-dimensional, or ``max_tokens=40``; ``runtime``: run-time switches. InputError (one line, naming the file and
    key) for a file that is not an official checkpoint, a missing or unknown key, or a shape that does not fit.
    """
    path = Path(path)
    state = read_official_state_dict(path)
    if state is None:
        raise InputError(
            f"{path}: checkpoint: not an official InstanceVG checkpoint (no vis_enc.beit3.* / head.* keys)"
        )
    return build_official(state, source=str(path), runtime=runtime, **overrides)
