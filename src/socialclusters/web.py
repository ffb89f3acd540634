"""The web layer's one place for two rules: who may use a view, and how domain errors become responses.

Every HTML view is wrapped in :func:`access`, which records its audience on the view (a test walks
the URL map and fails on a view without one), enforces it, and turns the project's errors
(``socialclusters.errors``) into HTTP responses:

- ``NotFound`` → 404, ``PermissionDenied`` → 403;
- ``Conflict`` → a message on the page the request came from (a redirect back);
- ``ValidationError`` that escaped a form → 400 with the message.

Inside a view, :func:`form_errors` turns a ``ValidationError`` into an error on the named form field.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from socialclusters import errors


class Audience(enum.Enum):
    """Who may use a view. Object-level rights (managing a cluster) are checked by the services."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed_in"  # any signed-in user (managers find their own profiles there)
    SECRETARIAT = "secretariat"  # the secretariat only


def _back(request: HttpRequest, back: str | None, kwargs: dict[str, Any]) -> str:
    """Where to show a conflict: the page the request came from, else ``back``, else this page.

    ``back`` is reversed with the view's own arguments when it takes them (an event's action leads back to
    that event's page), else without.
    """
    referrer = request.headers.get("referer", "")
    if referrer and url_has_allowed_host_and_scheme(referrer, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return referrer
    if back:
        try:
            return reverse(back, kwargs=kwargs)
        except NoReverseMatch:
            return reverse(back)
    return request.get_full_path()


def access(
    audience: Audience, *, back: str | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Declare and enforce the audience of a view; turn domain errors into responses.

    ``back`` names the page (URL name) that shows a ``Conflict`` when the request has no referrer.
    """

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if audience is not Audience.PUBLIC and not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if audience is Audience.SECRETARIAT and not user.is_secretariat:  # type: ignore[union-attr]
                raise HttpForbidden
            try:
                return view(request, *args, **kwargs)
            except errors.NotFound as exc:
                raise Http404(exc.message) from exc
            except errors.PermissionDenied as exc:
                raise HttpForbidden(exc.message) from exc
            except errors.Conflict as exc:
                messages.warning(request, exc.message)
                return HttpResponseRedirect(_back(request, back, kwargs))
            except errors.ValidationError as exc:
                return render(request, "400.html", {"message": str(exc)}, status=400)

        wrapped.access = audience  # type: ignore[attr-defined]
        return wrapped

    return decorate


@contextmanager
def form_errors(form: forms.BaseForm) -> Iterator[None]:
    """Attach a ``ValidationError`` raised inside the block to the form field it names.

    The block's remaining statements are skipped; the caller sees ``form.errors`` and re-renders.
    """
    try:
        yield
    except errors.ValidationError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, exc.message)
