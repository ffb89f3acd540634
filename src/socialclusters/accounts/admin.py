"""Users in the admin, with their platform role."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from socialclusters.accounts.models import User
from socialclusters.registry.admin import SecretariatAccess


@admin.register(User)
class UserAdmin(SecretariatAccess, DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    # Django's UserAdmin always declares its fieldsets; its stub only has the base class's optional ones.
    assert DjangoUserAdmin.fieldsets is not None
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Platform role"), {"fields": ("role",)}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "role", "password1", "password2")}),
    )
