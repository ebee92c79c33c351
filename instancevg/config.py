"""Typed configuration of InstanceVG: model, losses, post-processing, quirk flags, ablations, recipe.

Every number defaults to what the official code (Dmmm1997/InstanceVG, ``configs/gres/InstanceVG-grefcoco.py``)
builds; see ``docs/instancevg.md`` and ``docs/training.md``. Where the code and the paper disagree the field is
a *quirk flag* whose default is the code's behaviour; the paper's alternative is named in the field comment and
in ``docs/instancevg.md``.

Configs are plain dataclasses. ``load_config`` takes a preset name or a ``.json``/``.yaml``/``.toml`` file and then
``key=value`` overrides with dotted keys (``train.lr=1e-4``), typed from the dataclass fields.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.errors import InputError

__all__ = [
    "PRESETS",
    "InstanceVGConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
    "parse_overrides",
]


@dataclass
class TrainConfig:
    """The optimisation recipe (docs/training.md). Epoch counts are 0-based in the schedule."""

    lr: float = 5e-4  # head (and everything that is not the BEiT-3 encoder)
    lr_encoder: float = 5e-5  # BEiT-3 encoder, lr/10
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-9
    weight_decay: float = 0.0
    amsgrad: bool = True
    epochs: int = 10
    warmup_epochs: int = 1  # factor (e+1)/(warmup+1) during warm-up
    decay_epochs: tuple[int, ...] = (7,)  # x decay_factor applied from epoch step-1 onwards
    decay_factor: float = 0.1
    grad_clip: float = 0.15  # max grad norm; 0 disables
    batch_size: int = 16
    seed: int = 6666
    num_workers: int = 2
    amp: bool = False  # official: fp32; fp16 autocast + GradScaler, CUDA only
    # bfloat16 autocast of the training forward pass on any device (the loss stays fp32, no scaler needed); on a
    # CPU with bf16 instructions (AVX512-BF16 / AMX) it buys 1.2-1.4x the tiny preset's steps; wins over amp
    bf16: bool = False
    # probability of a left-right mirror per training sample ("left"/"right" swapped in the sentence);
    # official: 0 (no augmentation); see instancevg.training.data
    hflip: float = 0.0


@dataclass
class InstanceVGConfig:
    """Everything needed to build, train and post-process one InstanceVG model.

    Shapes in the docstrings of the modules use: S = ``img_size``, L = ``max_tokens``, N_q = ``num_queries``,
    D = ``encoder_dim``, C = ``hidden_dim``.
    """

    name: str = "instancevg-b-grefcoco"
    # ---- input ----
    img_size: int = 320  # square input S (Resize keep_ratio=False)
    max_tokens: int = 50  # L: bos + pieces + eos + padding
    vocab_size: int = 64010  # fairseq-offset vocabulary of beit3.spm
    # ---- BEiT-3 multiway encoder ----
    patch_size: int = 16
    encoder_dim: int = 768
    encoder_layers: int = 12
    encoder_heads: int = 12
    encoder_ffn_dim: int = 3072
    encoder_drop_path: float = 0.1  # linearly 0 -> value over layers
    encoder_max_text_positions: int = 1024  # rows of the text position table (fairseq offset 2 included)
    encoder_layernorm_eps: float = 1e-5
    # ---- head ----
    hidden_dim: int = 256  # C
    num_queries: int = 10  # N_q
    t2i_heads: int = 8
    t2i_ffn_dim: int = 512
    t2i_dropout: float = 0.1
    w_dist: float = 0.003  # dynamic point selector distance weight
    decoder_layers: int = 3
    decoder_heads: int = 8
    decoder_ffn_dim: int = 1024
    decoder_dropout: float = 0.1
    msda_levels: int = 4
    msda_points: int = 4
    # ---- matcher costs ----
    cost_class: float = 1.0
    cost_bbox: float = 5.0
    cost_giou: float = 2.0
    cost_point: float = 2.0  # lambda_point (Table 11); DETRLoss default 3.0, configs 2.0
    # ---- loss weights ----
    loss_class: float = 1.0
    loss_bbox: float = 5.0
    loss_giou: float = 2.0
    eos_coef: float = 0.1  # CE weight of the no-object class
    loss_detr: float = 0.1  # lambda_detr
    loss_dice: float = 1.0
    loss_bce: float = 1.0
    loss_global: float = 1.0  # lambda_seg (global mask); 0 = Table 10 without global supervision
    loss_instance: float = 1.0  # lambda_instance (matched instance masks); 0 = without instance supervision
    loss_neg: float = 0.2  # lambda_neg (unmatched masks pushed to zero); 0 in the RefCOCO configs
    loss_exist: float = 0.2  # lambda_exist
    exist_class_weights: tuple[float, float] = (0.9, 1.1)  # CE weights of [has target, empty]
    loss_attn: float = 0.1  # quirk 4: undocumented attention-map loss; paper: 0.0
    # ---- post-processing ----
    score_threshold: float = 0.7  # thr_q (quirk 7: not 0.9)
    mask_threshold: float = 0.5  # thr_m
    score_weighted: bool = True  # multiply query scores by the existence score (Table 15)
    mask_output: str = "merge"  # "merge" | "global" | "instance" (Table 14)
    # masks to the original size: "nearest" (official: binarise at S x S, then resize) | "bilinear"
    mask_resize: str = "nearest"
    # greedy NMS IoU over the kept queries; 0 = off (official with_nms=False; paper Table 15)
    nms_threshold: float = 0.0
    # which instances a predictions record lists: "kept" (score > score_threshold, after NMS) or "all" (every
    # query with its score, as the official pred_bboxes; the evaluator's protocol applies the threshold)
    instances_written: str = "kept"
    # official detector_postprocess: drop boxes with zero width or height after clipping; the official mask
    # merge then indexes the instance masks by positions in the shortened score list (docs/instancevg.md)
    drop_empty_boxes: bool = False
    # empty the expression mask when no_target is decided (official: False, the mask stays as predicted)
    empty_mask_on_no_target: bool = True
    # ---- quirk flags (docs/instancevg.md); default = official code, alternative = paper ----
    text_filter_score: str = "mean"  # quirk 1: "mean" (code, channel mean) | "l2" (paper, L2 norm)
    attn_map_pool: str = "max"  # global attention map over queries: "max" (code) | "mean" (paper, M_s = Mean)
    # quirk 2: "offset" (code: sigmoid(Linear(Linear(p))) + p) | "prior" (paper: p)
    reference_point: str = "offset"
    aux_loss_weighting: str = "unweighted"  # quirk 3: "unweighted" (code: aux 1/1/1) | "weighted" (aux 1/5/2)
    share_heads: bool = True  # quirk 3: class/box heads shared across decoder layers (code)
    exist_score: str = "sigmoid"  # quirk 5: "sigmoid" (code: sigmoid(logit[0])) | "softmax" (softmax prob[0])
    no_target_rule: str = (
        "queries"  # quirk 5: "queries" (code: no query score > thr) | "exist" (existence head)
    )
    # ---- ablation switches (paper Tables 7-12) ----
    tasks: str = (
        "both"  # Table 7 multi-task: "both" | "det" (detection losses only) | "seg" (mask losses only)
    )
    use_apd: bool = True  # Table 7: attention-based point-prior decoder (False: learned queries + references)
    use_piph: bool = True  # Table 7: point cost + instance masks (False: DETR matcher, global mask only)
    use_text_filter: bool = True  # Table 8 TF (False: every valid token attends; requires use_tiq=False)
    use_dps: bool = True  # Table 8 DPS (False: top-N_q cells of the attention map)
    use_tiq: bool = True  # Table 8 TIQ: text-injected query (False: query from the point feature only)
    decoder_type: str = (
        "point_ms_deformable"  # Table 9: "detr" | "deformable" | "ms_deformable" | "point_ms_deformable"
    )
    # speed only, not a model choice: gradient-free fp32 Linear layers on CPU run through oneDNN instead of MKL
    # (instancevg.ops.onednn_linear; 1.7x on the B preset on an AMD CPU), the same fp32 product
    onednn_linear: bool = True
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        validate(self)


_CHOICES: dict[str, tuple[str, ...]] = {
    "mask_output": ("merge", "global", "instance"),
    "mask_resize": ("nearest", "bilinear"),
    "instances_written": ("kept", "all"),
    "text_filter_score": ("mean", "l2"),
    "attn_map_pool": ("max", "mean"),
    "reference_point": ("offset", "prior"),
    "aux_loss_weighting": ("unweighted", "weighted"),
    "exist_score": ("sigmoid", "softmax"),
    "no_target_rule": ("queries", "exist"),
    "tasks": ("both", "det", "seg"),
    "decoder_type": ("detr", "deformable", "ms_deformable", "point_ms_deformable"),
}


def validate(cfg: InstanceVGConfig) -> None:
    """Raise InputError when a field has an impossible value or two switches contradict each other."""
    for key, choices in _CHOICES.items():
        value = getattr(cfg, key)
        if value not in choices:
            raise InputError(f"config {cfg.name}: field: {key}={value!r} is not one of {', '.join(choices)}")
    if cfg.img_size % (cfg.patch_size * 2) != 0:
        raise InputError(f"config {cfg.name}: field: img_size must be a multiple of 2*patch_size")
    if cfg.max_tokens < 2:
        raise InputError(f"config {cfg.name}: field: max_tokens must be >= 2 (bos + eos)")
    if cfg.max_tokens + 2 > cfg.encoder_max_text_positions:
        raise InputError(f"config {cfg.name}: field: encoder_max_text_positions must be >= max_tokens + 2")
    for key in ("encoder_dim", "hidden_dim"):
        heads = cfg.encoder_heads if key == "encoder_dim" else cfg.decoder_heads
        if getattr(cfg, key) % heads != 0:
            raise InputError(f"config {cfg.name}: field: {key} must be divisible by its number of heads")
    if cfg.hidden_dim % cfg.t2i_heads != 0 or cfg.hidden_dim % 4 != 0:
        raise InputError(f"config {cfg.name}: field: hidden_dim must be divisible by t2i_heads and by 4")
    if cfg.num_queries < 1:
        raise InputError(f"config {cfg.name}: field: num_queries must be >= 1")
    if cfg.use_tiq and not cfg.use_text_filter:
        raise InputError(f"config {cfg.name}: field: use_tiq=True needs use_text_filter=True (Table 8)")
    if not 0.0 <= cfg.train.hflip <= 1.0:
        raise InputError(f"config {cfg.name}: field: train.hflip must be a probability in [0, 1]")
    if cfg.msda_levels not in (1, 2, 3, 4):
        raise InputError(f"config {cfg.name}: field: msda_levels must be 1..4 (SimFPN strides 4/8/16/32)")


def _b_grefcoco() -> InstanceVGConfig:
    return InstanceVGConfig()


def _b_refcoco() -> InstanceVGConfig:
    train = TrainConfig(epochs=20, warmup_epochs=3, decay_epochs=(15,))
    return InstanceVGConfig(
        name="instancevg-b-refcoco", num_queries=1, max_tokens=20, loss_neg=0.0, train=train
    )


def _large(base: InstanceVGConfig, name: str) -> InstanceVGConfig:
    # quirk 9: `rop_path_rate` typo in the official _get_large_config -> the Large model trains without drop path
    return dataclasses.replace(
        base,
        name=name,
        encoder_dim=1024,
        encoder_layers=24,
        encoder_heads=16,
        encoder_ffn_dim=4096,
        encoder_drop_path=0.0,
    )


def _tiny_cpu() -> InstanceVGConfig:
    train = TrainConfig(
        lr=1e-3,
        lr_encoder=5e-4,
        # an unbudgeted run's schedule; `vgbench demo` plans its own over --steps, keeping the decay at 48/60
        epochs=60,
        warmup_epochs=1,
        decay_epochs=(48,),
        grad_clip=1.0,
        batch_size=8,
        seed=0,
        num_workers=0,
    )
    return InstanceVGConfig(
        name="tiny-cpu",
        img_size=128,
        max_tokens=20,
        vocab_size=1024,
        encoder_dim=128,
        encoder_layers=2,
        encoder_heads=4,
        encoder_ffn_dim=512,
        encoder_drop_path=0.0,
        encoder_max_text_positions=64,
        hidden_dim=64,
        t2i_heads=4,
        t2i_ffn_dim=128,
        t2i_dropout=0.0,
        decoder_heads=4,
        decoder_ffn_dim=256,
        decoder_dropout=0.0,
        # chosen on a held-out synthetic dev set (synth seed 1000, 200 scenes, 839 gRefCOCO val/testA/testB
        # expressions), never on the demo's val split, after 2,000 steps on the demo's data (docs/demo.md):
        # five queries (synthetic expressions have at most five targets; 10 queries left every query score
        # under 0.7 after 2,000 steps: GREC F1score 10.85 vs 16.57), the existence probability softmax(.)[0]
        # as the score weight (quirk 5's paper reading: calibrated, where sigmoid(logit[0]) drifts between
        # runs) and the official no-target rule (no query over the threshold): 18.00 / 41.41 against
        # 16.57 / 36.99 for sigmoid + existence rule (GREC F1score / GRES gIoU)
        num_queries=5,
        exist_score="softmax",
        no_target_rule="queries",
        # the official reference sigmoid(.) + p starts about half an image away from the prior point (often
        # outside the image); the paper's reference = p learns boxes about twice as fast on a handful of scenes
        reference_point="prior",
        # greedy NMS over the kept queries (the official with_nms switch, paper Table 15) at IoU 0.1: a briefly
        # trained model keeps overlapping boxes, each one a false positive under GREC's exact-set rule, and the
        # synthetic shapes never overlap much; chosen on a held-out synthetic dev set (seed 1, 200 images), never
        # on the demo's val split (docs/instancevg.md)
        nms_threshold=0.1,
        train=train,
    )


def _presets() -> dict[str, InstanceVGConfig]:
    b_gref, b_ref = _b_grefcoco(), _b_refcoco()
    train_l = dataclasses.replace(b_ref.train, batch_size=4)
    return {
        "instancevg-b-grefcoco": b_gref,
        "instancevg-b-refcoco": b_ref,
        "instancevg-l-grefcoco": _large(b_gref, "instancevg-l-grefcoco"),
        "instancevg-l-refcoco": dataclasses.replace(_large(b_ref, "instancevg-l-refcoco"), train=train_l),
        "tiny-cpu": _tiny_cpu(),
    }


PRESETS: dict[str, InstanceVGConfig] = _presets()


# ------------------------------------------------------------------ dict round trip
def config_to_dict(cfg: InstanceVGConfig) -> dict[str, Any]:
    """JSON-ready nested dict (tuples become lists); inverse of ``config_from_dict``."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def config_from_dict(data: Mapping[str, Any], source: str = "config") -> InstanceVGConfig:
    """Build a config from a nested dict; unknown keys raise InputError with a "did you mean" hint."""
    data = dict(data)
    train = data.pop("train", {}) or {}
    if not isinstance(train, Mapping):
        raise InputError(f"{source}: train: expected a mapping")
    train_kwargs = _typed_kwargs(TrainConfig, train, source, prefix="train.")
    kwargs = _typed_kwargs(InstanceVGConfig, data, source, prefix="")
    return InstanceVGConfig(**kwargs, train=TrainConfig(**train_kwargs))


def _fields(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "train"}


def _typed_kwargs(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> dict[str, Any]:
    fields = _fields(cls)
    out = {}
    for key, value in data.items():
        if key not in fields:
            raise InputError(f"{source}: {prefix}{key}: unknown key{_did_you_mean(prefix + key)}")
        out[key] = _coerce(value, fields[key], f"{source}: {prefix}{key}")
    return out


def _all_keys() -> list[str]:
    return list(_fields(InstanceVGConfig)) + ["train." + k for k in _fields(TrainConfig)]


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, _all_keys(), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Convert ``value`` (a Python value or an override string) to the field type ``hint``."""
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"not an integer: {value!r}")
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError(f"not a number: {value!r}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                raise ValueError(f"not a string: {value!r}")
            return value
        if origin is tuple:
            args = typing.get_args(hint)
            if isinstance(value, str):
                text = value.strip()
                items = (
                    json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
                )
            else:
                items = list(value) if isinstance(value, Iterable) else [value]
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_coerce(v, args[0], where) for v in items)
            if len(items) != len(args):
                raise ValueError(f"expected {len(args)} values, got {len(items)}")
            return tuple(_coerce(v, a, where) for v, a in zip(items, args))
        if isinstance(hint, types.UnionType):  # pragma: no cover - no optional fields today
            return value
    except (TypeError, ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"{where}: {exc}") from None
    raise InputError(f"{where}: unsupported field type {hint}")  # pragma: no cover


# ------------------------------------------------------------------ loading
def _read_file(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read config: {exc.strerror}") from None
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10: the tomli backport (a dependency there)
                import tomli as tomllib

            data = tomllib.loads(text)
        else:
            raise InputError(f"{path}: config: unsupported extension {suffix!r} (use .json, .yaml or .toml)")
    except InputError:
        raise
    except Exception as exc:  # parse errors of the three formats
        raise InputError(f"{path}: config: cannot parse: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: config: expected a mapping at the top level")
    return data


def apply_overrides(cfg: InstanceVGConfig, overrides: Iterable[str]) -> InstanceVGConfig:
    """Return a copy of ``cfg`` with ``key=value`` overrides applied (dotted keys for ``train.*``)."""
    data = config_to_dict(cfg)
    for item in overrides:
        if "=" not in item:
            raise InputError(f"override {item!r}: expected key=value")
        key, value = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if len(parts) == 1 and parts[0] in data and parts[0] != "train":
            data[parts[0]] = _coerce(value, _fields(InstanceVGConfig)[parts[0]], f"override {key}")
        elif len(parts) == 2 and parts[0] == "train" and parts[1] in data["train"]:
            data["train"][parts[1]] = _coerce(value, _fields(TrainConfig)[parts[1]], f"override {key}")
        else:
            raise InputError(f"override {key}: unknown key{_did_you_mean(key)}")
    return config_from_dict(data, source="overrides")


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["max_tokens=40", ...]`` -> ``{"max_tokens": 40}``, typed from the ``InstanceVGConfig`` fields (top-level
    fields only; used for the released checkpoints, whose config is inferred, not stored)."""
    out: dict[str, Any] = {}
    fields = _fields(InstanceVGConfig)
    for item in items:
        if "=" not in item:
            raise InputError(f"--set {item!r}: expected key=value")
        key, value = (part.strip() for part in item.split("=", 1))
        if key not in fields:
            raise InputError(f"--set {key}: unknown config field{_did_you_mean(key)}")
        out[key] = _coerce(value, fields[key], f"--set {key}")
    return out


def load_config(name_or_file: str, overrides: Iterable[str] = ()) -> InstanceVGConfig:
    """A preset name (see ``PRESETS``) or a .json/.yaml/.toml file, then ``key=value`` overrides.

    A file may name a preset to start from with ``base: <preset>``; its other keys replace the preset's.
    """
    if name_or_file in PRESETS:
        cfg = copy.deepcopy(PRESETS[name_or_file])
    else:
        path = Path(name_or_file)
        if not path.suffix or not path.exists():
            close = difflib.get_close_matches(name_or_file, list(PRESETS), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (presets: {', '.join(PRESETS)})"
            raise InputError(f"config {name_or_file!r}: not a preset name or an existing file{hint}")
        data = _read_file(path)
        base = data.pop("base", None)
        if base is not None:
            if base not in PRESETS:
                raise InputError(f"{path}: base: unknown preset {base!r} (presets: {', '.join(PRESETS)})")
            merged = config_to_dict(PRESETS[base])
            train = data.pop("train", {}) or {}
            merged.update(data)
            merged["train"].update(train)
            data = merged
        cfg = config_from_dict(data, source=str(path))
    return apply_overrides(cfg, list(overrides)) if overrides else cfg
