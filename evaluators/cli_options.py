"""argparse option builders shared by the ``vgbench`` subcommands of every package (their one home, in the
bottom package so that each layer may use them). Imports nothing but argparse: ``vgbench --help`` stays fast."""

from __future__ import annotations

import argparse

__all__ = ["add_data_argument", "add_dataset_arguments", "add_predictions_argument", "add_targets_arguments"]


def add_predictions_argument(parser: argparse.ArgumentParser) -> None:
    """``--predictions`` (required): the predictions file to read."""
    parser.add_argument(
        "--predictions", required=True, help="predictions file (.jsonl, .json, optionally .gz)"
    )


def add_targets_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--targets`` (a targets file or a built dataset folder) with the ``--config`` / ``--split`` that
    pick a split of a built dataset folder."""
    parser.add_argument(
        "--targets", required=required, help="targets file (.jsonl/.json/.parquet) or a built dataset folder"
    )
    parser.add_argument("--config", help="config of a built dataset (with a folder --targets)")
    parser.add_argument("--split", help="split of a built dataset (with a folder --targets)")


def add_data_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, required: bool = True
) -> None:
    """``--data``: a built dataset folder (``vgbench build --out``)."""
    parser.add_argument("--data", required=required, help="built dataset folder (vgbench build --out)")


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data``, ``--config``, ``--split`` (all required): one split of a built dataset."""
    add_data_argument(parser)
    parser.add_argument("--config", required=True, help="dataset config, e.g. grefcoco_unc")
    parser.add_argument("--split", required=True, help="split, e.g. val")
