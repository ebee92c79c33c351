"""Writing predictions files (docs/formats.md#predictions-file) atomically, with a progress bar.

The file is written to a temporary name in the destination folder and renamed into place only when
every record has been written, so a failure never leaves a partial predictions file behind.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["progress", "write_predictions"]


def progress(items: Iterable[Any], total: int | None, desc: str, quiet: bool = False) -> Iterable[Any]:
    """Wrap ``items`` in a tqdm bar on stderr (off with ``quiet``, when stderr is not a terminal, or
    when tqdm is not installed)."""
    if quiet or not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the progress extra
        return items
    return tqdm(items, total=total, desc=desc, unit="expr", file=sys.stderr, leave=False)


def write_predictions(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` to ``path`` (``.jsonl`` one per line, ``.json`` a list; ``.gz`` compresses).

    Returns the number of records written. NaN or infinite numbers raise ``ValueError`` (a
    predictions file must be valid JSON).
    """
    path = Path(path)
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    if not (name.endswith(".jsonl") or name.endswith(".json")):
        from evaluators.errors import InputError

        raise InputError(f"{path}: predictions file must end in .jsonl or .json (optionally .gz)")
    as_list = not name.endswith(".jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    n = 0
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as f:
            f.write("[" if as_list else "")
            for record in records:
                text = json.dumps(record, allow_nan=False, separators=(",", ":"))
                if as_list:
                    f.write(("," if n else "") + "\n" + text)
                else:
                    f.write(text + "\n")
                n += 1
            f.write("\n]\n" if as_list else "")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n
