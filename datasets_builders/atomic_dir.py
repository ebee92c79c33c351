"""Replace an output folder atomically: write everything into a temp folder beside it, then swap.

Only a folder that vgbench wrote (it holds ``marker``) or an empty one is ever replaced, so a mistyped
``--out`` never deletes a user's files.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from evaluators.atomic import check_parent_folders
from evaluators.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["check_replaceable", "remove_stale_temps", "swap_in"]


def check_replaceable(out: Path, marker: str, writer: str) -> None:
    """Raise `InputError` unless ``out`` is absent, an empty folder, or a folder holding ``marker``."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).is_file())):
        raise InputError(f"{out}: exists and was not written by {writer}; refusing to replace it")
    check_parent_folders(out, "--out")


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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(out: Path, kinds: tuple[str, ...] = ("building", "synth", "old")) -> list[Path]:
    """Delete the temp folders ``.{out.name}.{kind}-{pid}`` beside ``out`` that a killed run left
    (its process no longer exists); returns what was removed. Folders of live runs are kept."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.({'|'.join(kinds)})-(\d+)$")
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in out.parent.iterdir():
        m = pattern.match(path.name)
        if m and path.is_dir() and not path.is_symlink() and not _alive(int(m.group(2))):
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed %s, left by a build that did not finish", path)
            removed.append(path)
    return removed
