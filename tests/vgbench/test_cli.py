"""The ``vgbench`` dispatcher (vgbench/cli.py): help, version, unknown commands, ``python -m vgbench``."""

from __future__ import annotations

import subprocess
import sys

from vgbench import __version__
from vgbench.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS)
    assert main([]) == 2  # no command is a usage error, with the same help
    assert "usage: vgbench <command>" in capsys.readouterr().out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_unknown_command_is_one_error_line_with_a_suggestion(capsys):
    assert main(["evl"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown command 'evl'")
    assert "did you mean 'eval'" in err
    assert err.count("\n") == 1


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "vgbench", "protocols"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "grec/grefcoco" in proc.stdout
