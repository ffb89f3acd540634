"""Fixtures of the working group's tests."""

from __future__ import annotations

import pytest

from socialclusters.workinggroup.tests.factories import World, build_world


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    return build_world()


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    # Uploaded CVs go to a throw-away folder, never to the checkout's var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
