"""``vgbench demo`` shortened: every output exists, every results file is valid, the summary is honest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("datasets")
pytest.importorskip("matplotlib")

from evaluators.errors import InputError
from vgbench.cli import main
from vgbench.demo import EVALS, MODEL_NAME
from vgbench.demo.report import CHECKS, compare
from vgbench.demo.settings import THREADS

SHORT = ["--steps", "30", "--images", "12", "--quiet"]  # a shortened demo: 12 scenes, 30 optimizer steps


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out), *SHORT]) == 0
    return out


def test_same_seed_twice_prints_identical_metrics(demo, tmp_path, capsys):
    """The budget is in steps: a second run of the same shortened demo prints the same numbers."""
    capsys.readouterr()
    assert main(["demo", "--out", str(tmp_path / "again"), *SHORT]) == 0
    printed = capsys.readouterr().out
    first = json.loads((demo / "summary.json").read_text())
    second = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert second["metrics"] == first["metrics"]
    assert second["comparison"] == first["comparison"]
    assert second["training"]["global_step"] == first["training"]["global_step"] == 30
    from vgbench.demo.report import format_summary

    def numbers(text: str) -> list[str]:  # the metric table and the verdict lines, without paths and timings
        lines = text.splitlines()
        return lines[next(i for i, line in enumerate(lines) if "task (config/split)" in line) :]

    assert numbers(printed) == numbers(format_summary(first))
    assert any("instancevg-tiny" in line and "every text-blind baseline" in line for line in numbers(printed))


def test_demo_writes_everything(demo):
    summary = json.loads((demo / "summary.json").read_text())
    models = ["empty", "full-image", "center-box", "largest-object", "oracle-jitter", MODEL_NAME]
    assert list(summary["metrics"]) == models
    for model in models:
        for task, config, split in EVALS:
            results = json.loads((demo / "results" / model / f"{task}.json").read_text())
            assert results["task"] == task
            assert results["counts"]["missing"] == 0
            assert results["targets"].endswith(f"{config}/{split}")
            assert all(v is None or 0.0 <= v <= 100.0 for v in results["metrics"].values())
            assert summary["metrics"][model][task] == results["metrics"]
    outputs = [Path(p) for p in summary["paths"]["plots"] + summary["paths"]["leaderboard"]]
    assert {p.name for p in outputs} >= {"training_curves.png", "examples.png"}
    assert all(p.is_file() and p.stat().st_size > 0 and p.is_relative_to(demo) for p in outputs)
    assert (demo / "run" / "log.jsonl").is_file()
    assert (demo / "run" / "last.pt").is_file()
    assert set(summary["load_dataset_rows"]) == {f"{c}/{s}" for _, c, s in EVALS}
    assert summary["training"]["stopped"] == "max_steps"
    assert summary["training"]["cut_by_minutes"] is False
    assert summary["training"]["precision"] == "fp32"  # on every machine: same numbers everywhere
    assert summary["settings"]["threads"] == THREADS  # fixed, not the machine's core count
    # only the last checkpoint and the best evaluated one are kept
    assert {p.name for p in (demo / "run").glob("*.pt")} <= {"last.pt", "best.pt"}


def test_minutes_cap_says_it_cut_the_plan(demo, tmp_path, caplog):
    from vgbench.demo.pipeline import step_train

    with caplog.at_level("WARNING"):
        got = step_train(tmp_path, demo / "data", 30, 1e-6, 0, ["run.evaluate=false"], quiet=True)
    assert got["stopped"] == "time_budget"
    assert got["cut_by_minutes"] is True
    assert got["global_step"] < got["planned_steps"] == 30
    assert "NOT those of the default demo" in caplog.text


def test_training_plan_covers_the_steps():
    from vgbench.demo.pipeline import training_plan

    # 400 rows at batch 8: 50 steps per epoch; 2,000 steps are 40 epochs, decayed at 32 (48/60 of them)
    assert training_plan(2000, 400, 8, 60, 48) == ["train.epochs=40", "train.decay_epochs=[32]"]
    assert training_plan(30, 100, 8, 60, 48) == ["train.epochs=3", "train.decay_epochs=[2]"]
    assert training_plan(1, 10, 8, 60, 48) == ["train.epochs=1", "train.decay_epochs=[1]"]


def test_demo_verdict_is_computed_from_the_results(demo):
    summary = json.loads((demo / "summary.json").read_text())
    metrics = summary["metrics"]
    for task, key in CHECKS:
        c = summary["comparison"][f"{task}/{key}"]
        blind = {b: metrics[b][task][key] for b in summary["text_blind_baselines"]}
        assert c["model"] == metrics[MODEL_NAME][task][key]
        assert c["beats_all"] == all(c["model"] > v for v in blind.values() if v is not None)
        assert c["best_baseline_value"] == max(v for v in blind.values() if v is not None)
    assert summary["model_beats_text_blind"] == all(c["beats_all"] for c in summary["comparison"].values())
    assert "oracle-jitter" not in summary["text_blind_baselines"]
    rows = summary["load_dataset_rows"]
    for task, key in CHECKS:
        c = summary["comparison"][f"{task}/{key}"]
        config, split = next((cfg, s) for t, cfg, s in EVALS if t == task)
        assert c["n_expressions"] == rows[f"{config}/{split}"]
        assert c["ci_level"] == 0.95
        lo, hi = c["margin_ci"]
        assert -100.0 <= lo <= hi <= 100.0
        assert 0.0 <= c["p_model_not_better"] <= 1.0


def test_margin_interval_separates_oracle_from_empty(demo):
    """The paired bootstrap sees a sure margin where there is one: oracle-jitter against empty."""
    from vgbench.demo.report import margin_intervals

    data = demo / "data"
    predictions = {
        m: {f"{c}/{s}": demo / "predictions" / m / f"{c}-{s}.jsonl" for _, c, s in EVALS}
        for m in ("oracle-jitter", "empty")
    }
    comparison = {"gres/giou": {"best_baseline": "empty"}, "grec/f1_score": {"best_baseline": "empty"}}
    got = margin_intervals(comparison, predictions, data, "oracle-jitter", resamples=200)
    for name, c in got.items():
        lo, hi = c["margin_ci"]
        assert 0.0 < lo <= hi, name
        assert c["p_model_not_better"] == 0.0, name
    same = margin_intervals(
        {"gres/giou": {"best_baseline": "empty"}}, predictions, data, "empty", resamples=50
    )
    assert same["gres/giou"]["margin_ci"] == [0.0, 0.0]
    assert same["gres/giou"]["p_model_not_better"] == 1.0


def test_compare_margins():
    metrics = {
        "m": {"grec": {"f1_score": 50.0}, "gres": {"giou": 40.0}},
        "a": {"grec": {"f1_score": 30.0}, "gres": {"giou": 45.0}},
        "b": {"grec": {"f1_score": None}, "gres": {"giou": 10.0}},
    }
    c = compare(metrics, "m", ["a", "b"])
    assert c["grec/f1_score"]["beats_all"]
    assert c["grec/f1_score"]["margin"] == 20.0
    assert not c["gres/giou"]["beats_all"]
    assert c["gres/giou"]["margin"] == -5.0
    assert c["gres/giou"]["best_baseline"] == "a"


def test_demo_rerun_clears_only_its_own_outputs(tmp_path):
    from vgbench.demo.pipeline import MARKER, _prepare_out

    _prepare_out(tmp_path / "d")
    (tmp_path / "d" / "results").mkdir()
    (tmp_path / "d" / "summary.json").write_text("{}")
    (tmp_path / "d" / "notes.txt").write_text("mine")
    _prepare_out(tmp_path / "d")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == sorted([MARKER, "notes.txt"])


def test_demo_refuses_a_used_folder(tmp_path):
    (tmp_path / "x").write_text("")
    from vgbench.demo import run_demo

    with pytest.raises(InputError, match="empty or new folder, or the folder of an earlier vgbench demo"):
        run_demo(tmp_path, steps=1, images=4)
    with pytest.raises(InputError, match="--minutes"):
        run_demo(tmp_path / "new", minutes=0)
    with pytest.raises(InputError, match="--steps"):
        run_demo(tmp_path / "new", steps=0)


def test_demo_names_missing_extras(tmp_path, monkeypatch):
    import importlib.util

    from vgbench.demo import run_demo

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "datasets" else real(name, *a)
    )
    with pytest.raises(InputError, match=r"needs datasets: .*vgbench\[all\]"):
        run_demo(tmp_path / "new", steps=1)
    assert not (tmp_path / "new").exists()
