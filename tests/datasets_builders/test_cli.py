"""The three commands through a real ``python -m vgbench`` process (exit codes, fork-safe workers)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _vgbench(*args):
    return subprocess.run(
        [sys.executable, "-m", "vgbench", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_synth_build_export_end_to_end(tmp_path):
    src, out, targets = tmp_path / "src", tmp_path / "data", tmp_path / "t.jsonl"
    r = _vgbench("synth", "--out", src, "--images", 12, "--seed", 3)
    assert r.returncode == 0, r.stderr
    r = _vgbench(
        "build",
        "--quiet",
        "--source",
        src,
        "--out",
        out,
        "--workers",
        2,
        "--configs",
        "grefcoco_unc,refzom_final",
    )
    assert r.returncode == 0, r.stderr
    assert "grefcoco_unc: train" in r.stdout
    assert r.stdout.count("wrote") == 1  # workers did not rerun the CLI
    r = _vgbench(
        "export-targets", "--data", out, "--config", "grefcoco_unc", "--split", "val", "--out", targets
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in targets.read_text().splitlines()]
    assert rows
    assert all(row["expr_id"].startswith("grefcoco_unc/val/") for row in rows)


def test_bad_input_is_one_error_line(tmp_path):
    (tmp_path / "src" / "refcoco").mkdir(parents=True)
    (tmp_path / "src" / "refcoco" / "instances.json").write_text("{}")
    (tmp_path / "src" / "refcoco" / "refs(unc).p").write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    r = _vgbench("build", "--source", tmp_path / "src", "--out", tmp_path / "d")
    assert r.returncode == 2
    assert r.stderr.startswith("error:")
    assert "Traceback" not in r.stderr
    assert "refs(unc).p" in r.stderr
    assert "refused global os.system" in r.stderr
    assert "hi" not in r.stdout
    assert not (tmp_path / "d").exists()
