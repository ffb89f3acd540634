"""Documentation checked by tests: every setting, command and API path appears in the README or in the
guides under ``docs/`` that it links to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]
README = "\n".join(
    path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def environment_variables() -> set[str]:
    pattern = re.compile(r"""(?:os\.environ\.get|env_bool|env_list)\(\s*["']([A-Z_]+)["']""")
    names = set()
    for path in PACKAGE.rglob("*.py"):
        if "tests" not in path.parts:
            names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def test_settings_are_read_from_the_environment():
    expected = {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SOCIALCLUSTERS_DATA_DIR"}
    assert expected <= environment_variables()


@pytest.mark.parametrize("name", sorted(environment_variables()))
def test_every_setting_is_documented(name):
    assert f"`{name}`" in README, f"{name} is read from the environment but not documented in the README"


@pytest.mark.parametrize(
    "command",
    sorted(p.stem for p in PACKAGE.glob("*/management/commands/*.py") if not p.stem.startswith("_")),
)
def test_every_command_is_documented(command):
    assert f"socialclusters {command.replace('_', '-')}" in README or f"socialclusters {command}" in README


def test_every_api_path_is_documented(client):
    schema = client.get("/api/v1/openapi.json").json()
    missing = [path for path in schema["paths"] if f"`{path.removeprefix('/api/v1')}`" not in README
               and f"`{path}`" not in README]
    assert not missing, f"API paths missing from the README: {missing}"


def test_changelog_cites_issues():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"#\d+", changelog)
