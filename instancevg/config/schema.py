"""The typed config groups of InstanceVG and the top-level `InstanceVGConfig` that nests them.

Every number defaults to what the official code (Dmmm1997/InstanceVG, ``configs/gres/InstanceVG-grefcoco.py``)
builds; see ``docs/instancevg.md`` and ``docs/training.md``. Where the code and the paper disagree the field is a
*quirk flag* (group ``quirks``) whose default is the code's behaviour; the paper's alternative is named in the
field comment and in ``docs/instancevg.md``. Every string switch is a ``typing.Literal``: its allowed values are
the Literal's arguments, checked by `validate`.

Groups (``cfg.<group>.<field>``): ``input``, ``encoder``, ``head``, ``decoder``, ``matcher``, ``loss``,
``postprocess``, ``quirks``, ``ablation``, ``train``. Each old flat field name (``img_size``, ``nms_threshold``)
stays an alias of one nested field (`instancevg.config.legacy.LEGACY_KEYS`): it can be read, set, passed to the
constructor or to ``dataclasses.replace``, and used as an override key.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from evaluators.errors import InputError
from instancevg.config.legacy import LEGACY_KEYS

__all__ = [
    "GROUPS",
    "AblationConfig",
    "DecoderConfig",
    "EncoderConfig",
    "HeadConfig",
    "InputConfig",
    "InstanceVGConfig",
    "LossConfig",
    "MatcherConfig",
    "PostprocessConfig",
    "QuirkConfig",
    "TrainConfig",
    "literal_choices",
    "validate",
]

MaskOutput = Literal["merge", "global", "instance"]
MaskResize = Literal["nearest", "bilinear"]
InstancesWritten = Literal["kept", "all"]
TextFilterScore = Literal["mean", "l2"]
AttnMapPool = Literal["max", "mean"]
ReferencePoint = Literal["offset", "prior"]
AuxLossWeighting = Literal["unweighted", "weighted"]
ExistScore = Literal["sigmoid", "softmax"]
NoTargetRule = Literal["queries", "exist"]
Tasks = Literal["both", "det", "seg"]
DecoderType = Literal["detr", "deformable", "ms_deformable", "point_ms_deformable"]


@dataclass
class InputConfig:
    """What the model reads: a square S x S image and L text tokens."""

    img_size: int = 320  # square input S (Resize keep_ratio=False)
    max_tokens: int = 50  # L: bos + pieces + eos + padding


@dataclass
class EncoderConfig:
    """The BEiT-3 multiway encoder (D = ``dim``)."""

    vocab_size: int = 64010  # fairseq-offset vocabulary of beit3.spm
    patch_size: int = 16
    dim: int = 768
    layers: int = 12
    heads: int = 12
    ffn_dim: int = 3072
    drop_path: float = 0.1  # linearly 0 -> value over layers
    max_text_positions: int = 1024  # rows of the text position table (fairseq offset 2 included)
    layernorm_eps: float = 1e-5


@dataclass
class HeadConfig:
    """Head width and the query generator (text-to-image layer, dynamic point selector)."""

    hidden_dim: int = 256  # C
    num_queries: int = 10  # N_q
    t2i_heads: int = 8
    t2i_ffn_dim: int = 512
    t2i_dropout: float = 0.1
    w_dist: float = 0.003  # dynamic point selector distance weight


@dataclass
class DecoderConfig:
    """The query decoder; ``type`` is paper Table 9."""

    type: DecoderType = "point_ms_deformable"
    layers: int = 3
    heads: int = 8
    ffn_dim: int = 1024
    dropout: float = 0.1
    msda_levels: int = 4
    msda_points: int = 4


@dataclass
class MatcherConfig:
    """Hungarian matching costs."""

    cost_class: float = 1.0
    cost_bbox: float = 5.0
    cost_giou: float = 2.0
    cost_point: float = 2.0  # lambda_point (Table 11); DETRLoss default 3.0, configs 2.0


@dataclass
class LossConfig:
    """Loss weights (``instancevg.losses.InstanceVGCriterion``)."""

    cls: float = 1.0  # classification CE of the matched queries
    bbox: float = 5.0
    giou: float = 2.0
    eos_coef: float = 0.1  # CE weight of the no-object class
    detr: float = 0.1  # lambda_detr
    dice: float = 1.0
    bce: float = 1.0
    global_mask: float = 1.0  # lambda_seg (global mask); 0 = Table 10 without global supervision
    instance: float = 1.0  # lambda_instance (matched instance masks); 0 = without instance supervision
    neg: float = 0.2  # lambda_neg (unmatched masks pushed to zero); 0 in the RefCOCO configs
    exist: float = 0.2  # lambda_exist
    exist_class_weights: tuple[float, float] = (0.9, 1.1)  # CE weights of [has target, empty]
    attn: float = 0.1  # quirk 4: undocumented attention-map loss; paper: 0.0


@dataclass
class PostprocessConfig:
    """Model outputs -> prediction records (``instancevg.postprocess``)."""

    score_threshold: float = 0.7  # thr_q (quirk 7: not 0.9)
    mask_threshold: float = 0.5  # thr_m
    score_weighted: bool = True  # multiply query scores by the existence score (Table 15)
    mask_output: MaskOutput = "merge"  # Table 14
    # masks to the original size: "nearest" (official: binarise at S x S, then resize) | "bilinear"
    mask_resize: MaskResize = "nearest"
    # greedy NMS IoU over the kept queries; 0 = off (official with_nms=False; paper Table 15)
    nms_threshold: float = 0.0
    # at most this many kept queries per expression, the best-scored first (after the threshold and NMS); they
    # are the instances written and the instance masks merged into the expression mask; 0 = no cap (official)
    max_instances: int = 0
    # which instances a predictions record lists: "kept" (score > score_threshold, after NMS) or "all" (every
    # query with its score, as the official pred_bboxes; the evaluator's protocol applies the threshold)
    instances_written: InstancesWritten = "kept"
    # official detector_postprocess: drop boxes with zero width or height after clipping; the official mask
    # merge then indexes the instance masks by positions in the shortened score list (docs/instancevg.md)
    drop_empty_boxes: bool = False
    # empty the expression mask when no_target is decided (official: False, the mask stays as predicted)
    empty_mask_on_no_target: bool = True


@dataclass
class QuirkConfig:
    """Code-vs-paper differences (docs/instancevg.md); default = official code, alternative = paper."""

    text_filter_score: TextFilterScore = (
        "mean"  # quirk 1: "mean" (code, channel mean) | "l2" (paper, L2 norm)
    )
    attn_map_pool: AttnMapPool = "max"  # global attention map over queries: "max" (code) | "mean" (paper)
    # quirk 2: "offset" (code: sigmoid(Linear(Linear(p))) + p) | "prior" (paper: p)
    reference_point: ReferencePoint = "offset"
    aux_loss_weighting: AuxLossWeighting = (
        "unweighted"  # quirk 3: "unweighted" (code: aux 1/1/1) | "weighted"
    )
    share_heads: bool = True  # quirk 3: class/box heads shared across decoder layers (code)
    exist_score: ExistScore = "sigmoid"  # quirk 5: "sigmoid" (code: sigmoid(logit[0])) | "softmax" (prob[0])
    no_target_rule: NoTargetRule = (
        "queries"  # quirk 5: "queries" (no query score > thr) | "exist" (exist head)
    )


@dataclass
class AblationConfig:
    """Ablation switches of the paper's Tables 7-8 (the decoder of Table 9 is ``decoder.type``)."""

    tasks: Tasks = "both"  # Table 7 multi-task: "det" (detection losses only) | "seg" (mask losses only)
    use_apd: bool = True  # Table 7: attention-based point-prior decoder (False: learned queries + references)
    use_piph: bool = True  # Table 7: point cost + instance masks (False: DETR matcher, global mask only)
    use_text_filter: bool = True  # Table 8 TF (False: every valid token attends; requires use_tiq=False)
    use_dps: bool = True  # Table 8 DPS (False: top-N_q cells of the attention map)
    use_tiq: bool = True  # Table 8 TIQ: text-injected query (False: query from the point feature only)


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


# group name -> its dataclass, in the order of `InstanceVGConfig`'s fields
GROUPS: dict[str, type] = {
    "input": InputConfig,
    "encoder": EncoderConfig,
    "head": HeadConfig,
    "decoder": DecoderConfig,
    "matcher": MatcherConfig,
    "loss": LossConfig,
    "postprocess": PostprocessConfig,
    "quirks": QuirkConfig,
    "ablation": AblationConfig,
    "train": TrainConfig,
}


@dataclass
class InstanceVGConfig:
    """Everything needed to build, train and post-process one InstanceVG model.

    Shapes in the docstrings of the modules use: S = ``input.img_size``, L = ``input.max_tokens``,
    N_q = ``head.num_queries``, D = ``encoder.dim``, C = ``head.hidden_dim``.

    The constructor also takes the old flat field names as keywords (``InstanceVGConfig(img_size=160)``,
    ``dataclasses.replace(cfg, nms_threshold=0.3)``); they replace that field of a copy of its group.
    """

    name: str = "instancevg-b-grefcoco"
    input: InputConfig = field(default_factory=InputConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    matcher: MatcherConfig = field(default_factory=MatcherConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)
    quirks: QuirkConfig = field(default_factory=QuirkConfig)
    ablation: AblationConfig = field(default_factory=AblationConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __init__(
        self,
        name: str = "instancevg-b-grefcoco",
        input: InputConfig | None = None,
        encoder: EncoderConfig | None = None,
        head: HeadConfig | None = None,
        decoder: DecoderConfig | None = None,
        matcher: MatcherConfig | None = None,
        loss: LossConfig | None = None,
        postprocess: PostprocessConfig | None = None,
        quirks: QuirkConfig | None = None,
        ablation: AblationConfig | None = None,
        train: TrainConfig | None = None,
        **flat: Any,
    ) -> None:
        given = {
            "input": input,
            "encoder": encoder,
            "head": head,
            "decoder": decoder,
            "matcher": matcher,
            "loss": loss,
            "postprocess": postprocess,
            "quirks": quirks,
            "ablation": ablation,
            "train": train,
        }
        object.__setattr__(self, "name", name)
        for group, cls in GROUPS.items():
            value = given[group]
            object.__setattr__(self, group, cls() if value is None else value)
        changes: dict[str, dict[str, Any]] = {}
        for key, value in flat.items():
            if key not in LEGACY_KEYS:
                raise TypeError(f"InstanceVGConfig() got an unexpected keyword argument {key!r}")
            group, leaf = LEGACY_KEYS[key].split(".")
            changes.setdefault(group, {})[leaf] = value
        for group, values in changes.items():
            object.__setattr__(self, group, dataclasses.replace(getattr(self, group), **values))
        validate(self)

    def __getattr__(self, key: str) -> Any:
        # only called when normal lookup fails: the old flat names read the nested field
        path = LEGACY_KEYS.get(key)
        group, leaf = path.split(".") if path is not None else ("", "")
        values = self.__dict__.get(group)
        if values is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")
        return getattr(values, leaf)

    def __setattr__(self, key: str, value: Any) -> None:
        path = LEGACY_KEYS.get(key)
        if path is None:
            object.__setattr__(self, key, value)
            return
        group, leaf = path.split(".")  # a copy of the group: configs made by dataclasses.replace share groups
        object.__setattr__(self, group, dataclasses.replace(getattr(self, group), **{leaf: value}))


def literal_choices(hint: Any) -> tuple[str, ...] | None:
    """The allowed values of a ``Literal[...]`` field type, else None."""
    return typing.get_args(hint) if typing.get_origin(hint) is Literal else None


def _literal_fields(cls: type) -> dict[str, tuple[str, ...]]:
    hints = typing.get_type_hints(cls)
    return {f.name: c for f in dataclasses.fields(cls) if (c := literal_choices(hints[f.name])) is not None}


def _check_ranges(cfg: InstanceVGConfig, where: str) -> None:
    if cfg.postprocess.max_instances < 0:
        raise InputError(f"{where}: postprocess.max_instances must be >= 0 (0: no cap)")
    if not 0.0 <= cfg.train.hflip <= 1.0:
        raise InputError(f"{where}: train.hflip must be a probability in [0, 1]")


def validate(cfg: InstanceVGConfig) -> None:
    """Raise InputError when a field has an impossible value or two switches contradict each other."""
    where = f"config {cfg.name}: field"
    for group, cls in GROUPS.items():
        values = getattr(cfg, group)
        if not isinstance(values, cls):
            raise InputError(f"{where}: {group}: expected a {cls.__name__}, got {type(values).__name__}")
        for key, choices in _literal_fields(cls).items():
            value = getattr(values, key)
            if value not in choices:
                raise InputError(f"{where}: {group}.{key}={value!r} is not one of {', '.join(choices)}")
    inp, enc, head, dec = cfg.input, cfg.encoder, cfg.head, cfg.decoder
    if inp.img_size % (enc.patch_size * 2) != 0:
        raise InputError(f"{where}: input.img_size must be a multiple of 2*encoder.patch_size")
    if inp.max_tokens < 2:
        raise InputError(f"{where}: input.max_tokens must be >= 2 (bos + eos)")
    if inp.max_tokens + 2 > enc.max_text_positions:
        raise InputError(f"{where}: encoder.max_text_positions must be >= input.max_tokens + 2")
    if enc.dim % enc.heads != 0:
        raise InputError(f"{where}: encoder.dim must be divisible by its number of heads")
    if head.hidden_dim % dec.heads != 0:
        raise InputError(f"{where}: head.hidden_dim must be divisible by decoder.heads")
    if head.hidden_dim % head.t2i_heads != 0 or head.hidden_dim % 4 != 0:
        raise InputError(f"{where}: head.hidden_dim must be divisible by head.t2i_heads and by 4")
    if head.num_queries < 1:
        raise InputError(f"{where}: head.num_queries must be >= 1")
    if cfg.ablation.use_tiq and not cfg.ablation.use_text_filter:
        raise InputError(f"{where}: ablation.use_tiq=True needs ablation.use_text_filter=True (Table 8)")
    _check_ranges(cfg, where)
    if dec.msda_levels not in (1, 2, 3, 4):
        raise InputError(f"{where}: decoder.msda_levels must be 1..4 (SimFPN strides 4/8/16/32)")
