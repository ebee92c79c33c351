"""The one writer of predictions files (docs/formats.md#predictions-file), used by the baselines, the
adapters and InstanceVG's ``predict`` / training evaluation.

The file is written beside its destination and renamed into place only when every record has been
written (`evaluators.atomic`), so a failure never leaves a partial predictions file behind.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaluators.atomic import atomic_path
from evaluators.errors import InputError
from evaluators.jsonl import strip_gz

__all__ = ["write_predictions"]


def write_predictions(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write ``records`` to ``path``: ``.jsonl`` one compact record per line, ``.json`` a list; a final
    ``.gz`` compresses. Returns the number of records written.

    Any other file name is an `InputError` (before anything is written); NaN or infinite numbers raise
    ``ValueError`` (a predictions file must be valid JSON) and leave ``path`` untouched.
    """
    path = Path(path)
    name = strip_gz(path)
    if not (name.endswith(".jsonl") or name.endswith(".json")):
        raise InputError(f"{path}: predictions file must end in .jsonl or .json (optionally .gz)")
    as_list = not name.endswith(".jsonl")
    opener = gzip.open if path.name.endswith(".gz") else open
    n = 0
    with atomic_path(path, option="predictions") as tmp, opener(tmp, "wt", encoding="utf-8") as f:
        f.write("[" if as_list else "")
        for record in records:
            text = json.dumps(record, allow_nan=False, separators=(",", ":"))
            if as_list:
                f.write(("," if n else "") + "\n" + text)
            else:
                f.write(text + "\n")
            n += 1
        f.write("\n]\n" if as_list else "")
    return n
