"""Settings: safe local defaults, and production mode refuses insecure ones."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SECURE_ENV = {
    "SOCIALCLUSTERS_PRODUCTION": "1",
    "SECRET_KEY": "8Fq!zR2#mW5@vT9$xL3^aK7&pN1*cB4(eD6)gH0_jM2+sU5=wY8-qX3~",
    "ALLOWED_HOSTS": "clusters.example.org",
}


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "socialclusters.cli", *args], env=full_env, capture_output=True, text=True, check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SOCIALCLUSTERS_PRODUCTION": "1", "ALLOWED_HOSTS": "x.org"}, "SECRET_KEY"),
        ({**SECURE_ENV, "DEBUG": "1"}, "DEBUG"),
        ({**SECURE_ENV, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
    ],
)
def test_insecure_or_invalid_settings_are_refused_with_the_variable_named(env, named):
    result = run_cli("check", env=env)
    assert result.returncode != 0
    assert named in result.stderr


def test_production_settings_pass_django_deploy_checks():
    result = run_cli("check", "--deploy", "--fail-level", "WARNING", env=SECURE_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_local_defaults_use_sqlite_and_debug(settings):
    from socialclusters.config import settings as project_settings

    assert project_settings.DEBUG is (os.environ.get("DEBUG", "1").lower() in {"1", "true", "yes", "on"})
    assert "127.0.0.1" in project_settings.ALLOWED_HOSTS
