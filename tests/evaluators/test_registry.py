"""Typed protocol state (a misspelt field raises) and the protocol registry: the decorator, and plugins
found through the ``vgbench.protocols`` entry points, usable from `score_files` and the CLI; a broken
plugin is reported by name and leaves the built-in protocols working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from evaluators import (
    DEFAULTS,
    PROTOCOLS,
    Evaluator,
    InputError,
    StateFieldError,
    available_protocols,
    declare_state,
    get_protocol,
    register_protocol,
    score_files,
    unregister_protocol,
)
from evaluators.accumulate import COUNT, SUM, Sums, divide
from evaluators.protocols import registry
from evaluators.protocols.rec import RecIoU
from tests.evaluators.factory import perfect_prediction, random_dataset, target_row, write_jsonl

REPO = Path(__file__).resolve().parents[2]

PLUGIN = '''
from dataclasses import dataclass

from evaluators import Protocol, declare_state
from evaluators.accumulate import divide
from evaluators.protocols.base import top_index


@dataclass(frozen=True)
class RecCenter(Protocol):
    """Share of expressions whose top box centre lies in the target box (borders included)."""

    task = "rec"
    name = "plugin/rec-center"
    summary = "top box centre inside the target box"
    metric_keys = ("center_acc",)
    needs = "boxes"
    state_fields = declare_state(counts=("n", "hit"))

    def score(self, pred, target):
        top = top_index(pred)
        hit = 0
        if top is not None:
            x, y, w, h = (float(v) for v in pred.boxes[top])
            gx, gy, gw, gh = (float(v) for v in target.boxes[0])
            hit = int(gx <= x + w / 2 <= gx + gw and gy <= y + h / 2 <= gy + gh)
        return {"center_hit": bool(hit)}, {"n": 1, "hit": hit}

    def compute(self, sums):
        return {"center_acc": divide(sums["hit"], sums.count("n"))}
'''

ENTRY_POINTS = """
[vgbench.protocols]
plugin/rec-center = vgbench_test_plugin:RecCenter
plugin/broken = vgbench_test_plugin_missing:Nothing
"""


@pytest.fixture
def clean_registry(monkeypatch):
    """Restore the registry (and forget loaded plugins) after the test."""
    saved = dict(PROTOCOLS)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "_plugin_errors", {})
    yield
    PROTOCOLS.clear()
    PROTOCOLS.update(saved)
    sys.modules.pop("vgbench_test_plugin", None)


@pytest.fixture
def plugin_dir(tmp_path) -> Path:
    """A directory that, on ``sys.path``, is an installed distribution with two protocol entry points."""
    root = tmp_path / "site"
    (root / "vgbench_test_plugin-0.1.dist-info").mkdir(parents=True)
    (root / "vgbench_test_plugin.py").write_text(PLUGIN)
    info = root / "vgbench_test_plugin-0.1.dist-info"
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vgbench-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return root


def _rec_files(tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    rows, preds = random_dataset(12, seed=5, one_box=True)
    return write_jsonl(tmp_path / "targets.jsonl", rows), write_jsonl(tmp_path / "preds.jsonl", preds), rows


def _center_acc(rows: list[dict], preds: list[dict]) -> float:
    """The plugin's metric computed here, independently: top box by score (ties: larger box tuple)."""
    hits = 0
    for row, pred in zip(rows, preds):
        if not pred["instances"]:
            continue
        top = max(pred["instances"], key=lambda i: (i["score"], *i["bbox"]))
        x, y, w, h = top["bbox"]
        gx, gy, gw, gh = row["targets"][0]["bbox"]
        hits += gx <= x + w / 2 <= gx + gw and gy <= y + h / 2 <= gy + gh
    return 100.0 * hits / len(rows)


# --- typed state ------------------------------------------------------------------------------------------


def test_a_misspelt_field_in_compute_raises(clean_registry):
    @register_protocol
    @dataclass(frozen=True)
    class Misspelt(RecIoU):
        name = "test/misspelt"

        def compute(self, sums: Sums):
            return {"prec@0.5": divide(sums["hti@0.5"], sums.count("n"))}

    ev = Evaluator("rec", "test/misspelt")
    row = target_row("r/val/0", [(1, 1, 5, 5)])
    ev.update(perfect_prediction(row), row)
    with pytest.raises(StateFieldError, match=r"no state field 'hti@0\.5'; did you mean 'hit@0\.5'"):
        ev.compute()


def test_an_undeclared_contribution_field_raises():
    sums = Sums(declare_state(counts=("n",), sums=("iou",)), "protocol 'x'")
    sums.add({"n": 1, "iou": 0.5})
    with pytest.raises(StateFieldError, match="protocol 'x' has no state field 'ioux'"):
        sums.add({"n": 1, "ioux": 0.5})


def test_declared_but_unset_fields_read_zero_and_kinds_are_checked():
    sums = Sums(declare_state(counts=("n",), sums=("iou",)))
    assert sums.count("n") == 0
    assert float(sums["iou"]) == 0.0
    with pytest.raises(StateFieldError, match="is a sum, not a count"):
        sums.count("iou")
    with pytest.raises(TypeError, match="non-integer"):
        sums.add({"n": 0.5})
    other = Sums(declare_state(counts=("m",)))
    with pytest.raises(StateFieldError, match="different fields"):
        sums.merge(other)


def test_declare_state_rejects_a_field_declared_twice():
    with pytest.raises(ValueError, match="declared twice"):
        declare_state(counts=("n",), sums=("n",))
    assert dict(declare_state(counts=("n",), sums=("iou",))) == {"n": COUNT, "iou": SUM}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_builtin_protocol_declares_its_state(name):
    cls = PROTOCOLS[name]
    assert cls.state_fields
    assert set(cls.state_fields.values()) <= {COUNT, SUM}
    if cls.grouped:
        assert cls.unit_fields


# --- the decorator -----------------------------------------------------------------------------------------


def test_register_protocol_makes_a_protocol_usable(clean_registry, tmp_path):
    @register_protocol
    @dataclass(frozen=True)
    class Strict(RecIoU):
        name = "test/rec-strict"

    assert PROTOCOLS["test/rec-strict"] is Strict
    assert isinstance(get_protocol("rec", "test/rec-strict"), Strict)
    targets, preds, _ = _rec_files(tmp_path)
    got = score_files("rec", preds, targets, protocol="test/rec-strict").results
    want = score_files("rec", preds, targets, protocol="rec/iou").results
    assert got["protocol"] == "test/rec-strict"
    assert got["metrics"] == want["metrics"]
    unregister_protocol("test/rec-strict")
    with pytest.raises(InputError, match="unknown protocol 'test/rec-strict'"):
        get_protocol("rec", "test/rec-strict")


def test_register_protocol_refuses_bad_classes(clean_registry):
    @dataclass(frozen=True)
    class Clash(RecIoU):
        name = "rec/iou"

    with pytest.raises(ValueError, match="already registered"):
        register_protocol(Clash)

    @dataclass(frozen=True)
    class NoTask(RecIoU):
        task = "detection"
        name = "test/no-task"

    with pytest.raises(TypeError, match="task 'detection' is not one of"):
        register_protocol(NoTask)

    @dataclass(frozen=True)
    class NoState(RecIoU):
        name = "test/no-state"
        state_fields = {}  # noqa: RUF012 - the empty class-level declaration is the case under test

    with pytest.raises(TypeError, match="must declare its state fields"):
        register_protocol(NoState)
    with pytest.raises(ValueError, match="default"):
        unregister_protocol(DEFAULTS["rec"])
    assert PROTOCOLS["rec/iou"] is RecIoU


# --- entry points ------------------------------------------------------------------------------------------


def test_an_entry_point_protocol_is_loaded_on_first_use(clean_registry, plugin_dir, monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(plugin_dir))
    assert "plugin/rec-center" not in PROTOCOLS
    targets, preds, rows = _rec_files(tmp_path)
    results = score_files("rec", preds, targets, protocol="plugin/rec-center").results
    assert results["protocol"] == "plugin/rec-center"
    records = [json.loads(line) for line in preds.read_text().splitlines()]
    assert results["metrics"]["center_acc"] == pytest.approx(_center_acc(rows, records))


def test_a_broken_plugin_is_named_and_the_builtins_keep_working(
    clean_registry, plugin_dir, monkeypatch, tmp_path
):
    monkeypatch.syspath_prepend(str(plugin_dir))
    with pytest.raises(InputError, match=r"'plugin/broken': its plugin failed to load .*ModuleNotFoundError"):
        get_protocol("rec", "plugin/broken")
    with pytest.raises(InputError, match="plugins that failed to load: 'plugin/broken'"):
        get_protocol("rec", "plugin/nothing-like-this")
    names = available_protocols()
    assert "plugin/rec-center" in names
    assert set(PROTOCOLS) <= set(names)
    targets, preds, _ = _rec_files(tmp_path)
    assert score_files("rec", preds, targets).results["protocol"] == "rec/iou"


def test_plugins_through_the_cli(plugin_dir, tmp_path):
    targets, preds, rows = _rec_files(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(REPO)])}

    def vgbench(*argv):
        cmd = [sys.executable, "-m", "vgbench", *map(str, argv)]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    out = tmp_path / "results.json"
    proc = vgbench("eval", "--quiet", "--task", "rec", "--protocol", "plugin/rec-center",
                   "--predictions", preds, "--targets", targets, "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in preds.read_text().splitlines()]
    assert json.loads(out.read_text())["metrics"]["center_acc"] == pytest.approx(_center_acc(rows, records))

    proc = vgbench("protocols", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = [e["name"] for e in json.loads(proc.stdout)]
    assert "plugin/rec-center" in listed
    assert "rec/iou" in listed
    assert "plugin/broken" in proc.stderr
    assert "ModuleNotFoundError" in proc.stderr

    proc = vgbench("eval", "--quiet", "--task", "rec", "--protocol", "plugin/broken",
                   "--predictions", preds, "--targets", targets)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: protocol 'plugin/broken': its plugin failed to load")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_state_survives_pickling_for_worker_processes():
    import pickle

    sums = get_protocol("gres").expression_sums()
    sums.add({"n": 1, "iou": 0.25, "I": 3})
    back = pickle.loads(pickle.dumps(sums))
    assert back.count("n") == 1
    assert back["iou"] == sums["iou"]
    with pytest.raises(StateFieldError, match="did you mean 'iou'"):
        back.add({"iuo": 0.5})
    back.merge(sums)
    assert back.count("I") == 6
