"""The `socialclusters` console command: help on every command, clear exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_COMMANDS = sorted(
    path.stem
    for path in (Path(__file__).resolve().parents[1]).glob("*/management/commands/*.py")
    if not path.stem.startswith("_")
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialclusters.cli", *args],
        capture_output=True, text=True, check=False, timeout=120, env=os.environ.copy(),
    )


def test_the_project_has_commands():
    assert {"refdata", "import_organisations", "demo"} <= set(PROJECT_COMMANDS)


@pytest.mark.parametrize("command", PROJECT_COMMANDS)
def test_every_project_command_has_help(command):
    result = run_cli(command.replace("_", "-"), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    # More than the generic Django options: the command says what it does.
    assert len(result.stdout.split("options:")[0]) > 80


def test_unknown_command_fails_with_a_message():
    result = run_cli("no-such-command")
    assert result.returncode != 0
    assert "Unknown command" in result.stderr


def test_import_of_a_missing_file_names_it_and_exits_1(tmp_path):
    missing = tmp_path / "nowhere.csv"
    result = run_cli("import-organisations", str(missing), "--mapping", "dotcoop")
    assert result.returncode == 1
    assert "nowhere.csv" in result.stderr
