"""Regional statistics: one published figure per region, sector, year, measure and unit, with its source.

Regions carry their NUTS version (``registry.Region``), so figures are only combined within one version.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from socialclusters.registry.models import Region, Sector, Source


class Measure(models.TextChoices):
    EMPLOYMENT = "employment", _("Employment (persons)")
    EMPLOYEES = "employees", _("Employees")
    ENTERPRISES = "enterprises", _("Enterprises or local units")
    TURNOVER = "turnover", _("Turnover")
    SE_EMPLOYMENT = "se_employment", _("Social economy employment")
    SE_ENTITIES = "se_entities", _("Social economy entities")
    # Counts from the registry itself (registry-statistics); social economy entities use SE_ENTITIES.
    ORGANISATIONS = "organisations", _("Organisations in the registry")
    CLUSTERS = "clusters", _("Clusters")
    CLUSTER_MEMBERS = "cluster_members", _("Cluster members")


class RegionalStatistic(models.Model):
    """One observation of a statistics dataset for one NUTS region."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="statistics")
    # The registry's NACE sector when the code is one; aggregates ("B-E", "TOTAL") have none.
    sector = models.ForeignKey(Sector, null=True, blank=True, on_delete=models.PROTECT, related_name="statistics")
    # The activity code as the dataset gives it: "C10", "B-E", "G-I", "TOTAL"…
    sector_code = models.CharField(_("activity code (as given)"), max_length=40)
    year = models.PositiveSmallIntegerField(_("year"))
    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    # The dataset's unit code, followed by any other dimension that tells series apart ("THS_PER;sex=T").
    unit = models.CharField(_("unit"), max_length=100)
    value = models.FloatField(_("value"), null=True, blank=True)  # NULL where Eurostat publishes ':'
    flags = models.CharField(_("observation flags"), max_length=10, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="statistics")

    class Meta:
        ordering = ["region", "sector_code", "year", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "sector_code", "year", "measure", "unit", "source"],
                name="regional_statistic_unique",
            )
        ]
        indexes = [models.Index(fields=["measure", "year"])]
        verbose_name = _("regional statistic")
        verbose_name_plural = _("regional statistics")

    def __str__(self) -> str:
        return f"{self.region.code} {self.sector_code} {self.year} {self.measure}: {self.value} {self.unit}"
