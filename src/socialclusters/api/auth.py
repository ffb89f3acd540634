"""Who may call what: Django session authentication with CSRF protection, and role checks.

Operations that change state or show personal work use ``session_auth``: the caller must be signed
in (the browser's session cookie), and unsafe methods must carry the CSRF token (the ``X-CSRFToken``
header, as Django's forms do). Anonymous callers get 401 before any CSRF check, so the answer says
"sign in" rather than "bad token". Finer rules (who manages what) belong to the services, which raise
``PermissionDenied`` (403).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie

from socialclusters.errors import PermissionDenied

PUBLIC = "Anyone, signed in or not."
SIGNED_IN = "Signed-in users (session cookie; unsafe methods need the CSRF token in `X-CSRFToken`)."
SECRETARIAT = "The secretariat only (session cookie)."


class SessionAuth(APIKeyCookie):
    """Django's session, with Django's CSRF check for signed-in callers."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


session_auth = SessionAuth(csrf=True)


def require_secretariat(request: HttpRequest) -> None:
    if not getattr(request.user, "is_secretariat", False):
        raise PermissionDenied("only the secretariat may do this")
