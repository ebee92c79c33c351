"""Atomic output: every file vgbench writes appears whole or not at all.

Each writer puts its bytes in a temporary file beside the target (same folder, so the final rename never
crosses a file system), flushes and ``fsync``-s it, then renames it over the target with ``os.replace``;
on any error the temporary file is removed and an existing target is left untouched. The data is on disk
before the rename, so even after a crash the target is the old file or the new one, whole (the folder
itself is not fsync-ed: a crash right after the rename may bring back the old file). Output paths are
checked first: an existing folder, or a path below an existing file, is refused with an `InputError`
naming the option, and so is a folder where nothing may be written (no permission, read-only).

- `atomic_path`: a temporary *path* to hand to a library that writes by name (``torch.save``,
  ``savefig``, ``gzip.open``); `atomic_file`: an open temporary *file*.
- `write_text_atomic`, `write_bytes_atomic`, `write_json_atomic`, `copy_atomic`: one-call writers.
- `write_atomic_group`: several files committed as one unit (results JSON + per-sample lines).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from evaluators.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

__all__ = [
    "atomic_file",
    "atomic_path",
    "check_output_path",
    "check_output_paths",
    "check_parent_folders",
    "copy_atomic",
    "dump_json",
    "write_atomic_group",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


def check_output_path(path: str | Path, option: str = "--out") -> Path:
    """Refuse, before any work, an output path that cannot be a file: an existing folder, or a path
    below an existing file. `InputError` naming the option and the path."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: {option}: is a folder, expected a file path")
    check_parent_folders(path, option)
    return path


def check_parent_folders(path: str | Path, option: str = "--out") -> None:
    """Refuse a path below an existing file (its nearest existing parent must be a folder)."""
    path = Path(path)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{path}: {option}: {parent} is a file, not a folder")
            break


def check_output_paths(paths: dict[str, str | Path | None]) -> None:
    """`check_output_path` for each given ``{option: path}``, and no two options on one file."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        resolved = check_output_path(path, option).resolve()
        if resolved in seen:
            raise InputError(f"{path}: {option} and {seen[resolved]} name the same file")
        seen[resolved] = option


def _temp_beside(path: Path, option: str, suffix: str) -> str:
    """Create (closed, empty) a temporary file in ``path``'s folder, creating the folder."""
    check_output_path(path, option)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:  # no permission, read-only file system, ...
        raise InputError(f"{path}: {option}: cannot write here: {exc.strerror or exc}") from None
    os.close(fd)
    return tmp


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, option: str = "output", suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for the body to write; on success it is fsync-ed and
    renamed onto ``path``, on error removed. ``suffix`` ends the temporary name (e.g. ``.png`` for
    writers that infer the format from it)."""
    path = Path(path)
    tmp = _temp_beside(path, option, suffix)
    try:
        yield Path(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_file(
    path: str | Path, mode: str = "w", *, option: str = "output", opener: Callable[..., IO] = open
) -> Iterator[IO]:
    """Yield an open temporary file beside ``path`` (text modes: UTF-8, ``\\n`` line ends); committed to
    ``path`` when the body ends without error. ``opener`` opens the temporary path (e.g. ``gzip.open``)."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_file: mode must be 'w', 'wt' or 'wb', got {mode!r}")
    text = {} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"}
    with atomic_path(path, option=option) as tmp, opener(tmp, mode, **text) as f:
        yield f


def write_text_atomic(path: str | Path, text: str, *, option: str = "output") -> None:
    """Write UTF-8 ``text`` with ``\\n`` line ends to ``path``, atomically."""
    with atomic_file(path, "w", option=option) as f:
        f.write(text)


def write_bytes_atomic(path: str | Path, data: bytes, *, option: str = "output") -> None:
    """Write ``data`` to ``path``, atomically."""
    with atomic_file(path, "wb", option=option) as f:
        f.write(data)


def copy_atomic(src: str | Path, dst: str | Path, *, option: str = "output") -> None:
    """Copy the file ``src`` onto ``dst``, atomically."""
    with atomic_path(dst, option=option) as tmp:
        shutil.copyfile(src, tmp)


def dump_json(data: Any) -> Callable[[IO[str]], None]:
    """A writer (for `write_atomic_group`) of ``data`` as indented JSON plus a newline; NaN refused."""

    def write(f: IO[str]) -> None:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")

    return write


def write_json_atomic(path: str | Path, data: Any, *, option: str = "output") -> None:
    """Write ``data`` as indented JSON (NaN/infinity refused with ``ValueError``), atomically."""
    with atomic_file(path, "w", option=option) as f:
        dump_json(data)(f)


def write_atomic_group(items: list[tuple[str | Path, Callable[[IO[str]], Any]]]) -> None:
    """Write several text files as one unit: each ``(path, write(f))`` goes to a temp file beside its
    target; only when all are written (and fsync-ed) are they renamed into place, holding an exclusive
    lock on their folders, so two runs writing the same paths never leave files from different runs."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            path = Path(path)
            tmp = _temp_beside(path, "output", ".tmp")
            temps.append((tmp, path))
            with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
        folders = sorted({str(p.parent.resolve()) for _, p in temps})
        with _locked_folders(folders):
            for tmp, path in temps:
                os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked_folders(folders: list[str]) -> Iterator[None]:
    """Exclusive ``flock`` on each folder (sorted order: no deadlock); a no-op where unsupported."""
    fds = []
    try:
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            fds.append(fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)  # closing releases the lock
