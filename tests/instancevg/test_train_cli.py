"""`vgbench train` through the entry point: summary on stdout, `--set run.*`, exit 2 on bad input."""

import json

import pytest

from tests.instancevg.test_train_data import one_torch_thread, tiny_train_argv, write_tiny_build
from vgbench.cli import main


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    yield from one_torch_thread()


TINY = ["img_size=32", "vocab_size=64", "max_tokens=8", "num_queries=3", "train.batch_size=4"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_build(tmp_path_factory.mktemp("cli"), n_train=6, n_val=3)


def test_train_then_resume_from_the_command_line(data, tmp_path, capsys):
    run = tmp_path / "run"
    argv = tiny_train_argv(data, run, "--set", *TINY)
    assert main([*argv, "train.epochs=1", "run.evaluate=false"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs_completed"] == 1
    assert summary["metrics"] == {}
    assert main([*argv, "train.epochs=2", "run.log_every=1", "--resume"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs_completed"] == 2
    assert set(summary["metrics"]) == {"grec", "gres"}
    assert (run / "tokenizer.model").is_file()
    # by default only last.pt and, since the run evaluated, best.pt (the epoch with the best GREC F1score)
    assert {p.name for p in run.glob("*.pt")} == {"last.pt", "best.pt"}
    from instancevg.training.checkpoint_io import load_checkpoint

    best = load_checkpoint(run / "best.pt")
    assert best["best"]["metric"] == "grec/f1_score"
    assert best["best"]["epoch"] == 2
    assert best["epoch"] == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "train.lrr=1"], "did you mean train.lr"),
        (["--set", "run.data_config=refcoco_unc"], "refcoco_unc"),
        (["--set", "run.evaluate=maybe"], "not a boolean"),
        (["--config", "tiny"], "did you mean tiny-cpu"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(data, tmp_path, capsys, extra, message):
    argv = tiny_train_argv(data, tmp_path / "r", *extra)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_list_presets_and_keys(capsys):
    from vgbench.cli import main as cli_main

    assert cli_main(["train", "--list-presets"]) == 0
    assert "tiny-cpu" in capsys.readouterr().out.split()
    assert cli_main(["train", "--list-keys"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()[1:]]
    keys = {row[0]: row[2] for row in rows}
    assert {"input.img_size", "encoder.dim", "train.lr", "run.threads", "run.onednn_linear"} <= set(keys)
    assert keys["input.img_size"] == "img_size"
    assert keys["encoder.dim"] == "encoder_dim"


def test_train_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; from vgbench.cli import build_parser; build_parser('train'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
