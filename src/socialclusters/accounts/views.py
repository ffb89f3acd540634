"""Sign-in, sign-out and password reset: Django's own views, with their audience declared."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from socialclusters.accounts import forms
from socialclusters.web import Audience, access

login = access(Audience.PUBLIC)(
    auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=forms.LoginForm,
                                 redirect_authenticated_user=True)
)
# Django 5 signs out on POST only; a GET answers 405 so a link or a crawler cannot sign anyone out.
logout = access(Audience.PUBLIC)(auth_views.LogoutView.as_view())
password_change = access(Audience.SIGNED_IN)(
    auth_views.PasswordChangeView.as_view(form_class=forms.PasswordChangeForm,
                                          success_url=reverse_lazy("accounts:password_change_done"))
)
password_change_done = access(Audience.SIGNED_IN)(auth_views.PasswordChangeDoneView.as_view())
password_reset = access(Audience.PUBLIC)(
    auth_views.PasswordResetView.as_view(
        form_class=forms.PasswordResetForm,
        success_url=reverse_lazy("accounts:password_reset_done"),
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
    )
)
password_reset_done = access(Audience.PUBLIC)(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = access(Audience.PUBLIC)(
    auth_views.PasswordResetConfirmView.as_view(form_class=forms.SetPasswordForm,
                                                success_url=reverse_lazy("accounts:password_reset_complete"))
)
password_reset_complete = access(Audience.PUBLIC)(auth_views.PasswordResetCompleteView.as_view())
