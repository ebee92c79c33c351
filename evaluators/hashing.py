"""SHA-256 digests of files, as recorded in results (``targets_sha256``, ``predictions_sha256``) and
build manifests (``sources``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["sha256_file", "sha256_files"]

_BLOCK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of the bytes of ``path`` (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def sha256_files(files: Sequence[str | Path]) -> str:
    """One digest for a list of files: the file's own digest when there is one file, else the SHA-256 of
    the lines ``{name}:{sha256}\\n`` in the given order (a sharded targets split)."""
    if len(files) == 1:
        return sha256_file(files[0])
    h = hashlib.sha256()
    for f in files:
        h.update(f"{Path(f).name}:{sha256_file(f)}\n".encode())
    return h.hexdigest()
