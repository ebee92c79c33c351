"""The registry of scoring protocols (docs/evaluators.md#adding-a-protocol): names, defaults, lookup.

Built-in protocols register themselves with the `register_protocol` class decorator. Protocols of other
packages are found through the ``vgbench.protocols`` entry-point group (`ENTRY_POINT_GROUP`), loaded
only when a name is not registered or when the whole list is asked for (`available_protocols`): an entry
point names a `Protocol` subclass (registered when loaded) or a module whose import registers its
protocols with the decorator. A plugin that fails to load is reported, by name, when its protocol is
asked for, and never stops the built-in protocols from working.

An external protocol scores one of the built-in tasks (`TASKS`: the same targets and predictions
files); it cannot change a task's default protocol.
"""

from __future__ import annotations

import difflib
import inspect
import logging
from collections.abc import Mapping
from importlib import metadata
from types import ModuleType
from typing import TypeVar

from evaluators.accumulate import KINDS
from evaluators.errors import InputError
from evaluators.limits import MAX_RESIZE
from evaluators.protocols.base import Protocol

__all__ = [
    "DEFAULTS",
    "ENTRY_POINT_GROUP",
    "PROTOCOLS",
    "TASKS",
    "available_protocols",
    "get_protocol",
    "load_plugins",
    "register_protocol",
    "unregister_protocol",
]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "vgbench.protocols"

PROTOCOLS: dict[str, type[Protocol]] = {}
"""Every registered protocol by name: the built-in ones, and plugins once loaded."""

DEFAULTS: dict[str, str] = {
    "rec": "rec/iou",
    "res": "res/lavt",
    "grec": "grec/grefcoco",
    "gres": "gres/rela",
    "refzom": "refzom/dmmi",
    "rrefcoco": "rrefcoco/refsegformer",
}
TASKS = tuple(DEFAULTS)

_plugin_errors: dict[str, str] = {}  # entry-point name -> why it failed to load
_plugins_loaded = False

P = TypeVar("P", bound=type[Protocol])


def _check_fields(cls: type[Protocol], attr: str) -> None:
    fields = getattr(cls, attr)
    if not isinstance(fields, Mapping) or not fields:
        raise TypeError(
            f"protocol {cls.name!r}: {attr} must declare its state fields, e.g. "
            "declare_state(counts=('n',), sums=('iou',))"
        )
    bad = {name: kind for name, kind in fields.items() if kind not in KINDS}
    if bad:
        raise TypeError(f"protocol {cls.name!r}: {attr} has fields of unknown kind {bad} (kinds: {KINDS})")


def register_protocol(cls: P) -> P:
    """Class decorator: add a `Protocol` subclass to the registry under its ``name``.

    The class must set ``task`` (one of `TASKS`), a unique ``name``, ``metric_keys``, ``state_fields``
    (and ``unit_fields`` when ``grouped``), and implement ``score`` and ``compute``. Returns the class."""
    if not (isinstance(cls, type) and issubclass(cls, Protocol)):
        raise TypeError(f"register_protocol takes a Protocol subclass, got {cls!r}")
    if inspect.isabstract(cls):
        raise TypeError(f"protocol {cls.__qualname__}: score and compute must be implemented")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"protocol {cls.__qualname__}: set the class variable name, e.g. 'rec/strict'")
    if getattr(cls, "task", None) not in TASKS:
        raise TypeError(
            f"protocol {name!r}: task {getattr(cls, 'task', None)!r} is not one of {', '.join(TASKS)}"
        )
    if not cls.metric_keys:
        raise TypeError(f"protocol {name!r}: metric_keys is empty")
    _check_fields(cls, "state_fields")
    if cls.grouped:
        _check_fields(cls, "unit_fields")
    known = PROTOCOLS.get(name)
    if known is not None and known is not cls:
        raise ValueError(
            f"protocol name {name!r} is already registered by {known.__module__}.{known.__qualname__}"
        )
    PROTOCOLS[name] = cls
    return cls


def unregister_protocol(name: str) -> None:
    """Remove a protocol from the registry (a built-in default cannot be removed)."""
    if name in DEFAULTS.values():
        raise ValueError(f"protocol {name!r} is a task's default and cannot be unregistered")
    PROTOCOLS.pop(name, None)


def _load_entry_point(ep: metadata.EntryPoint) -> None:
    obj = ep.load()
    if isinstance(obj, type) and issubclass(obj, Protocol):
        if PROTOCOLS.get(obj.name) is not obj:
            register_protocol(obj)
    elif not isinstance(obj, ModuleType):
        raise TypeError(f"{ep.value} is neither a Protocol subclass nor a module")


def load_plugins(reload: bool = False) -> dict[str, str]:
    """Load every ``vgbench.protocols`` entry point once; returns ``{entry point: error}`` of the failed ones.

    A failure (import error, bad class, name clash) is recorded, never raised: `get_protocol` reports it
    when that protocol is asked for, ``vgbench protocols`` as a warning."""
    global _plugins_loaded
    if _plugins_loaded and not reload:
        return dict(_plugin_errors)
    _plugins_loaded = True
    _plugin_errors.clear()
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            _load_entry_point(ep)
        except Exception as exc:  # a broken plugin must not break the built-in protocols
            dist = getattr(ep.dist, "name", None) or "an unknown distribution"
            why = f"entry point {ep.name!r} = {ep.value!r} of {dist}: {type(exc).__name__}: {exc}"
            _plugin_errors[ep.name] = why
            log.debug("protocol plugin failed to load: %s", why)
    return dict(_plugin_errors)


def available_protocols() -> dict[str, type[Protocol]]:
    """Every protocol: the built-in ones and those of the installed plugins (loaded now), by task."""
    load_plugins()
    order = {task: i for i, task in enumerate(TASKS)}
    return dict(sorted(PROTOCOLS.items(), key=lambda item: order[item[1].task]))


def get_protocol(task: str, name: str | None = None, resize: int | None = None) -> Protocol:
    """The protocol ``name`` (or the task's default), checked to belong to ``task``."""
    if task not in DEFAULTS:
        close = difflib.get_close_matches(task, TASKS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown task {task!r}{hint} (tasks: {', '.join(TASKS)})")
    name = name or DEFAULTS[task]
    errors: dict[str, str] = {}
    if name not in PROTOCOLS:
        errors = load_plugins()
        if name in errors:
            raise InputError(f"protocol {name!r}: its plugin failed to load ({errors[name]})")
    if name not in PROTOCOLS:
        close = difflib.get_close_matches(name, PROTOCOLS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        broken = f"; plugins that failed to load: {', '.join(map(repr, errors))}" if errors else ""
        raise InputError(f"unknown protocol {name!r}{hint} (see `vgbench protocols`){broken}")
    cls = PROTOCOLS[name]
    if cls.task != task:
        raise InputError(f"protocol {name!r} scores task {cls.task!r}, not {task!r}")
    if resize is not None and not 0 < resize <= MAX_RESIZE:
        raise InputError(f"--resize must be an integer in [1, {MAX_RESIZE}], got {resize}")
    return cls(resize=resize)
