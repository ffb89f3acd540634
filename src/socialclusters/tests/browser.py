"""What the browser tests share: how Chromium is started, what counts as a problem in a page, signing in and out.

The ``page`` fixture of the root conftest uses the first two; the journeys call the last two.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Debian's Chromium runs as root in containers and CI, where its sandbox cannot start; the rest keeps it from
# reaching the network on its own (updates, sync) while a test measures what the page itself does.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class BrowserProblems:
    """The console errors and warnings and the uncaught script errors of a test's pages.

    A Content Security Policy violation or a broken script shows only here, so every one fails the test,
    except console messages the test says it provokes on purpose: Chromium logs a console error for every
    4xx answer, and a refused form answers 400.

    >>> problems = BrowserProblems()
    >>> problems.console_message("error", "Failed to load resource: the server responded with a status of 400 ()")
    >>> problems.console_message("log", "ready")
    >>> problems.unexpected()
    ['console error: Failed to load resource: the server responded with a status of 400 ()']
    >>> problems.tolerate("status of 400", at_most=1)
    >>> problems.unexpected()
    []
    >>> problems.console_message("warning", "the server responded with a status of 400 ()")
    >>> problems.script_error("ReferenceError: htmx is not defined")
    >>> problems.unexpected()  # doctest: +NORMALIZE_WHITESPACE
    ['console warning: the server responded with a status of 400 () (more than the 1 expected)',
     'page error: ReferenceError: htmx is not defined']
    """

    def __init__(self) -> None:
        self.console: list[str] = []
        self.script_errors: list[str] = []
        self._tolerated: list[tuple[str, int | None]] = []

    def console_message(self, kind: str, text: str) -> None:
        """Note a console message of ``kind`` (Playwright's ``ConsoleMessage.type``); logs and infos are fine."""
        if kind in {"error", "warning"}:
            self.console.append(f"console {kind}: {text}")

    def script_error(self, error: str) -> None:
        """Note an uncaught script error: never expected."""
        self.script_errors.append(f"page error: {error}")

    def tolerate(self, text: str, *, at_most: int | None = None) -> None:
        """Expect console messages containing ``text``: any number of them, or ``at_most`` that many."""
        self._tolerated.append((text, at_most))

    def unexpected(self) -> list[str]:
        """Every problem the test did not say it expects, in the order seen (script errors last)."""
        counts = [0] * len(self._tolerated)
        found = []
        for line in self.console:
            for index, (text, at_most) in enumerate(self._tolerated):
                if text in line:
                    counts[index] += 1
                    if at_most is not None and counts[index] > at_most:
                        found.append(f"{line} (more than the {at_most} expected)")
                    break
            else:
                found.append(line)
        return found + self.script_errors


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    """Sign in through the login form, as a person would, and wait for the page it leads to."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    """Sign out with the header's button (its name ends with the user's name) and wait for the next page."""
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    page.wait_for_load_state()
