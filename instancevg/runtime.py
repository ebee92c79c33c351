"""Run-time switches of a built model: how it runs, never what it computes (beyond fp32 rounding).

They are not part of the model config (`instancevg.config.InstanceVGConfig`) nor of its stored form, and
may differ between the run that trained a model and the one that uses it. ``vgbench train`` sets them with
``--set run.onednn_linear=false`` (``onednn_linear=false`` is accepted too); `build_model` and `load_official`
take a `ModelRuntime`; `apply_runtime` switches an already built model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported by `apply_runtime` only: the options stay cheap to import
    from torch import nn

__all__ = ["RUNTIME_KEYS", "ModelRuntime", "apply_runtime", "split_runtime_overrides"]


@dataclass(frozen=True)
class ModelRuntime:
    """Speed switches of a model.

    Attributes:
        onednn_linear: gradient-free fp32 ``nn.Linear`` layers on CPU run through oneDNN instead of MKL
            (`instancevg.ops.onednn_linear`; 1.7x on the B preset on an AMD CPU); the same fp32 product up to the
            summation order. Training steps (which need gradients) are unaffected.
    """

    onednn_linear: bool = True


# the run-time keys, also accepted without the ``run.`` prefix by ``vgbench train --set``
RUNTIME_KEYS: frozenset[str] = frozenset({"onednn_linear"})


def apply_runtime(model: nn.Module, runtime: ModelRuntime | None = None) -> nn.Module:
    """Switch ``model`` (in place) to ``runtime`` (default `ModelRuntime()`); returns it.

    Turning ``onednn_linear`` on converts every plain ``nn.Linear``; turning it off converts them back.
    """

    from torch import nn

    from instancevg.ops.onednn_linear import OneDnnLinear, use_onednn_linear

    runtime = runtime or ModelRuntime()
    if runtime.onednn_linear:
        use_onednn_linear(model)
    else:
        for child in model.modules():
            if type(child) is OneDnnLinear:
                child.__class__ = nn.Linear
    return model


def split_runtime_overrides(items: Iterable[str]) -> tuple[ModelRuntime, list[str]]:
    """``["onednn_linear=false", "max_tokens=40"]`` -> ``(ModelRuntime(onednn_linear=False), ["max_tokens=40"])``:
    the run-time keys (``run.`` prefix optional) become a `ModelRuntime`, the other items are returned as given."""
    from evaluators.errors import InputError

    values: dict[str, bool] = {}
    rest = []
    for item in items:
        key, _, value = item.partition("=")
        name = key.strip().removeprefix("run.")
        if name not in RUNTIME_KEYS:
            rest.append(item)
            continue
        text = value.strip().lower()
        if text not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise InputError(f"--set {key.strip()}: not a boolean: {value.strip()!r}")
        values[name] = text in ("1", "true", "yes", "on")
    return dataclasses.replace(ModelRuntime(), **values), rest
