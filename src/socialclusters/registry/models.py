"""The registry: reference data (countries, NUTS regions, NACE sectors, legal forms), organisations,
clusters, memberships, and the sources that vouch for each record.

Models hold only the invariants of one row; every write goes through ``services.py`` and every
non-trivial read through ``selectors.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

NUTS_VERSION = "2021"


# --- reference data -------------------------------------------------------------------------


class Country(models.Model):
    """An ISO 3166-1 country. ``code`` is ISO alpha-2 (GR, GB); ``nuts_code`` is the NUTS form (EL, UK)."""

    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    nuts_code = models.CharField(_("NUTS code"), max_length=2, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    alpha3 = models.CharField(_("ISO alpha-3 code"), max_length=3, unique=True)
    is_eu = models.BooleanField(_("EU member state"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.name


class UrbanRuralType(models.IntegerChoices):
    URBAN = 1, _("Predominantly urban")
    INTERMEDIATE = 2, _("Intermediate")
    RURAL = 3, _("Predominantly rural")


class Region(models.Model):
    """A NUTS region of one NUTS version; codes are only comparable within a version."""

    code = models.CharField(_("NUTS code"), max_length=5)
    version = models.CharField(_("NUTS version"), max_length=4, default=NUTS_VERSION)
    level = models.PositiveSmallIntegerField(_("level"))
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="regions")
    name_latn = models.CharField(_("name (Latin script)"), max_length=200)
    name_native = models.CharField(_("name (national)"), max_length=200)
    urban_rural = models.PositiveSmallIntegerField(
        _("urban-rural type"), choices=UrbanRuralType.choices, null=True, blank=True
    )
    coastal_type = models.PositiveSmallIntegerField(_("coastal type"), null=True, blank=True)
    mountain_type = models.PositiveSmallIntegerField(_("mountain type"), null=True, blank=True)
    # GeoJSON geometry (WGS 84) as published at 1:60 million, used for point assignment.
    geometry = models.JSONField(_("geometry"), null=True, blank=True)
    # The same geometry simplified for the map at this level's zoom.
    geometry_simplified = models.JSONField(_("simplified geometry"), null=True, blank=True)
    label_lon = models.FloatField(_("label longitude"), null=True, blank=True)
    label_lat = models.FloatField(_("label latitude"), null=True, blank=True)
    source = models.ForeignKey("Source", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="region_code_version_unique")]
        indexes = [models.Index(fields=["version", "level"])]
        verbose_name = _("NUTS region")
        verbose_name_plural = _("NUTS regions")

    def __str__(self) -> str:
        return f"{self.code} {self.name_latn}"


class SectorLevel(models.TextChoices):
    SECTION = "section", _("Section")
    DIVISION = "division", _("Division")
    GROUP = "group", _("Group")
    CLASS = "class", _("Class")


class Sector(models.Model):
    """A NACE Rev. 2 code: section (A), division (01), group (01.1) or class (01.11)."""

    code = models.CharField(_("NACE code"), max_length=5, primary_key=True)
    level = models.CharField(_("level"), max_length=8, choices=SectorLevel.choices)
    label = models.CharField(_("label"), max_length=300)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    section = models.CharField(_("section"), max_length=1, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("NACE sector")
        verbose_name_plural = _("NACE sectors")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class LegalForm(models.Model):
    """A legal form concept of the ESSGlobal vocabulary (legal-form SKOS scheme)."""

    uri = models.URLField(_("concept URI"), unique=True)
    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label (English)"), max_length=200)
    labels = models.JSONField(_("labels by language"), default=dict, blank=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("legal form")
        verbose_name_plural = _("legal forms")

    def __str__(self) -> str:
        return self.label


# --- provenance -----------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    DATASET = "dataset", _("Dataset")
    MANUAL = "manual", _("Manual entry")
    SURVEY = "survey", _("Survey")
    CONTRIBUTION = "contribution", _("Written contribution")


class Source(models.Model):
    """Where records come from: a dataset and version, or a manual entry by a person."""

    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    retrieved_at = models.DateTimeField(_("retrieved at"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "name", "version"],
                condition=~models.Q(kind="manual"),
                name="source_dataset_unique",
            )
        ]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


# --- organisations --------------------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    # Social economy families.
    COOPERATIVE = "cooperative", _("Cooperative")
    MUTUAL = "mutual", _("Mutual")
    ASSOCIATION = "association", _("Association")
    FOUNDATION = "foundation", _("Foundation")
    SOCIAL_ENTERPRISE = "social_enterprise", _("Social enterprise")
    OTHER_SOCIAL_ECONOMY = "other_se", _("Other social economy entity")
    # Other kinds.
    TRADITIONAL_ENTERPRISE = "enterprise", _("Traditional enterprise")
    RESEARCH = "research", _("Research or education body")
    PUBLIC_AUTHORITY = "public", _("Public authority")
    CLUSTER_ORGANISATION = "cluster_org", _("Cluster organisation")
    SUPPORT_NETWORK = "support", _("Support or network organisation")
    UNKNOWN = "unknown", _("Not yet known")


SOCIAL_ECONOMY_KINDS = frozenset(
    {
        OrganisationKind.COOPERATIVE,
        OrganisationKind.MUTUAL,
        OrganisationKind.ASSOCIATION,
        OrganisationKind.FOUNDATION,
        OrganisationKind.SOCIAL_ENTERPRISE,
        OrganisationKind.OTHER_SOCIAL_ECONOMY,
    }
)


class MemberType(models.TextChoices):
    """The four member types the cluster admission checks count."""

    BUSINESS = "business", _("Business")
    RESEARCH = "research", _("Research and education")
    PUBLIC = "public", _("Public body")
    CIVIL_SOCIETY = "civil_society", _("Civil society")


MEMBER_TYPE_OF_KIND = {
    OrganisationKind.COOPERATIVE: MemberType.BUSINESS,
    OrganisationKind.MUTUAL: MemberType.BUSINESS,
    OrganisationKind.SOCIAL_ENTERPRISE: MemberType.BUSINESS,
    OrganisationKind.TRADITIONAL_ENTERPRISE: MemberType.BUSINESS,
    OrganisationKind.ASSOCIATION: MemberType.CIVIL_SOCIETY,
    OrganisationKind.FOUNDATION: MemberType.CIVIL_SOCIETY,
    OrganisationKind.OTHER_SOCIAL_ECONOMY: MemberType.CIVIL_SOCIETY,
    OrganisationKind.SUPPORT_NETWORK: MemberType.CIVIL_SOCIETY,
    OrganisationKind.CLUSTER_ORGANISATION: MemberType.CIVIL_SOCIETY,
    OrganisationKind.RESEARCH: MemberType.RESEARCH,
    OrganisationKind.PUBLIC_AUTHORITY: MemberType.PUBLIC,
}


class SizeBand(models.TextChoices):
    MICRO = "micro", _("Micro (fewer than 10 staff)")
    SMALL = "small", _("Small (10–49)")
    MEDIUM = "medium", _("Medium (50–249)")
    LARGE = "large", _("Large (250 or more)")
    UNKNOWN = "", _("Unknown")


class OrganisationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISSOLVED = "dissolved", _("Dissolved")
    UNKNOWN = "unknown", _("Unknown")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=300)
    alt_names = models.JSONField(_("alternative names"), default=list, blank=True)
    # Foreign keys that most rows leave empty are indexed only where set (see Meta.indexes).
    legal_form = models.ForeignKey(
        LegalForm, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations", db_index=False
    )
    legal_form_raw = models.CharField(_("legal form as stated"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=OrganisationKind.choices, default=OrganisationKind.UNKNOWN, db_index=True
    )
    primary_nace = models.ForeignKey(
        Sector, null=True, blank=True, on_delete=models.PROTECT, related_name="primary_organisations", db_index=False
    )
    # Denormalised from primary_nace for fast filtering by NACE section.
    nace_section = models.CharField(_("NACE section"), max_length=1, blank=True, db_index=True)
    secondary_nace = models.ManyToManyField(Sector, blank=True, related_name="secondary_organisations")
    address = models.CharField(_("address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("town or city"), max_length=200, blank=True)
    # No index of its own: the (country, kind) index below serves every lookup by country.
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations", db_index=False
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    geocode_confidence = models.FloatField(_("geocoding confidence"), null=True, blank=True)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations",
        help_text=_("NUTS 3 region, derived from coordinates or postcode."),
    )
    # Denormalised NUTS 2 code of ``region`` for filtering (NUTS version is the region's).
    nuts2 = models.CharField(_("NUTS 2 code"), max_length=4, blank=True, db_index=True)
    region_method = models.CharField(_("how the region was found"), max_length=20, blank=True)
    region_reason = models.CharField(_("why no region"), max_length=300, blank=True)
    size_band = models.CharField(_("size band"), max_length=10, choices=SizeBand.choices, blank=True, default="")
    founded = models.DateField(_("founded"), null=True, blank=True)
    dissolved = models.DateField(_("dissolved"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.UNKNOWN
    )
    website = models.URLField(_("website"), max_length=500, blank=True)
    domain = models.CharField(_("web domain"), max_length=253, blank=True, db_index=True)
    flags = models.JSONField(_("data quality flags"), default=list, blank=True)
    is_illustrative = models.BooleanField(_("illustrative (not real data)"), default=False)
    # Lower-cased name, alternative names, town and domain: the directory's search column.
    search_text = models.TextField(editable=False, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_organisations"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["country", "kind"]),
            # Partial: a lookup of one value (``legal_form_id = 3``) implies IS NOT NULL, so both SQLite and
            # PostgreSQL use them, and a bulk import of rows without the value has no index entry to write.
            models.Index(fields=["legal_form"], condition=models.Q(legal_form__isnull=False),
                         name="organisation_legal_form_set"),
            models.Index(fields=["primary_nace"], condition=models.Q(primary_nace__isnull=False),
                         name="organisation_nace_set"),
        ]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_social_economy(self) -> bool:
        return self.kind in SOCIAL_ECONOMY_KINDS

    @property
    def quality_notes(self) -> list[str]:
        """What each data-quality flag means, in the active language (an unknown code as it is)."""
        from socialclusters.registry.normalise import FLAG_DESCRIPTIONS

        return [str(FLAG_DESCRIPTIONS.get(code, code)) for code in self.flags or []]


# --- clusters -------------------------------------------------------------------------------


class ClusterKind(models.TextChoices):
    TRADITIONAL = "traditional", _("Traditional or competitive cluster")
    SOCIAL_ECONOMY = "social_economy", _("Social economy cluster")
    OTHER_VEHICLE = "other_vehicle", _("Other business-cooperation vehicle")


class ClusterLabel(models.TextChoices):
    NONE = "", _("No label")
    BRONZE = "bronze", _("Bronze label (cluster management excellence)")
    SILVER = "silver", _("Silver label (cluster management excellence)")
    GOLD = "gold", _("Gold label (cluster management excellence)")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Cluster(models.Model):
    """A group of cooperating organisations; ``managing_organisation`` is the body that runs it."""

    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=ClusterKind.choices, db_index=True)
    type_as_described = models.CharField(_("type in the source's words"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    managing_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_clusters",
        verbose_name=_("cluster organisation"),
    )
    sectors = models.ManyToManyField(Sector, blank=True, related_name="clusters", verbose_name=_("sectors"))
    themes = models.JSONField(_("themes"), default=list, blank=True)
    country = models.ForeignKey(Country, null=True, blank=True, on_delete=models.PROTECT, related_name="clusters")
    city = models.CharField(_("town or city"), max_length=200, blank=True)
    regions = models.ManyToManyField(Region, blank=True, related_name="clusters", verbose_name=_("regions covered"))
    declared_member_types = models.JSONField(_("member types declared"), default=list, blank=True)
    members_count_stated = models.PositiveIntegerField(_("members (as stated by the source)"), null=True, blank=True)
    management_fte = models.DecimalField(
        _("management staff (FTE)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    founded_year = models.PositiveSmallIntegerField(_("founding year"), null=True, blank=True)
    website = models.URLField(_("website"), max_length=500, blank=True)
    website_in_english = models.BooleanField(_("website available in English"), null=True, blank=True)
    public_support = models.TextField(_("public support received"), blank=True)
    receives_public_support = models.BooleanField(_("receives public support"), null=True, blank=True)
    tracks_impact = models.BooleanField(_("tracks its impact"), null=True, blank=True)
    label = models.CharField(_("label"), max_length=10, choices=ClusterLabel.choices, blank=True, default="")
    publication_status = models.CharField(
        _("publication status"), max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT,
        db_index=True,
    )
    admission_exempt = models.BooleanField(_("exempt from admission checks"), default=False)
    admission_exemption_reason = models.CharField(_("reason for the exemption"), max_length=300, blank=True)
    admission_exempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    admission_exempted_at = models.DateTimeField(null=True, blank=True)
    is_illustrative = models.BooleanField(_("illustrative (not real data)"), default=False)
    search_text = models.TextField(editable=False, blank=True)
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_clusters")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    FOUNDER = "founder", _("Founding member")
    MANAGER = "manager", _("Cluster organisation")
    PARTNER = "partner", _("Associated partner")


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    committed = models.BooleanField(_("committed member"), default=True)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    is_illustrative = models.BooleanField(_("illustrative (not real data)"), default=False)
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships")
    history = HistoricalRecords()

    class Meta:
        ordering = ["cluster", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "cluster", "role"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True)
                | models.Q(since__isnull=True)
                | models.Q(until__gte=models.F("since")),
                name="membership_until_after_since",
            ),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.organisation} in {self.cluster}"


# --- provenance links -----------------------------------------------------------------------


class SourceRecord(models.Model):
    """One source vouching for one organisation or cluster: the dataset row, or the manual entry."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="source_records"
    )
    # Organisation records leave cluster empty and imports leave recorded_by empty: both are indexed only
    # where set (see Meta.indexes).
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.CASCADE, related_name="source_records",
                                db_index=False)
    # The record's identifier in the source (for example the .coop registry object id); re-imports match on it.
    external_id = models.CharField(_("identifier in the source"), max_length=200, blank=True)
    line = models.PositiveIntegerField(_("line in the source file"), null=True, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    quote = models.TextField(_("quote"), blank=True)
    # Hash of the normalised row: a re-import with the same hash changes nothing.
    row_hash = models.CharField(max_length=40, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["source", "line"]
        indexes = [
            models.Index(fields=["cluster"], condition=models.Q(cluster__isnull=False),
                         name="source_record_cluster_set"),
            models.Index(fields=["recorded_by"], condition=models.Q(recorded_by__isnull=False),
                         name="source_record_recorder_set"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~models.Q(external_id=""), name="source_record_unique"
            ),
            models.CheckConstraint(
                condition=(models.Q(organisation__isnull=False) & models.Q(cluster__isnull=True))
                | (models.Q(organisation__isnull=True) & models.Q(cluster__isnull=False)),
                name="source_record_one_target",
            ),
        ]
        verbose_name = _("source record")
        verbose_name_plural = _("source records")

    def __str__(self) -> str:
        return f"{self.source} #{self.external_id or self.line}"


class ImportRun(models.Model):
    """One run of an import that could write, with its JSON report (dry runs write nothing, not even this)."""

    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_runs")
    mapping = models.CharField(_("mapping"), max_length=200)
    path = models.CharField(_("file"), max_length=1000)
    dry_run = models.BooleanField(default=False)
    committed = models.BooleanField(default=False)
    report = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.mapping} {self.path} ({self.started_at:%Y-%m-%d %H:%M})"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not duplicates")


class DuplicateCandidate(models.Model):
    """Two organisations that are likely the same; the secretariat decides, nothing merges silently."""

    first = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # Emptied when ``second`` is merged into ``first``; its name stays in ``second_name``.
    second = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    second_name = models.CharField(_("name of the second organisation"), max_length=300, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    score = models.FloatField(_("similarity"), default=1.0)
    status = models.CharField(_("status"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-score"]
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_unique")]
        verbose_name = _("likely duplicate")
        verbose_name_plural = _("likely duplicates")

    def __str__(self) -> str:
        return f"{self.first} ~ {self.second or self.second_name}"


# --- profile changes awaiting validation ----------------------------------------------------


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for validation")
    VALIDATED = "validated", _("Validated")
    RETURNED = "returned", _("Returned")


class ProfileChange(models.Model):
    """A manager's proposed edit of a published cluster or organisation profile.

    ``data`` holds the proposed field values; they reach the profile only when the secretariat
    validates the change.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="profile_changes"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.CASCADE, related_name="profile_changes"
    )
    data = models.JSONField(_("proposed values"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile_changes")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_reason = models.TextField(_("reason for returning"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(organisation__isnull=False) & models.Q(cluster__isnull=True))
                | (models.Q(organisation__isnull=True) & models.Q(cluster__isnull=False)),
                name="profile_change_one_target",
            )
        ]
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")

    def __str__(self) -> str:
        return f"#{self.pk} {self.target} ({self.status})"

    @property
    def target(self) -> Organisation | Cluster:
        return self.organisation or self.cluster  # type: ignore[return-value]
