"""Sign-in, sign-out, password change and reset by email, and users with their role in the admin."""

from __future__ import annotations

import re

from django.contrib.auth import get_user
from django.core import mail
from django.urls import reverse

from socialclusters.accounts.models import Role, User


def test_sign_in_and_out(client, cluster_manager, password):  # type: ignore[no-untyped-def]
    page = client.get(reverse("accounts:login"))
    assert 'for="id_username">Username</label>' in page.content.decode()

    wrong = client.post(reverse("accounts:login"), {"username": "manager", "password": "nope"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    assert not get_user(client).is_authenticated

    response = client.post(reverse("accounts:login"), {"username": "manager", "password": password,
                                                       "next": reverse("my_profiles")})
    assert response["Location"] == reverse("my_profiles")
    assert get_user(client) == cluster_manager
    assert "Sign out manager" in client.get(reverse("home")).content.decode()

    assert client.get(reverse("accounts:logout")).status_code == 405  # a link cannot sign anyone out
    assert get_user(client).is_authenticated
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("home")
    assert not get_user(client).is_authenticated


def test_sign_in_refuses_an_outside_next(client, cluster_manager, password):  # type: ignore[no-untyped-def]
    response = client.post(reverse("accounts:login"), {"username": "manager", "password": password,
                                                       "next": "https://evil.example.org/"})
    assert response["Location"] == reverse("home")


def test_password_reset_by_email(client, cluster_manager):  # type: ignore[no-untyped-def]
    response = client.post(reverse("accounts:password_reset"), {"email": cluster_manager.email})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cluster_manager.email]
    assert "Reset your password" in message.subject
    link = re.search(r"https?://testserver(/accounts/password-reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": "a-brand-new-passphrase-9", "new_password2": "a-brand-new-passphrase-9"})
    assert done["Location"] == reverse("accounts:password_reset_complete")
    assert client.login(username="manager", password="a-brand-new-passphrase-9")
    # The link works once.
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_does_not_reveal_unknown_addresses(client, db):  # type: ignore[no-untyped-def]
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_change(client, cluster_manager, password):  # type: ignore[no-untyped-def]
    client.force_login(cluster_manager)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": password, "new_password1": "another-long-passphrase-7",
        "new_password2": "another-long-passphrase-7"})
    assert response["Location"] == reverse("accounts:password_change_done")
    cluster_manager.refresh_from_db()
    assert cluster_manager.check_password("another-long-passphrase-7")


def test_the_secretariat_manages_users_and_roles_in_the_admin(client, secretariat, make_user):  # type: ignore[no-untyped-def]
    make_user(Role.MEMBER, "expert")
    client.force_login(secretariat)
    listing = client.get(reverse("admin:accounts_user_changelist"), {"role__exact": Role.MEMBER})
    assert [u.username for u in listing.context["cl"].result_list] == ["expert"]
    assert "Working-group member" in listing.content.decode()
    response = client.post(reverse("admin:accounts_user_add"), {
        "username": "newmanager", "email": "new@example.org", "role": Role.CLUSTER_MANAGER,
        "password1": "a-good-long-passphrase-1", "password2": "a-good-long-passphrase-1",
        "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="newmanager").role == Role.CLUSTER_MANAGER
    assert client.get(reverse("admin:accounts_user_change", args=[secretariat.pk])).status_code == 200


def test_only_the_secretariat_enters_the_admin(client, cluster_manager):  # type: ignore[no-untyped-def]
    cluster_manager.is_staff = True  # even a staff flag set by mistake opens nothing
    cluster_manager.save()
    client.force_login(cluster_manager)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:registry_cluster_changelist")).status_code == 403
