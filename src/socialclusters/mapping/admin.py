"""The secretariat's back office for regional statistics and candidate concentrations."""

from __future__ import annotations

from django.contrib import admin

from socialclusters.mapping.models import CandidateConcentration, RegionalStatistic


@admin.register(RegionalStatistic)
class RegionalStatisticAdmin(admin.ModelAdmin):
    list_display = ["region", "sector_code", "year", "measure", "unit", "value", "flags", "source"]
    list_filter = ["measure", "year", "source", "region__level"]
    search_fields = ["region__code", "region__name_latn", "sector_code"]
    raw_id_fields = ["region", "sector", "source"]
    list_select_related = ["region", "source"]


@admin.register(CandidateConcentration)
class CandidateConcentrationAdmin(admin.ModelAdmin):
    list_display = ["label", "method", "region", "organisation_count", "score", "status", "reviewed_by"]
    list_filter = ["method", "status"]
    search_fields = ["label", "region__code"]
    raw_id_fields = ["region", "cluster", "reviewed_by"]
    filter_horizontal = []
    readonly_fields = ["detected_at", "reviewed_at", "reviewed_by"]
    exclude = ["organisations"]
