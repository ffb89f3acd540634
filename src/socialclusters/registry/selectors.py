"""Reads of the registry: filtered directories, detail views, admission checks and overview counts.

The HTML pages and the JSON API call the same functions here, so that whatever a person can see,
a program can fetch with the same filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from socialclusters.errors import NotFound, ValidationError
from socialclusters.registry.models import (
    MEMBER_TYPE_OF_KIND,
    SOCIAL_ECONOMY_KINDS,
    Cluster,
    ClusterKind,
    Country,
    DuplicateCandidate,
    DuplicateStatus,
    Membership,
    MemberType,
    Organisation,
    OrganisationKind,
    ProfileChange,
    PublicationStatus,
    Region,
    Sector,
    SectorLevel,
    SourceRecord,
)

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# "se_family" accepts one family or this word for all six social economy families.
ANY_SOCIAL_ECONOMY = "any"


# --- filters and pagination -----------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationFilters:
    """The directory's filters, shared by the page, the API and the downloads."""

    q: str = ""
    country: str = ""
    nuts: str = ""
    se_family: str = ""
    nace: str = ""
    cluster: int | None = None
    kind: str = ""

    def is_empty(self) -> bool:
        return not any([self.q, self.country, self.nuts, self.se_family, self.nace, self.cluster, self.kind])


@dataclass(frozen=True)
class ClusterFilters:
    q: str = ""
    country: str = ""
    nuts: str = ""
    kind: str = ""
    nace: str = ""


@dataclass
class Page:
    """One page of a list: ``count`` is the total across pages."""

    items: list[Any]
    count: int
    number: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def paginate(queryset: QuerySet[Any], *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
    if page < 1:
        raise ValidationError("must be 1 or more", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"must be between 1 and {MAX_PAGE_SIZE}", field="page_size")
    count = queryset.count()
    start = (page - 1) * page_size
    return Page(items=list(queryset[start : start + page_size]), count=count, number=page, page_size=page_size)


def _search_terms(q: str) -> list[str]:
    return [term for term in q.lower().split() if term][:10]


def _country_code(value: str) -> str:
    """Accept ISO (GR, GB) or NUTS (EL, UK) country codes, in any case; return ISO."""
    code = value.strip().upper()
    if not code:
        return ""
    iso = {"EL": "GR", "UK": "GB"}.get(code, code)
    if not Country.objects.filter(code=iso).exists():
        raise ValidationError(
            f"unknown country code '{value}' (use ISO 3166 alpha-2, e.g. FR, DE, GR)", field="country"
        )
    return iso


def organisation_list(filters: OrganisationFilters) -> QuerySet[Organisation]:  # noqa: PLR0912 - one branch per filter
    """Organisations matching every filter, ordered by name."""
    qs = Organisation.objects.select_related("country", "region", "primary_nace", "legal_form")
    for term in _search_terms(filters.q):
        qs = qs.filter(search_text__contains=term)
    if filters.country:
        qs = qs.filter(country_id=_country_code(filters.country))
    if filters.nuts:
        code = filters.nuts.strip().upper()
        if len(code) <= 2:
            qs = qs.filter(region__country__nuts_code=code)
        elif len(code) == 4:
            qs = qs.filter(nuts2=code)
        else:
            qs = qs.filter(region__code__startswith=code)
    if filters.se_family:
        family = filters.se_family.strip().lower()
        if family == ANY_SOCIAL_ECONOMY:
            qs = qs.filter(kind__in=SOCIAL_ECONOMY_KINDS)
        elif family in SOCIAL_ECONOMY_KINDS:
            qs = qs.filter(kind=family)
        else:
            choices = ", ".join([ANY_SOCIAL_ECONOMY, *sorted(SOCIAL_ECONOMY_KINDS)])
            raise ValidationError(f"unknown social economy family '{filters.se_family}' (one of {choices})",
                                  field="se_family")
    if filters.kind:
        if filters.kind not in OrganisationKind.values:
            raise ValidationError(f"unknown kind '{filters.kind}'", field="kind")
        qs = qs.filter(kind=filters.kind)
    if filters.nace:
        code = filters.nace.strip().upper()
        if len(code) == 1 and code.isalpha():
            qs = qs.filter(nace_section=code)
        else:
            qs = qs.filter(Q(primary_nace__code__startswith=code) | Q(secondary_nace__code__startswith=code)).distinct()
    if filters.cluster is not None:
        qs = qs.filter(memberships__cluster_id=filters.cluster).distinct()
    return qs.order_by("name", "id")


def organisation_detail(pk: int) -> Organisation:
    try:
        return (
            Organisation.objects.select_related("country", "region", "region__parent", "primary_nace", "legal_form")
            .prefetch_related(
                "secondary_nace",
                Prefetch("memberships", queryset=Membership.objects.select_related("cluster")),
                Prefetch("source_records", queryset=SourceRecord.objects.select_related("source")),
            )
            .get(pk=pk)
        )
    except Organisation.DoesNotExist:
        raise NotFound(f"no organisation with id {pk}") from None


def visible_clusters(user: User | None) -> QuerySet[Cluster]:
    """Published clusters for everyone; the secretariat and a cluster's managers also see its drafts."""
    qs = Cluster.objects.all()
    if user is not None and user.is_authenticated:
        if user.is_secretariat:
            return qs
        return qs.filter(Q(publication_status=PublicationStatus.PUBLISHED) | Q(managers=user)).distinct()
    return qs.filter(publication_status=PublicationStatus.PUBLISHED)


def cluster_list(filters: ClusterFilters, *, user: User | None = None) -> QuerySet[Cluster]:
    qs = visible_clusters(user).select_related("country", "managing_organisation").annotate(
        member_count=Count("memberships", filter=Q(memberships__until__isnull=True), distinct=True)
    )
    for term in _search_terms(filters.q):
        qs = qs.filter(search_text__contains=term)
    if filters.country:
        qs = qs.filter(country_id=_country_code(filters.country))
    if filters.nuts:
        qs = qs.filter(regions__code__startswith=filters.nuts.strip().upper()).distinct()
    if filters.kind:
        if filters.kind not in ClusterKind.values:
            raise ValidationError(f"unknown cluster kind '{filters.kind}'", field="kind")
        qs = qs.filter(kind=filters.kind)
    if filters.nace:
        qs = qs.filter(sectors__code__startswith=filters.nace.strip().upper()).distinct()
    return qs.order_by("name", "id")


def cluster_detail(pk: int, *, user: User | None = None) -> Cluster:
    try:
        return (
            visible_clusters(user)
            .select_related("country", "managing_organisation")
            .prefetch_related(
                "sectors",
                "regions",
                Prefetch(
                    "memberships",
                    queryset=Membership.objects.select_related("organisation", "organisation__country").order_by(
                        "organisation__name"
                    ),
                ),
                Prefetch("source_records", queryset=SourceRecord.objects.select_related("source")),
            )
            .get(pk=pk)
        )
    except Cluster.DoesNotExist:
        raise NotFound(f"no published cluster with id {pk}") from None


# --- admission checks -----------------------------------------------------------------------

# The European Cluster Collaboration Platform's conditions for a cluster profile.
MIN_COMMITTED_MEMBERS = 15
MIN_MEMBER_TYPES = 2
MIN_MANAGEMENT_FTE = Decimal("0.5")


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    passed: bool | None  # None: not known yet (the profile lacks the figure)
    detail: str


@dataclass(frozen=True)
class AdmissionResult:
    checks: list[Check]
    exempt: bool
    exemption_reason: str

    @property
    def passed(self) -> bool:
        return self.exempt or all(check.passed for check in self.checks)

    @property
    def status(self) -> str:
        if self.exempt:
            return "exempt"
        if all(check.passed for check in self.checks):
            return "passed"
        if any(check.passed is False for check in self.checks):
            return "failed"
        return "incomplete"


def cluster_member_types(cluster: Cluster) -> dict[str, int]:
    """Current members counted by member type (business, research, public, civil society)."""
    counts = {member_type.value: 0 for member_type in MemberType}
    for membership in _current_memberships(cluster):
        # The stored kind is a plain str equal to (and hashing as) its OrganisationKind member.
        member_type = MEMBER_TYPE_OF_KIND.get(cast(OrganisationKind, membership.organisation.kind))
        if member_type is not None:
            counts[member_type] += 1
    for declared in cluster.declared_member_types or []:
        if declared in counts and counts[declared] == 0:
            counts[declared] = 1
    return counts


def _current_memberships(cluster: Cluster) -> list[Membership]:
    return [m for m in cluster.memberships.all() if m.until is None]


def admission_checks(cluster: Cluster) -> AdmissionResult:
    """The four profile conditions, computed from the registry (memberships) and the profile."""
    current = _current_memberships(cluster)
    committed = sum(1 for m in current if m.committed)
    types_present = [t for t, n in cluster_member_types(cluster).items() if n > 0]
    fte = cluster.management_fte
    checks = [
        Check(
            "committed_members",
            str(_("At least %(n)d committed members") % {"n": MIN_COMMITTED_MEMBERS}),
            committed >= MIN_COMMITTED_MEMBERS,
            str(_("%(n)d committed members in the registry") % {"n": committed}),
        ),
        Check(
            "member_types",
            str(_("At least %(n)d member types") % {"n": MIN_MEMBER_TYPES}),
            len(types_present) >= MIN_MEMBER_TYPES,
            ", ".join(str(MemberType(t).label) for t in types_present) or str(_("none recorded")),
        ),
        Check(
            "management_fte",
            str(_("At least %(fte)s FTE of management staff") % {"fte": MIN_MANAGEMENT_FTE}),
            None if fte is None else fte >= MIN_MANAGEMENT_FTE,
            str(_("not stated")) if fte is None else str(_("%(fte)s FTE") % {"fte": fte}),
        ),
        Check(
            "website_in_english",
            str(_("A website in English")),
            None if cluster.website_in_english is None else bool(cluster.website and cluster.website_in_english),
            cluster.website or str(_("no website recorded")),
        ),
    ]
    return AdmissionResult(checks=checks, exempt=cluster.admission_exempt,
                           exemption_reason=cluster.admission_exemption_reason)


# --- overview and reference lists -----------------------------------------------------------


@dataclass
class Overview:
    organisations: int
    social_economy: int
    placed: int
    clusters: int
    countries: int
    by_family: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, label, count)
    by_country: list[tuple[str, str, int]] = field(default_factory=list)  # (code, name, count)
    by_cluster_kind: list[tuple[str, str, int]] = field(default_factory=list)


def overview(*, top_countries: int = 15) -> Overview:
    """What the observatory holds: counts by social economy family and by country."""
    orgs = Organisation.objects.all()
    family_counts = dict(orgs.values_list("kind").annotate(n=Count("id")).order_by())
    by_family = [(k.value, str(k.label), family_counts.get(k.value, 0)) for k in OrganisationKind
                 if family_counts.get(k.value)]
    by_country = [
        (row["country_id"], row["country__name"], row["n"])
        for row in orgs.exclude(country=None)
        .values("country_id", "country__name")
        .annotate(n=Count("id"))
        .order_by("-n", "country__name")[:top_countries]
    ]
    clusters = visible_clusters(None)
    cluster_kinds = dict(clusters.values_list("kind").annotate(n=Count("id")).order_by())
    return Overview(
        organisations=orgs.count(),
        social_economy=orgs.filter(kind__in=SOCIAL_ECONOMY_KINDS).count(),
        placed=orgs.exclude(region=None).count(),
        clusters=clusters.count(),
        countries=orgs.exclude(country=None).values("country").distinct().count(),
        by_family=by_family,
        by_country=by_country,
        by_cluster_kind=[
            (k.value, str(k.label), cluster_kinds[k.value]) for k in ClusterKind if k.value in cluster_kinds
        ],
    )


def countries_with_organisations() -> QuerySet[Country]:
    return Country.objects.filter(organisations__isnull=False).distinct().order_by("name")


def nuts2_regions(country: str = "") -> QuerySet[Region]:
    qs = Region.objects.filter(level=2).select_related("country")
    if country:
        qs = qs.filter(country_id=_country_code(country))
    return qs.order_by("code")


def nace_sections() -> QuerySet[Sector]:
    return Sector.objects.filter(level=SectorLevel.SECTION).order_by("code")


def region_detail(code: str, *, version: str = "2021") -> Region:
    try:
        return Region.objects.select_related("country", "parent").get(code=code.upper(), version=version)
    except Region.DoesNotExist:
        raise NotFound(f"no NUTS {version} region with code '{code}'") from None


def regions(
    *, level: int | None = None, country: str = "", parent: str = "", version: str = "2021"
) -> QuerySet[Region]:
    """NUTS regions of one version, optionally of one level, one country (ISO or NUTS code) or one parent."""
    qs = Region.objects.filter(version=version).select_related("country", "parent")
    if level is not None:
        qs = qs.filter(level=level)
    if country:
        qs = qs.filter(country_id=_country_code(country))
    if parent:
        qs = qs.filter(parent__code=parent.strip().upper())
    return qs.order_by("code")


def organisation_counts_by_region(*, level: int, version: str = "2021") -> dict[str, int]:
    """Organisations placed in each region of ``level``, in one query.

    Organisations are placed in NUTS 3 regions and NUTS codes nest by prefix (FR101 is in FR10, FR1, FR),
    so a region's count is the sum over the placed regions whose code starts with its own.
    """
    counts: dict[str, int] = {}
    placed = Organisation.objects.filter(region__version=version).values_list("region__code").annotate(n=Count("id"))
    for code, n in placed.order_by():
        key = code[: level + 2]
        counts[key] = counts.get(key, 0) + n
    return counts


def region_organisation_count(region: Region) -> int:
    return Organisation.objects.filter(region__version=region.version, region__code__startswith=region.code).count()


def sectors(*, level: str = "") -> QuerySet[Sector]:
    """NACE Rev. 2 codes, optionally of one level (section, division, group, class)."""
    qs = Sector.objects.all()
    if level:
        if level not in SectorLevel.values:
            choices = ", ".join(SectorLevel.values)
            raise ValidationError(f"unknown NACE level '{level}' (one of {choices})", field="level")
        qs = qs.filter(level=level)
    return qs.order_by("code")


def countries() -> QuerySet[Country]:
    """Every country, with the number of organisations the registry holds there."""
    return Country.objects.annotate(organisation_count=Count("organisations")).order_by("name")


# --- workflow reads -------------------------------------------------------------------------


def pending_changes() -> QuerySet[ProfileChange]:
    """Changes waiting for the secretariat, oldest first."""
    return (
        ProfileChange.objects.filter(status="submitted")
        .select_related("organisation", "cluster", "author")
        .order_by("submitted_at")
    )


def changes_by(user: User) -> QuerySet[ProfileChange]:
    return ProfileChange.objects.filter(author=user).select_related("organisation", "cluster")


def profile_change(pk: int) -> ProfileChange:
    try:
        return ProfileChange.objects.select_related("organisation", "cluster", "author", "decided_by").get(pk=pk)
    except ProfileChange.DoesNotExist:
        raise NotFound(f"no profile change with id {pk}") from None


def open_duplicates() -> QuerySet[DuplicateCandidate]:
    return DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).select_related(
        "first", "second", "first__country", "second__country"
    )


def can_edit_cluster(user: User | None, cluster: Cluster) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_secretariat or cluster.managers.filter(pk=user.pk).exists()


def can_edit_organisation(user: User | None, organisation: Organisation) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_secretariat or organisation.managers.filter(pk=user.pk).exists()
