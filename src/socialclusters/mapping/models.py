"""Regional statistics: one published figure per region, sector, year, measure and unit, with its source.

Regions carry their NUTS version (``registry.Region``), so figures are only combined within one version.
"""

from __future__ import annotations

from django.conf import settings
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


class CandidateMethod(models.TextChoices):
    DENSITY = "density", _("Density of organisations (DBSCAN on coordinates)")
    HOT_SPOT = "hot_spot", _("Regional hot spot (Getis–Ord Gi*)")


class CandidateStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted: a draft cluster was opened")
    DISMISSED = "dismissed", _("Dismissed")


class CandidateConcentration(models.Model):
    """A statistical concentration of social economy organisations: a candidate territorial cluster.

    Found by ``detect-concentrations``; never shown as a cluster. The secretariat reviews each one: accepting
    opens a draft cluster to complete and publish through the registry's usual workflow; dismissing keeps the
    reason. Reviewed candidates survive later detections, so a decision is never lost.
    """

    method = models.CharField(_("method"), max_length=10, choices=CandidateMethod.choices)
    label = models.CharField(_("label"), max_length=300)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    centroid_lon = models.FloatField(_("centre longitude"), null=True, blank=True)
    centroid_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    radius_km = models.FloatField(_("radius (km)"), null=True, blank=True)
    organisation_count = models.PositiveIntegerField(_("organisations"))
    score = models.FloatField(_("score"), help_text=_("Organisations found (density) or the Gi* z-score (hot spot)."))
    organisations = models.ManyToManyField("registry.Organisation", blank=True, related_name="+")
    parameters = models.JSONField(_("parameters"), default=dict)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=CandidateStatus.choices,
                              default=CandidateStatus.PROPOSED, db_index=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    cluster = models.ForeignKey("registry.Cluster", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("draft cluster opened"))

    class Meta:
        ordering = ["status", "-score", "pk"]
        verbose_name = _("candidate concentration")
        verbose_name_plural = _("candidate concentrations")

    def __str__(self) -> str:
        return self.label
