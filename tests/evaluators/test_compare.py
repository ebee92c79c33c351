"""`evaluators.compare_predictions` / `compare_evaluators`: the numbers of ``vgbench compare``, paired and
seeded, with exact point estimates."""

from __future__ import annotations

import json

import pytest

from evaluators import Evaluator, InputError, compare_evaluators, compare_predictions, score_files
from tests.evaluators.factory import perfect_prediction, random_dataset, write_jsonl
from vgbench.cli import main


@pytest.fixture
def files(tmp_path):
    rows, preds = random_dataset(14, seed=7, with_refs=True)
    targets = write_jsonl(tmp_path / "targets.jsonl", rows)
    a = write_jsonl(tmp_path / "a.jsonl", preds)
    b = write_jsonl(tmp_path / "b.jsonl", [perfect_prediction(r) for r in rows])
    return tmp_path, rows, targets, a, b


@pytest.mark.parametrize(("task", "protocol"), [("gres", None), ("rrefcoco", "rrefcoco/instancevg")])
def test_the_cli_writes_what_the_function_returns(files, capsys, task, protocol):
    tmp, _, targets, a, b = files
    out = tmp / "cmp.json"
    extra = ["--protocol", protocol] if protocol else []
    argv = ["compare", "--quiet", "--task", task, "--targets", targets, a, b, "--resamples", "150",
            "--seed", "4", "--ci", "0.9", "--out", out, *extra]  # fmt: skip
    assert main([str(x) for x in argv]) == 0
    capsys.readouterr()
    written = json.loads(out.read_text())
    got = compare_predictions(task, a, b, targets, protocol=protocol, resamples=150, seed=4, ci=0.9)
    assert {k: written[k] for k in got.to_dict()} == got.to_dict()
    assert written["protocol"] == got.protocol
    assert written["a"]["sha256"] == got.results_a["predictions_sha256"]


def test_points_are_the_exact_metrics_and_the_interval_holds_the_difference(files):
    _, _, targets, a, b = files
    got = compare_predictions("gres", a, b, targets, resamples=200)
    metrics_a = score_files("gres", a, targets).results["metrics"]
    metrics_b = score_files("gres", b, targets).results["metrics"]
    assert got.unit == "expressions"
    assert got.n_units == 14
    for key, m in got.metrics.items():
        assert m.a == metrics_a[key]
        assert m.b == metrics_b.get(key)  # cover_acc only where some record has points
    giou = got.metrics["giou"]
    assert giou.diff == pytest.approx(giou.a - giou.b)
    assert giou.ci[0] <= giou.diff <= giou.ci[1] + 1e-9
    assert giou.p_a_not_better == 1.0  # B is perfect: A never beats it


def test_evaluators_compare_as_files_do(files):
    _, rows, targets, a, b = files
    evs = []
    for path in (a, b):
        ev = Evaluator("rrefcoco", keep_rows=True)
        for row, record in zip(rows, (json.loads(x) for x in path.read_text().splitlines())):
            ev.update(record, row)
        evs.append(ev)
    got = compare_evaluators(*evs, resamples=100, seed=1)
    want = compare_predictions("rrefcoco", a, b, targets, resamples=100, seed=1)
    assert got.unit == "objects"
    assert got.to_dict() == want.to_dict()


def test_bad_settings_and_unpaired_evaluators(files):
    _, _, targets, a, b = files
    with pytest.raises(InputError, match=r"ci must be in \(0, 1\)"):
        compare_predictions("gres", a, b, targets, ci=1.5)
    with pytest.raises(InputError, match="resamples must be >= 1"):
        compare_predictions("gres", a, b, targets, resamples=0)
    with pytest.raises(ValueError, match="keep_rows=True"):
        compare_evaluators(Evaluator("gres"), Evaluator("gres"))
    with pytest.raises(ValueError, match="not the same protocol"):
        compare_evaluators(
            Evaluator("gres", keep_rows=True), Evaluator("gres", "gres/instancevg", keep_rows=True)
        )
