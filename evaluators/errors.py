"""Error types shared by every vgbench command.

`InputError` is bad input or usage: the CLI prints it as one ``error:`` line on stderr and exits 2.
Anything else escaping a command is an internal failure (exit 1), e.g. `StateFieldError`: a protocol that
reads or adds a state field it did not declare.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input file, record or option. The message names the file, record and field."""


class StateFieldError(LookupError):
    """A protocol added or read a state field it did not declare (a bug in the protocol, not bad input)."""


def locate(
    path: object, where: str | None = None, expr_id: str | None = None, field: str | None = None
) -> str:
    """Format the location prefix of an error message: ``file:line expr_id=... field=...``."""
    parts = [str(path) + (f":{where}" if where else "")]
    if expr_id is not None:
        parts.append(f"expr_id={expr_id!r}")
    if field is not None:
        parts.append(f"field={field!r}")
    return " ".join(parts)
