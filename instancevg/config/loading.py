"""Configs to and from dicts, files and ``key=value`` overrides.

Keys are dotted: ``<group>.<field>`` (``encoder.dim``, ``postprocess.nms_threshold``, ``train.lr``) or ``name``.
Every old flat key (``img_size``, ``nms_threshold``) is an alias of one dotted key
(`instancevg.config.legacy.LEGACY_KEYS`), in overrides, files and stored checkpoint configs alike. Values are
typed from the dataclass fields; a string switch must be one of its ``Literal`` values.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from evaluators.errors import InputError
from instancevg.config.legacy import LEGACY_KEYS, nest_flat_dict
from instancevg.config.presets import PRESETS
from instancevg.config.schema import GROUPS, InstanceVGConfig, literal_choices

__all__ = [
    "all_keys",
    "apply_overrides",
    "canonical_key",
    "config_from_dict",
    "config_to_dict",
    "list_keys",
    "load_config",
    "parse_overrides",
    "replace_values",
]


# ------------------------------------------------------------------ keys
def _group_fields(group: str) -> dict[str, Any]:
    cls = GROUPS[group]
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def all_keys() -> list[str]:
    """Every dotted key, in field order: ``name``, ``input.img_size``, ..., ``train.hflip``."""
    return ["name"] + [f"{g}.{k}" for g in GROUPS for k in _group_fields(g)]


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, all_keys() + list(LEGACY_KEYS), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def canonical_key(key: str, where: str = "override") -> str:
    """The dotted key of ``key`` (a dotted key or an old flat alias); InputError naming ``where`` if unknown."""
    key = key.strip()
    if key in LEGACY_KEYS:
        return LEGACY_KEYS[key]
    group, dot, leaf = key.partition(".")
    if key == "name" or (dot and group in GROUPS and leaf in _group_fields(group)):
        return key
    raise InputError(f"{where} {key}: unknown key{_did_you_mean(key)}")


def _hint(dotted: str) -> Any:
    if dotted == "name":
        return str
    group, leaf = dotted.split(".")
    return _group_fields(group)[leaf]


# ------------------------------------------------------------------ dict round trip
def config_to_dict(cfg: InstanceVGConfig) -> dict[str, Any]:
    """JSON-ready nested dict ``{"name", "input": {...}, ..., "train": {...}}`` (tuples become lists); inverse of
    ``config_from_dict``."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def config_from_dict(data: Mapping[str, Any], source: str = "config") -> InstanceVGConfig:
    """Build a config from a nested dict, or from the flat dict of an older checkpoint or file (old keys are
    aliases); missing fields keep their defaults; unknown keys raise InputError with a "did you mean" hint."""
    nested = nest_flat_dict(data)
    kwargs: dict[str, Any] = {}
    for key, value in nested.items():
        if key == "name":
            kwargs["name"] = _coerce(value, str, f"{source}: name")
        elif key in GROUPS:
            if not isinstance(value, Mapping):
                raise InputError(f"{source}: {key}: expected a mapping")
            kwargs[key] = GROUPS[key](**_typed_kwargs(key, value, source))
        else:
            raise InputError(f"{source}: {key}: unknown key{_did_you_mean(key)}")
    return InstanceVGConfig(**kwargs)


def _typed_kwargs(group: str, data: Mapping[str, Any], source: str) -> dict[str, Any]:
    fields = _group_fields(group)
    out = {}
    for key, value in data.items():
        if key not in fields:
            raise InputError(f"{source}: {group}.{key}: unknown key{_did_you_mean(f'{group}.{key}')}")
        out[key] = _coerce(value, fields[key], f"{source}: {group}.{key}")
    return out


# C901: a flat dispatch, one branch per supported field type (Literal, bool, int, float, str, tuple, ...).
def _coerce(value: Any, hint: Any, where: str) -> Any:  # noqa: C901
    """Convert ``value`` (a Python value or an override string) to the field type ``hint``."""
    origin = typing.get_origin(hint)
    choices = literal_choices(hint)
    try:
        if choices is not None:
            if value not in choices:
                raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
            return value
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if hint is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"not an integer: {value!r}")
            return int(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError(f"not a number: {value!r}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                raise ValueError(f"not a string: {value!r}")
            return value
        if origin is tuple:
            args = typing.get_args(hint)
            if isinstance(value, str):
                text = value.strip()
                items = (
                    json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
                )
            else:
                items = list(value) if isinstance(value, Iterable) else [value]
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_coerce(v, args[0], where) for v in items)
            if len(items) != len(args):
                raise ValueError(f"expected {len(args)} values, got {len(items)}")
            return tuple(_coerce(v, a, where) for v, a in zip(items, args))
        if isinstance(hint, types.UnionType):  # pragma: no cover - no optional fields today
            return value
    except (TypeError, ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"{where}: {exc}") from None
    raise InputError(f"{where}: unsupported field type {hint}")  # pragma: no cover


# ------------------------------------------------------------------ overrides
def parse_overrides(items: Iterable[str], where: str = "--set") -> dict[str, Any]:
    """``["max_tokens=40", "encoder.heads=4"]`` -> ``{"input.max_tokens": 40, "encoder.heads": 4}``: dotted keys
    (old flat names accepted), values typed from the fields."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{where} {item!r}: expected key=value")
        key, value = (part.strip() for part in item.split("=", 1))
        dotted = canonical_key(key, where)
        out[dotted] = _coerce(value, _hint(dotted), f"{where} {key}")
    return out


def replace_values(
    cfg: InstanceVGConfig, values: Mapping[str, Any], where: str = "override"
) -> InstanceVGConfig:
    """A copy of ``cfg`` with ``{key: value}`` replaced (dotted keys or old flat names; values typed and
    checked); ``cfg`` and its groups are left untouched."""
    changes: dict[str, dict[str, Any]] = {}
    name = cfg.name
    for key, value in values.items():
        dotted = canonical_key(key, where)
        typed = _coerce(value, _hint(dotted), f"{where} {key}")
        if dotted == "name":
            name = typed
        else:
            group, leaf = dotted.split(".")
            changes.setdefault(group, {})[leaf] = typed
    groups = {g: dataclasses.replace(getattr(cfg, g), **c) for g, c in changes.items()}
    return dataclasses.replace(cfg, name=name, **groups)


def apply_overrides(cfg: InstanceVGConfig, overrides: Iterable[str]) -> InstanceVGConfig:
    """Return a copy of ``cfg`` with ``key=value`` overrides applied (``encoder.dim=64``, ``train.lr=1e-4``, or
    an old flat key such as ``img_size=160``)."""
    return replace_values(cfg, parse_overrides(overrides, where="override"), where="override")


def list_keys(cfg: InstanceVGConfig) -> list[tuple[str, Any, list[str]]]:
    """``(dotted key, value in cfg, old flat aliases)`` for every key, in field order."""
    data = config_to_dict(cfg)
    aliases: dict[str, list[str]] = {}
    for flat, dotted in LEGACY_KEYS.items():
        aliases.setdefault(dotted, []).append(flat)
    rows = []
    for key in all_keys():
        group, _, leaf = key.partition(".")
        rows.append((key, data[group][leaf] if leaf else data[group], aliases.get(key, [])))
    return rows


# ------------------------------------------------------------------ loading
def _read_file(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read config: {exc.strerror}") from None
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        elif suffix == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10: the tomli backport (a dependency there)
                import tomli as tomllib

            data = tomllib.loads(text)
        else:
            raise InputError(f"{path}: config: unsupported extension {suffix!r} (use .json, .yaml or .toml)")
    except InputError:
        raise
    except Exception as exc:  # parse errors of the three formats
        raise InputError(f"{path}: config: cannot parse: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: config: expected a mapping at the top level")
    return data


def load_config(name_or_file: str, overrides: Iterable[str] = ()) -> InstanceVGConfig:
    """A preset name (see ``PRESETS``) or a .json/.yaml/.toml file, then ``key=value`` overrides.

    A file holds groups (``encoder: {dim: 64}``) and/or old flat keys (``img_size: 160``). It may name a preset to
    start from with ``base: <preset>``; its other keys replace the preset's.
    """
    if name_or_file in PRESETS:
        cfg = copy.deepcopy(PRESETS[name_or_file])
    else:
        path = Path(name_or_file)
        if not path.suffix or not path.exists():
            close = difflib.get_close_matches(name_or_file, list(PRESETS), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (presets: {', '.join(PRESETS)})"
            raise InputError(f"config {name_or_file!r}: not a preset name or an existing file{hint}")
        data = _read_file(path)
        base = data.pop("base", None)
        if base is not None:
            if base not in PRESETS:
                raise InputError(f"{path}: base: unknown preset {base!r} (presets: {', '.join(PRESETS)})")
            merged = config_to_dict(PRESETS[base])
            for key, value in nest_flat_dict(data).items():
                if key in GROUPS and isinstance(value, Mapping):
                    merged[key].update(value)
                else:
                    merged[key] = value
            data = merged
        cfg = config_from_dict(data, source=str(path))
    overrides = list(overrides)
    return apply_overrides(cfg, overrides) if overrides else cfg
