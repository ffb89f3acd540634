"""The secretariat's admin for the working group: calls with their planned meetings, applications (link to
the registry's organisation, locks, outcomes), reviewer assignments, selection runs, decisions and emails."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from socialclusters.workinggroup import models


class SecretariatAccess:
    """The secretariat role opens the working group's admin (as in the registry's)."""

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


class PlannedMeetingInline(SecretariatAccess, admin.TabularInline):
    model = models.PlannedMeeting
    extra = 1


class DecisionTemplateInline(SecretariatAccess, admin.StackedInline):
    model = models.DecisionTemplate
    extra = 0


@admin.register(models.Call)
class CallAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "deadline", "time_zone", "seats_min", "seats_max", "published")
    list_filter = ("published",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [PlannedMeetingInline, DecisionTemplateInline]


class AssignmentInline(SecretariatAccess, admin.TabularInline):
    model = models.ReviewerAssignment
    fk_name = "application"
    extra = 0
    fields = ("reviewer", "conflict_of_interest", "conflict_note", "scores", "note", "reviewed_at")
    readonly_fields = ("conflict_of_interest", "conflict_note", "scores", "note", "reviewed_at")
    autocomplete_fields = ()


@admin.register(models.Application)
class ApplicationAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("name", "call", "country", "stakeholder_type", "lock", "outcome", "submitted_at", "anonymised_at")
    list_filter = ("call", "stakeholder_type", "outcome", "lock")
    search_fields = ("name", "email", "organisation_name")
    raw_id_fields = ("organisation", "member")
    readonly_fields = ("consented_at", "submitted_at", "updated_at", "notified_at", "anonymised_at",
                       "erasure_requested_at")
    inlines = [AssignmentInline]


@admin.register(models.SelectionRun)
class SelectionRunAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("call", "created_at", "state", "status", "created_by")
    list_filter = ("call", "state", "status")
    readonly_fields = ("call", "created_by", "created_at", "parameters", "result", "status", "state", "progress",
                       "error", "task_id", "started_at", "finished_at")


@admin.register(models.SelectionDecision)
class SelectionDecisionAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("call", "decided_at", "decided_by", "notified_at")
    readonly_fields = ("run", "decided_by", "decided_at", "notified_at")


class MeetingDocumentInline(SecretariatAccess, admin.TabularInline):
    model = models.MeetingDocument
    extra = 1


class RegistrationInline(SecretariatAccess, admin.TabularInline):
    model = models.Registration
    extra = 0
    fields = ("user", "attended", "registered_at", "reminded_at")
    readonly_fields = ("registered_at", "reminded_at")
    raw_id_fields = ("user",)


@admin.register(models.Meeting)
class MeetingAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "call", "starts_at", "format", "webinar", "place")
    list_filter = ("call", "format", "webinar")
    search_fields = ("title", "place")
    inlines = [MeetingDocumentInline, RegistrationInline]


class MinutesVersionInline(SecretariatAccess, admin.TabularInline):
    model = models.MinutesVersion
    extra = 0
    readonly_fields = ("number", "text", "note", "author", "created_at")


@admin.register(models.Minutes)
class MinutesAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("meeting", "status", "approved_at")
    list_filter = ("status",)
    readonly_fields = ("approved_by", "approved_at")
    inlines = [MinutesVersionInline]


@admin.register(models.ActionItem)
class ActionItemAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "call", "meeting", "owner", "due_date", "done_at")
    list_filter = ("call",)
    raw_id_fields = ("owner",)


@admin.register(models.Milestone)
class MilestoneAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "call", "kind", "due_date", "status")
    list_filter = ("call", "kind", "status")


@admin.register(models.Poll)
class PollAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("question", "meeting", "created_at", "closed_at")


@admin.register(models.Theme)
class ThemeAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "call")
    list_filter = ("call",)


class ContributionVersionInline(SecretariatAccess, admin.TabularInline):
    model = models.ContributionVersion
    extra = 0
    readonly_fields = ("number", "text", "note", "author", "created_at")


@admin.register(models.Contribution)
class ContributionAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("title", "call", "status", "validated_at")
    list_filter = ("call", "status")
    search_fields = ("title",)
    readonly_fields = ("submitted_at", "validated_at", "validated_by")
    inlines = [ContributionVersionInline]


@admin.register(models.ContinuationDecision)
class ContinuationDecisionAdmin(SecretariatAccess, admin.ModelAdmin):
    list_display = ("call", "decision", "decided_on", "decided_by")
