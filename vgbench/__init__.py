"""vgbench: one command line for the benchmark suite (see `vgbench --help`)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vgbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
