"""Progress bars: tqdm on stderr, an optional dependency (``pip install 'vgbench[progress]'``).

A bar is shown only when stderr is a terminal, tqdm is installed and the caller is not quiet; otherwise
`progress` returns the iterable unchanged and `progress_bar` a bar that does nothing. Bars never go to
stdout, which belongs to results and tables.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["NullBar", "progress", "progress_bar"]

T = TypeVar("T")


class NullBar:
    """The bar of a quiet run: accepts tqdm's calls used here and does nothing."""

    def __init__(self, total: int | None = None):
        self.total = total
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> NullBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _tqdm(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the progress extra is not installed
        return None
    return tqdm


def progress(
    items: Iterable[T], total: int | None = None, desc: str = "", *, quiet: bool = False, **options: Any
) -> Iterable[T]:
    """``items`` wrapped in a tqdm bar on stderr (see the module docstring for when there is none).
    ``options`` go to tqdm (``unit``, ``leave``, ``position``, ...); the bar is not left on screen by default."""
    tqdm = _tqdm(quiet)
    if tqdm is None:
        return items
    options = {"leave": False, "dynamic_ncols": True, **options}
    return tqdm(items, total=total, desc=desc, file=sys.stderr, **options)


def progress_bar(total: int | None = None, desc: str = "", *, quiet: bool = False, **options: Any) -> Any:
    """A manual bar (``update(n)``, ``set_postfix(...)``, ``close()``): tqdm on stderr, or a `NullBar`."""
    tqdm = _tqdm(quiet)
    if tqdm is None:
        return NullBar(total)
    options = {"leave": False, "dynamic_ncols": True, **options}
    return tqdm(total=total, desc=desc, file=sys.stderr, **options)
