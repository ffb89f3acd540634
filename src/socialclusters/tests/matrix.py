"""What the permission matrices of the apps share: asking a page as one role and checking the answer.

Each app keeps its own table (URL name, arguments, method, data, expected answer by role); this is only
the asking and the checking, so that every table means the same by a status and by ``LOGIN``.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

LOGIN = "login"  # expected: a redirect to the sign-in page


def assert_answer(user: Any, method: str, url: str, data: dict[str, Any], want: int | str, *, case: str) -> None:
    """Ask ``url`` with ``method`` (``"get"``, ``"post"``…) and ``data`` as ``user`` (``None``: anonymous), in a
    fresh client, and check the answer is ``want``: a status code, or ``LOGIN`` for a redirect to the sign-in page.
    ``case`` names the row and the role in the failure message."""
    client = Client()
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(url, data)
    if want == LOGIN:
        assert response.status_code == 302, f"{case}: expected the sign-in page, got {response.status_code}"
        assert response["Location"].startswith(reverse("accounts:login")), f"{case}: {response['Location']}"
    else:
        assert response.status_code == want, f"{case}: expected {want}, got {response.status_code}"
