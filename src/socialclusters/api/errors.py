"""The one place where errors become JSON responses: ``{"detail": message, "field": name or null}``.

Domain errors (``socialclusters.errors``) raised by services and selectors map to 400, 403, 404 and
409; requests that do not match the OpenAPI schema get 422 with every problem listed; 401 means
"sign in". Each status is documented on every operation that can return it (``ERROR_RESPONSES``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from socialclusters import errors
from socialclusters.api.schemas import ErrorOut, InvalidInputOut

if TYPE_CHECKING:
    from ninja import NinjaAPI

STATUS_OF_ERROR: dict[type[errors.SocialClustersError], int] = {
    errors.ValidationError: 400,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.SourceUnavailable: 503,
}

# Responses every operation may give, for the OpenAPI schema.
PUBLIC_ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut, 422: InvalidInputOut}
AUTH_ERRORS: dict[int, Any] = {**PUBLIC_ERRORS, 401: ErrorOut, 403: ErrorOut}
WORKFLOW_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 409: ErrorOut}

# Where ninja says a parameter came from, and the prefix it puts before the parameter's name.
_LOCATIONS = {"query", "path", "body", "cookie", "header", "form", "file"}


def _field_of(loc: tuple[Any, ...] | list[Any]) -> tuple[str, str | None]:
    parts = [str(part) for part in loc]
    location = parts[0] if parts and parts[0] in _LOCATIONS else "body"
    names = [p for p in parts if p not in _LOCATIONS and not p.isdigit()]
    # The body schema's own parameter name ("payload") is not something a caller sent.
    if location == "body" and names and names[0] == "payload":
        names = names[1:]
    return location, ".".join(names) or None


def register(api: NinjaAPI) -> None:
    # Ninja passes the raised exception; each handler is registered for one class (and its subclasses).
    def domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        status = next((STATUS_OF_ERROR[cls] for cls in type(exc).__mro__ if cls in STATUS_OF_ERROR), 400)
        return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=status)

    def invalid_input(request: HttpRequest, exc: Any) -> HttpResponse:
        problems = []
        for error in exc.errors:
            location, field = _field_of(error.get("loc", ()))
            problems.append({"field": field, "location": location, "message": str(error.get("msg", "invalid"))})
        first = problems[0] if problems else {"field": None, "message": "invalid input"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return api.create_response(
            request, {"detail": detail, "field": first["field"], "errors": problems}, status=422
        )

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        detail = "sign in to use this operation" if isinstance(exc, AuthenticationError) else str(exc)
        return api.create_response(request, {"detail": detail, "field": None}, status=exc.status_code)

    def not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return api.create_response(request, {"detail": "not found", "field": None}, status=404)

    api.add_exception_handler(errors.SocialClustersError, domain_error)
    api.add_exception_handler(NinjaValidationError, invalid_input)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
