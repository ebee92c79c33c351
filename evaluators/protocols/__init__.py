"""The scoring protocols (docs/formats.md#scoring-protocols) and their registry (`registry`).

Importing this package registers the built-in protocols; `get_protocol` finds a protocol by name, loading
the ``vgbench.protocols`` entry points (plugins) only for a name that is not built in.
"""

from __future__ import annotations

# isort: off
# Registration order is the listing order (`vgbench protocols`) and a task's default comes first.
from evaluators.protocols import rec, harness, res, grec, gres, refzom, rrefcoco  # noqa: F401

# isort: on
from evaluators.protocols.base import Protocol
from evaluators.protocols.registry import (
    DEFAULTS,
    ENTRY_POINT_GROUP,
    PROTOCOLS,
    TASKS,
    available_protocols,
    get_protocol,
    load_plugins,
    register_protocol,
    unregister_protocol,
)

__all__ = [
    "DEFAULTS",
    "ENTRY_POINT_GROUP",
    "PROTOCOLS",
    "TASKS",
    "Protocol",
    "available_protocols",
    "get_protocol",
    "load_plugins",
    "register_protocol",
    "unregister_protocol",
]
