"""Run-time switches of a built model: how it runs, never what it computes (beyond fp32 rounding).

They are not part of the model config (`instancevg.config.InstanceVGConfig`), are not stored in checkpoints, and
may differ between the run that trained a model and the one that uses it. ``vgbench train`` sets them with
``--set run.onednn_linear=false`` (``onednn_linear=false`` is accepted too); `build_model` and `load_official`
take a `ModelRuntime`; `apply_runtime` switches an already built model.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from instancevg.ops.onednn_linear import use_onednn_linear

__all__ = ["RUNTIME_KEYS", "ModelRuntime", "apply_runtime"]


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
    from instancevg.ops.onednn_linear import OneDnnLinear

    runtime = runtime or ModelRuntime()
    if runtime.onednn_linear:
        use_onednn_linear(model)
    else:
        for child in model.modules():
            if type(child) is OneDnnLinear:
                child.__class__ = nn.Linear
    return model
