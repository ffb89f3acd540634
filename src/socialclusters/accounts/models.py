"""Users and their role on the platform."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REPRESENTATIVE = "representative", _("Organisation representative")
    CLUSTER_MANAGER = "cluster_manager", _("Cluster manager")
    MEMBER = "member", _("Working-group member")
    SECRETARIAT = "secretariat", _("Secretariat")


class User(AbstractUser):
    """A person who signs in. Anonymous visitors have no row here."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REPRESENTATIVE)

    @property
    def is_secretariat(self) -> bool:
        return self.is_active and (self.role == Role.SECRETARIAT or self.is_superuser)

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The secretariat works in the Django admin; nobody else does.
        if self.role == Role.SECRETARIAT:
            self.is_staff = True
        super().save(*args, **kwargs)
