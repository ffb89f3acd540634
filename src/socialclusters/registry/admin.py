"""The secretariat's admin for every registry model: search, filters, history, and actions that
call the services (exemptions, publication) so the admin follows the same rules as the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models as db_models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from socialclusters import errors
from socialclusters.registry import models, services

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

# Region geometries run to megabytes: never render them as form fields.
GEOMETRY_FIELDS = ("geometry", "geometry_simplified")


class SecretariatAccess:
    """The secretariat role (not per-model permissions) opens the registry admin; superusers keep theirs."""

    # Django 6 assumes https for scheme-less addresses; say so now (and avoid the deprecation warning).
    formfield_overrides: ClassVar[Mapping[type[db_models.Field[Any, Any]], Mapping[str, Any]]] = {
        db_models.URLField: {"assume_scheme": "https"},
    }

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_secretariat", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self._allowed(request)


@admin.register(models.Country)
class CountryAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("code", "nuts_code", "alpha3", "name", "is_eu")
    list_filter = ("is_eu",)
    search_fields = ("code", "nuts_code", "alpha3", "name")


@admin.register(models.Region)
class RegionAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("code", "name_latn", "level", "version", "country", "urban_rural")
    list_filter = ("version", "level", "urban_rural", "country")
    search_fields = ("code", "name_latn", "name_native")
    exclude = GEOMETRY_FIELDS
    raw_id_fields = ("parent",)
    list_select_related = ("country",)


@admin.register(models.Sector)
class SectorAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("code", "label", "level", "section")
    list_filter = ("level", "section")
    search_fields = ("code", "label")
    raw_id_fields = ("parent",)


@admin.register(models.LegalForm)
class LegalFormAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("code", "label", "uri")
    search_fields = ("code", "label", "uri")


@admin.register(models.Source)
class SourceAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("name", "version", "kind", "publisher", "retrieved_at", "entered_by")
    list_filter = ("kind",)
    search_fields = ("name", "version", "publisher", "url")
    raw_id_fields = ("entered_by",)


class MembershipInline(SecretariatAccess, admin.TabularInline):
    model = models.Membership
    extra = 0
    raw_id_fields = ("organisation", "cluster", "source")


class SourceRecordInline(SecretariatAccess, admin.TabularInline):
    model = models.SourceRecord
    extra = 0
    fields = ("source", "external_id", "line", "url", "quote", "recorded_by")
    raw_id_fields = ("source", "recorded_by")


@admin.register(models.Organisation)
class OrganisationAdmin(SecretariatAccess, SimpleHistoryAdmin):
    list_display = ("name", "kind", "country", "city", "region", "status", "is_illustrative")
    list_filter = ("kind", "status", "is_illustrative", "nace_section", "country")
    search_fields = ("name", "search_text", "domain", "postcode", "region__code")
    list_select_related = ("country", "region")
    autocomplete_fields = ("country", "legal_form", "primary_nace", "secondary_nace", "region", "managers")
    inlines = (MembershipInline, SourceRecordInline)


class ClusterActionForm(helpers.ActionForm):
    reason = forms.CharField(label=_("Reason (for exemptions)"), required=False, max_length=300)


@admin.register(models.Cluster)
class ClusterAdmin(SecretariatAccess, SimpleHistoryAdmin):
    list_display = ("name", "kind", "country", "city", "publication_status", "admission_exempt", "is_illustrative")
    list_filter = ("publication_status", "kind", "admission_exempt", "label", "is_illustrative", "country")
    search_fields = ("name", "search_text", "city", "type_as_described")
    list_select_related = ("country",)
    autocomplete_fields = ("country", "managing_organisation", "sectors", "regions", "managers")
    readonly_fields = ("admission_exempt", "admission_exemption_reason", "admission_exempted_by",
                       "admission_exempted_at")
    inlines = (MembershipInline, SourceRecordInline)
    action_form = ClusterActionForm
    actions = ("grant_exemption", "revoke_exemption", "publish", "withdraw")

    def _each(self, request: HttpRequest, queryset: QuerySet[models.Cluster], call, done) -> None:  # type: ignore[no-untyped-def]
        count = 0
        for cluster in queryset:
            try:
                call(cluster)
            except errors.SocialClustersError as exc:
                self.message_user(request, f"{cluster}: {exc}", messages.ERROR)
                return
            count += 1
        self.message_user(request, done(count), messages.SUCCESS)

    # The actions below run for a signed-in secretariat user only (the admin site and SecretariatAccess),
    # so request.user is a User, never an AnonymousUser.
    @admin.action(description=_("Grant an exemption from the admission checks (give the reason)"))
    def grant_exemption(self, request: HttpRequest, queryset: QuerySet[models.Cluster]) -> None:
        reason = request.POST.get("reason", "")
        self._each(
            request, queryset,
            lambda c: services.grant_admission_exemption(user=cast("User", request.user), cluster=c, reason=reason),
            lambda n: ngettext("%(n)d cluster exempted.", "%(n)d clusters exempted.", n) % {"n": n},
        )

    @admin.action(description=_("Revoke the exemption from the admission checks"))
    def revoke_exemption(self, request: HttpRequest, queryset: QuerySet[models.Cluster]) -> None:
        self._each(
            request, queryset,
            lambda c: services.revoke_admission_exemption(user=cast("User", request.user), cluster=c),
            lambda n: ngettext("%(n)d exemption revoked.", "%(n)d exemptions revoked.", n) % {"n": n},
        )

    @admin.action(description=_("Publish the selected clusters"))
    def publish(self, request: HttpRequest, queryset: QuerySet[models.Cluster]) -> None:
        self._each(
            request, queryset,
            lambda c: services.set_publication_status(user=cast("User", request.user), cluster=c,
                                                      status=models.PublicationStatus.PUBLISHED),
            lambda n: ngettext("%(n)d cluster published.", "%(n)d clusters published.", n) % {"n": n},
        )

    @admin.action(description=_("Withdraw the selected clusters from publication"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[models.Cluster]) -> None:
        self._each(
            request, queryset,
            lambda c: services.set_publication_status(user=cast("User", request.user), cluster=c,
                                                      status=models.PublicationStatus.WITHDRAWN),
            lambda n: ngettext("%(n)d cluster withdrawn.", "%(n)d clusters withdrawn.", n) % {"n": n},
        )


@admin.register(models.Membership)
class MembershipAdmin(SecretariatAccess, SimpleHistoryAdmin):
    list_display = ("organisation", "cluster", "role", "committed", "since", "until", "is_illustrative")
    list_filter = ("role", "committed", "is_illustrative", "cluster__country")
    search_fields = ("organisation__name", "cluster__name")
    raw_id_fields = ("organisation", "cluster", "source")
    list_select_related = ("organisation", "cluster")


@admin.register(models.SourceRecord)
class SourceRecordAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("source", "organisation", "cluster", "external_id", "line", "recorded_at")
    list_filter = ("source__kind", "source")
    search_fields = ("external_id", "quote", "url", "organisation__name", "cluster__name", "source__name")
    raw_id_fields = ("source", "organisation", "cluster", "recorded_by")
    list_select_related = ("source", "organisation", "cluster")


@admin.register(models.ImportRun)
class ImportRunAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("mapping", "path", "source", "dry_run", "committed", "started_at", "finished_at", "started_by")
    list_filter = ("dry_run", "committed", "mapping")
    search_fields = ("mapping", "path", "source__name")
    raw_id_fields = ("source", "started_by")


@admin.register(models.DuplicateCandidate)
class DuplicateCandidateAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("first", "second", "second_name", "reason", "score", "status", "decided_by", "decided_at")
    list_filter = ("status", "first__country")
    search_fields = ("first__name", "second__name", "second_name", "reason")
    raw_id_fields = ("first", "second", "decided_by")
    list_select_related = ("first", "second", "decided_by")


@admin.register(models.ProfileChange)
class ProfileChangeAdmin(SecretariatAccess, SimpleHistoryAdmin):
    list_display = ("pk", "target_name", "author", "status", "submitted_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("organisation__name", "cluster__name", "author__username", "return_reason")
    raw_id_fields = ("organisation", "cluster", "author", "decided_by")
    list_select_related = ("organisation", "cluster", "author", "decided_by")

    @admin.display(description=_("profile"))
    def target_name(self, obj: models.ProfileChange) -> str:
        return str(obj.target)
