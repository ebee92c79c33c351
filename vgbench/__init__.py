"""vgbench: one command line for the benchmark suite (see `vgbench --help`)."""

from evaluators.version import package_version

__version__ = package_version()

__all__ = ["__version__"]
