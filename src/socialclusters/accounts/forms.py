"""Django's account forms without the trailing colon after labels (the pages' own style)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import forms as auth_forms


class NoColonMixin:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]


class LoginForm(NoColonMixin, auth_forms.AuthenticationForm):
    pass


class PasswordResetForm(NoColonMixin, auth_forms.PasswordResetForm):
    pass


class SetPasswordForm(NoColonMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(NoColonMixin, auth_forms.PasswordChangeForm):
    pass
