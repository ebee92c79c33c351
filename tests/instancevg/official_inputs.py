"""Inputs of the tests that run the official tiny fixture checkpoint: the checkpoint, its option, and a small
synthetic build with a SentencePiece model trained on it."""

from __future__ import annotations

from pathlib import Path

from datasets_builders.build import build_dataset
from datasets_builders.reading import iter_rows
from datasets_builders.synth import write_synth
from instancevg.tokenizer import Tokenizer

DATA = Path(__file__).parent / "data" / "official"
CHECKPOINT = DATA / "tiny_official.pth"
HEADS = ["--set", "encoder_heads=4"]  # the fixture model's BEiT-3 heads are 32-dimensional, not 64


def build_official_inputs(root: Path) -> tuple[Path, Path, Path]:
    """``(root, data, spm model)``: grefcoco_unc and refcoco_unc built from 10 synthetic images."""
    source = write_synth(root / "src", images=10, seed=3)
    data = build_dataset(source, root / "data", configs=["grefcoco_unc", "refcoco_unc"], quiet=True)
    sentences = [r["sentence"] for r in iter_rows(data, "grefcoco_unc", "train", columns=["sentence"])]
    Tokenizer.train(sentences, root / "spm", vocab_size=200)
    return root, data, root / "spm.model"


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``vgbench`` with ``argv`` (each ``str()``-ed): ``(exit code, stdout, stderr)``."""
    from vgbench.cli import main

    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err
