"""Small template helpers of the registry pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def api_url(*parts: Any, query: str = "") -> str:
    """An address under the JSON API (mounted outside the language prefix), with an optional query.

    ``{% api_url 'organisations' 42 %}`` → ``/api/v1/organisations/42``.
    """
    url = reverse("api:api-root") + "/".join(str(part).strip("/") for part in parts)
    return f"{url}?{query}" if query else url


@register.filter
def percent(part: int, whole: int) -> str:
    """``part`` as a whole-number percentage of ``whole`` (0 when ``whole`` is 0)."""
    return f"{round(100 * part / whole) if whole else 0}"
