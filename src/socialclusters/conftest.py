"""Test set-up shared by every app: reference data loaded once per session, users of every role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.utils import translation

from socialclusters.accounts.models import Role
from socialclusters.tests.browser import CHROMIUM_ARGS, BrowserProblems

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Load the real reference data (NUTS 2021 from the GISCO mirror, NACE, countries, legal forms) once."""
    from socialclusters.registry.refdata import load_reference_data

    with django_db_blocker.unblock():
        load_reference_data()
    yield
    # The browser tests' live server answers each request in a daemon thread with its own connection; one still
    # open when the session ends (a page polling at that moment) would keep PostgreSQL from dropping the test
    # database. Nothing runs any more: end those sessions before pytest-django drops it.
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def _transactional(item: pytest.Item) -> bool:
    """Whether a test commits for real (browser tests, whose live server must see the data, and the few
    that test what happens outside any transaction); its database is flushed afterwards."""
    marker = item.get_closest_marker("django_db")
    return marker is not None and bool(marker.kwargs.get("transaction"))


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    # Transactional tests leave a flushed database behind; they go last so the session's reference data
    # serves every other test first.
    items.sort(key=_transactional)


@pytest.fixture(autouse=True)
def fast_passwords_and_english(settings):  # type: ignore[no-untyped-def]
    # Tests create many users: the real hasher's deliberate slowness would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A French request leaves French active in the thread, and reverse() would then prefix /fr/.
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):  # type: ignore[no-untyped-def]
    # The site queues long work for a worker process; tests run it inside the call that queues it, except
    # those that ask for the database backend to exercise the worker itself (workinggroup's test_tasks).
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["immediate"]}}


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple-42"


@pytest.fixture
def make_user(db, password):  # type: ignore[no-untyped-def]
    from socialclusters.accounts.models import User

    def make(role: str = Role.REPRESENTATIVE, username: str | None = None, **extra):  # type: ignore[no-untyped-def]
        name = username or f"{role}-{User.objects.count() + 1}"
        return User.objects.create_user(
            username=name, email=f"{name}@example.org", password=password, role=role, **extra
        )

    return make


@pytest.fixture
def secretariat(make_user):  # type: ignore[no-untyped-def]
    return make_user(Role.SECRETARIAT, "secretariat")


@pytest.fixture
def cluster_manager(make_user):  # type: ignore[no-untyped-def]
    return make_user(Role.CLUSTER_MANAGER, "manager")


@pytest.fixture
def browser_executable() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(path):
        if os.environ.get("SOCIALCLUSTERS_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {path}: install Debian's chromium (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {path}; set CHROMIUM or install Debian's chromium")
    return path


@pytest.fixture(autouse=True)
def reference_data_for_transactional_tests(request):  # type: ignore[no-untyped-def]
    """Transactional tests (browser tests among them) flush the database after each of them: the next one
    loads the reference data again (a few seconds; they run last)."""
    if not _transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from socialclusters.registry.models import Region
    from socialclusters.registry.refdata import load_reference_data

    if not Region.objects.exists():
        load_reference_data()


@pytest.fixture
def browser_problems() -> BrowserProblems:
    """What the ``page`` fixture's browser reports; a test that provokes a console error says so with
    ``browser_problems.tolerate(...)``."""
    return BrowserProblems()


@pytest.fixture
def page(browser_executable: str, browser_problems: BrowserProblems, monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    """A tab of headless Chromium driven by Playwright. At teardown everything is closed, and any console error
    or warning or uncaught script error in any tab of its context fails the test, unless the test tolerates it."""
    from playwright.sync_api import sync_playwright

    # Between two calls, Playwright's sync API leaves its event loop marked as running in the test's thread, and
    # Django then refuses the ORM there as if in async code. Nothing async touches the database in that thread,
    # and the live server's own thread has no loop: the check would only stop the test checking its data.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_executable, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.on("console", lambda message: browser_problems.console_message(message.type, message.text))
            context.on("weberror", lambda web_error: browser_problems.script_error(str(web_error.error)))
            yield context.new_page()
        finally:
            browser.close()
    unexpected = browser_problems.unexpected()
    if unexpected:
        pytest.fail("The browser reported problems:\n" + "\n".join(unexpected), pytrace=False)
