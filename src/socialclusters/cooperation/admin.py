"""The secretariat's back office for cooperation: every model, searchable and filterable."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from socialclusters.cooperation import models
from socialclusters.registry.admin import SecretariatAccess


@admin.register(models.CooperationProfile)
class CooperationProfileAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "organisation", "kind", "status", "expires_on")
    list_filter = ("kind", "status", "cross_border")
    search_fields = ("title", "description", "organisation__name")
    raw_id_fields = ("organisation", "cluster", "created_by")
    filter_horizontal = ("sectors",)


@admin.register(models.ProcurementOpportunity)
class ProcurementOpportunityAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "buyer", "value_band", "deadline", "status")
    list_filter = ("status", "value_band")
    search_fields = ("title", "description", "buyer__name")
    raw_id_fields = ("buyer", "sector", "region", "created_by")


@admin.register(models.Interest)
class InterestAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("organisation", "profile", "opportunity", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("organisation", "profile", "opportunity", "created_by", "answered_by")


@admin.register(models.Contract)
class ContractAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("buyer", "supplier", "value_band", "signed_on", "cluster")
    list_filter = ("value_band",)
    search_fields = ("buyer__name", "supplier__name")
    raw_id_fields = ("buyer", "supplier", "sector", "cluster", "interest", "recorded_by")


@admin.register(models.MatchingSettings)
class MatchingSettingsAdmin(SecretariatAccess, SimpleHistoryAdmin):
    """Each change of the weights, whether made on the page or through the API, with who made it."""

    list_display = ("__str__", "review_before_publication", "profile_lifetime_days", "updated_at")


@admin.register(models.SuggestionOptOut)
class SuggestionOptOutAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("organisation", "created_by", "created_at")
    raw_id_fields = ("organisation", "created_by")


@admin.register(models.Event)
class EventAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "venue", "first_slot_at", "slots", "tables", "schedule_status")
    raw_id_fields = ("organiser", "cluster")


@admin.register(models.Participant)
class ParticipantAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("user", "event", "organisation")
    raw_id_fields = ("user", "event", "organisation")


@admin.register(models.ScheduleBuild)
class ScheduleBuildAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("event", "state", "created_at", "started_at", "finished_at", "created_by")
    list_filter = ("state",)
    raw_id_fields = ("event", "created_by")
