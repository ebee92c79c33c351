"""Replace an output folder atomically: write everything into a temp folder beside it, then swap.

Only a folder that vgbench wrote (it holds ``marker``) or an empty one is ever replaced, so a mistyped
``--out`` never deletes a user's files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from evaluators.errors import InputError

__all__ = ["check_replaceable", "swap_in"]


def check_replaceable(out: Path, marker: str, writer: str) -> None:
    """Raise `InputError` unless ``out`` is absent, an empty folder, or a folder holding ``marker``."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).is_file())):
        raise InputError(f"{out}: exists and was not written by {writer}; refusing to replace it")


def swap_in(tmp: Path, out: Path, marker: str, writer: str) -> None:
    """Move the finished folder ``tmp`` to ``out`` (checked with `check_replaceable` first); an earlier
    ``out`` is renamed aside and deleted only once the new one is in place."""
    check_replaceable(out, marker, writer)
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
