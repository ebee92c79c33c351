"""The installed vgbench version, as written into results, manifests and reports."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["LOCAL_VERSION", "package_version"]

LOCAL_VERSION = "0.0.0+local"  # running from a source tree that was never installed


def package_version() -> str:
    """``importlib.metadata.version("vgbench")``, or `LOCAL_VERSION` when the package is not installed."""
    try:
        return version("vgbench")
    except PackageNotFoundError:
        return LOCAL_VERSION
