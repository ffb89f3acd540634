"""The JSON API, mounted at /api/v1/: one router module per app.

- OpenAPI schema: /api/v1/openapi.json; interactive docs: /api/v1/docs (django-ninja's Swagger UI,
  served from ninja's own static files because ``ninja`` is an installed app: no CDN).
- Lists answer ``{"count": N, "items": [...]}`` (paged lists add ``page``, ``page_size``, ``pages``).
- Errors answer ``{"detail": message, "field": name or null}`` (``errors.py``, the one place they are made).
- Authentication is Django's session with CSRF for unsafe methods (``auth.py``).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Router, Swagger
from ninja.operation import Operation

from socialclusters.api import errors
from socialclusters.api.registry import router as registry_router
from socialclusters.cooperation.api import router as cooperation_router
from socialclusters.errors import NotFound
from socialclusters.mapping.api import router as mapping_router
from socialclusters.surveys.api import router as surveys_router
from socialclusters.workinggroup.api import router as workinggroup_router

DESCRIPTION = """\
The JSON twin of every public page of socialclusters, with CSV and GeoJSON downloads of any filtered
list, and the profile-change workflow for signed-in users.

Lists answer `{"count": N, "items": [...]}`. Errors answer `{"detail": "...", "field": "name or null"}`
with 400 (bad value), 401 (sign in), 403 (not allowed), 404 (not found), 409 (conflict with the current
state) or 422 (the request does not match this schema; `errors` lists every problem).

Signed-in operations use the site's session cookie; unsafe methods need the CSRF token in the
`X-CSRFToken` header (this page adds it for you once you are signed in on the site).
"""


class BundledSwagger(Swagger):
    """Swagger UI from django-ninja's bundled static files, with the CSRF token for signed-in calls.

    Ninja's own ``render_page`` falls back to a CDN template when ``ninja`` is not an installed app and
    only adds the CSRF token when the whole API requires authentication; here neither applies.
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api, "add_csrf": True}
        return render(request, self.template, context)


class SocialClustersAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # The view function's name: stable, readable, and unique across routers by convention.
        return operation.view_func.__name__


api = SocialClustersAPI(
    title="socialclusters API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs=BundledSwagger(settings={"persistAuthorization": False}),
)
errors.register(api)
api.add_router("/", registry_router)
api.add_router("/", mapping_router)
api.add_router("/", workinggroup_router)
api.add_router("/", surveys_router)
api.add_router("/", cooperation_router)

# Last, so it only sees what no operation matched: unknown API paths answer JSON like the rest of the API.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def unknown_path(request: HttpRequest, rest: str) -> None:
    raise NotFound(f"no API operation at {request.path}")


api.add_router("/", fallback)
