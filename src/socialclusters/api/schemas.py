"""Pydantic schemas of the JSON API: query filters, request bodies and responses.

Every field carries a type and a description, so the OpenAPI schema at /api/v1/openapi.json
documents the whole API. Response schemas are built from model instances by the router
(``registry.py``) rather than read implicitly from the ORM, so no field can trigger a query.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field

from socialclusters.registry import selectors
from socialclusters.registry.models import (
    ChangeStatus,
    ClusterKind,
    ClusterLabel,
    DuplicateStatus,
    MembershipRole,
    MemberType,
    OrganisationKind,
    OrganisationStatus,
    PublicationStatus,
    SectorLevel,
    SizeBand,
)

# Identifiers fit a signed 64-bit integer; larger ones are refused before they reach the database.
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text; refusing it here gives a 422 naming the field instead of a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _empty_is_none(value: Any) -> Any:
    # HTML forms send empty filters ("?kind=&country=FR"); an empty value means "no filter".
    return None if value == "" else value


Text = Annotated[str, AfterValidator(_no_nul)]
NoFilter = BeforeValidator(_empty_is_none)
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# --- common -------------------------------------------------------------------------------------


class ErrorOut(Schema):
    """Every error response: a message and, when one input is at fault, its name."""

    detail: str = Field(description="What went wrong, in words a person can act on.")
    field: str | None = Field(description="The query parameter, path parameter or body field at fault, if any.")


class FieldError(Schema):
    field: str | None = Field(description="The input at fault.")
    location: str = Field(description="Where it was read: query, path, body or cookie.")
    message: str = Field(description="Why it was refused.")


class InvalidInputOut(ErrorOut):
    """422: the request did not match the schema (wrong type, out of range, unknown value)."""

    errors: list[FieldError] = Field(description="Every problem found, the first of which is in `detail`.")


ItemT = TypeVar("ItemT")


class ListOut(Schema, Generic[ItemT]):
    """A list: ``count`` is the total across every page, ``items`` the requested page."""

    count: int = Field(description="Number of items matching the filters, across all pages.")
    items: list[ItemT] = Field(description="The items of this page.")


class PagedListOut(ListOut[ItemT], Generic[ItemT]):
    page: int = Field(description="This page's number, from 1.")
    page_size: int = Field(description="Items per page.")
    pages: int = Field(description="Number of pages (at least 1).")


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    page_size: int = Field(
        selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE,
        description=f"Items per page, 1 to {selectors.MAX_PAGE_SIZE}.",
    )


# --- filters (the same as the pages') -------------------------------------------------------------

_Q = "Words that must all appear in the name, alternative names, town or web domain (case-insensitive)."
_COUNTRY = "ISO 3166 alpha-2 country code (FR, DE, GR); the NUTS forms EL and UK are accepted too."
_NUTS = "NUTS 2021 code of a country (FR), NUTS 1, 2 or 3 region (FR1, FR10, FR101); the region's parts are included."
_NACE = "NACE Rev. 2 code: a section letter (Q) or a division, group or class (88, 88.9, 88.91) and its subdivisions."


# The six social economy families (models.SOCIAL_ECONOMY_KINDS; a test keeps the two equal) or "any".
SocialEconomyFamily = Literal[
    "any", "cooperative", "mutual", "association", "foundation", "social_enterprise", "other_se"
]


class OrganisationFilterQuery(Schema):
    """The directory's filters; an empty value means no filter."""

    q: Text = Field("", max_length=200, description=_Q)
    country: Text = Field("", max_length=2, description=_COUNTRY)
    nuts: Text = Field("", max_length=5, description=_NUTS)
    se_family: Annotated[SocialEconomyFamily | None, NoFilter] = Field(
        None,
        description="A social economy family (cooperative, mutual, association, foundation, social_enterprise, "
        "other_se) or `any` for all six.",
    )
    nace: Text = Field("", max_length=5, description=_NACE + " Matches primary and secondary activities.")
    cluster: Annotated[Id | None, NoFilter] = Field(None, description="Only members of this cluster (its id).")
    kind: Annotated[OrganisationKind | None, NoFilter] = Field(None, description="Only organisations of this kind.")

    def to_filters(self) -> selectors.OrganisationFilters:
        return selectors.OrganisationFilters(
            q=self.q, country=self.country, nuts=self.nuts, se_family=self.se_family or "", nace=self.nace,
            cluster=self.cluster, kind=self.kind or "",
        )


class OrganisationListQuery(OrganisationFilterQuery, PageQuery):
    pass


class ClusterFilterQuery(Schema):
    """The cluster list's filters; an empty value means no filter."""

    q: Text = Field("", max_length=200, description="Words that must all appear in the name, type, town or themes.")
    country: Text = Field("", max_length=2, description=_COUNTRY)
    nuts: Text = Field("", max_length=5, description="NUTS 2021 code; clusters covering this region or its parts.")
    kind: Annotated[ClusterKind | None, NoFilter] = Field(None, description="Only clusters of this kind.")
    nace: Text = Field("", max_length=5, description=_NACE)

    def to_filters(self) -> selectors.ClusterFilters:
        return selectors.ClusterFilters(
            q=self.q, country=self.country, nuts=self.nuts, kind=self.kind or "", nace=self.nace
        )


class ClusterListQuery(ClusterFilterQuery, PageQuery):
    pass


class RegionListQuery(Schema):
    level: Annotated[int | None, NoFilter] = Field(None, ge=0, le=3, description="NUTS level: 0 (country) to 3.")
    country: Text = Field("", max_length=2, description=_COUNTRY)
    parent: Text = Field("", max_length=5, description="Only the regions directly below this NUTS code.")


class RegionMapQuery(Schema):
    level: int = Field(2, ge=0, le=3, description="NUTS level: 0 (country) to 3.")
    country: Text = Field("", max_length=2, description=_COUNTRY)


class SectorQuery(Schema):
    level: Annotated[SectorLevel | None, NoFilter] = Field(None, description="Only codes of this NACE level.")


# --- reference data -------------------------------------------------------------------------------


class CountryRef(Schema):
    code: str = Field(description="ISO 3166 alpha-2 code (GR for Greece).")
    nuts_code: str = Field(description="The code NUTS uses (EL for Greece, UK for the United Kingdom).")
    name: str = Field(description="English name.")


class CountryOut(CountryRef):
    alpha3: str = Field(description="ISO 3166 alpha-3 code.")
    is_eu: bool = Field(description="Member state of the European Union.")
    organisation_count: int = Field(description="Organisations in the registry in this country.")


class SectorRef(Schema):
    code: str = Field(description="NACE Rev. 2 code (Q, 88, 88.9, 88.91).")
    label: str = Field(description="English label.")
    level: SectorLevel = Field(description="section, division, group or class.")


class SectorOut(SectorRef):
    parent: str | None = Field(description="The code one level up, or null for a section.")
    section: str = Field(description="The section letter this code belongs to.")


class RegionRef(Schema):
    code: str = Field(description="NUTS code.")
    name: str = Field(description="Name in Latin script.")
    level: int = Field(description="NUTS level, 0 to 3.")
    version: str = Field(description="NUTS version the code belongs to (codes are only comparable within one).")


class Point(Schema):
    longitude: float = Field(description="WGS 84 longitude, degrees east.")
    latitude: float = Field(description="WGS 84 latitude, degrees north.")


class RegionOut(RegionRef):
    name_native: str = Field(description="Name in the national language(s).")
    parent: str | None = Field(description="The NUTS code one level up, or null for a country.")
    country: str = Field(description="ISO 3166 alpha-2 code of the country.")
    urban_rural: int | None = Field(
        description="Eurostat urban-rural typology: 1 predominantly urban, 2 intermediate, 3 predominantly rural."
    )
    urban_rural_label: str | None = Field(description="The typology in words.")
    coastal_type: int | None = Field(description="Eurostat coastal typology code, as published by GISCO.")
    mountain_type: int | None = Field(description="Eurostat mountain typology code, as published by GISCO.")
    label_point: Point | None = Field(description="Where the region's name is drawn (inside the region).")
    organisation_count: int = Field(description="Organisations placed in this region or its parts.")


class RegionDetailOut(RegionOut):
    parent_region: RegionRef | None = Field(description="The region one level up.")
    country_detail: CountryRef = Field(description="The region's country.")
    geometry_detail: Literal["simplified", "full"] = Field(description="Which geometry `geometry` holds.")
    geometry: dict[str, Any] | None = Field(
        description="GeoJSON geometry (WGS 84): simplified for maps by default, the stored 1:60 million one "
        "with `?detail=full`."
    )


# --- organisations --------------------------------------------------------------------------------


class LegalFormOut(Schema):
    code: str = Field(description="Code of the concept in the ESSGlobal legal-form scheme.")
    label: str = Field(description="English label.")
    uri: str = Field(description="ESSGlobal concept URI, for linked-data use.")


class ClusterRef(Schema):
    id: int = Field(description="Cluster id.")
    name: str = Field(description="Cluster name.")


class OrganisationRef(Schema):
    id: int = Field(description="Organisation id.")
    name: str = Field(description="Organisation name.")


class OrganisationItem(Schema):
    id: int = Field(description="Organisation id.")
    name: str = Field(description="Name.")
    kind: OrganisationKind = Field(description="Social economy family or other kind.")
    kind_label: str = Field(description="The kind in words.")
    is_social_economy: bool = Field(description="True for the six social economy families.")
    legal_form: str | None = Field(description="ESSGlobal legal form label, when known.")
    primary_nace: str | None = Field(description="Main NACE Rev. 2 activity code.")
    city: str = Field(description="Town or city (may be empty).")
    country: str | None = Field(description="ISO 3166 alpha-2 code.")
    nuts3: str | None = Field(description="NUTS 2021 level-3 region the organisation is placed in.")
    nuts2: str | None = Field(description="Its NUTS 2 region.")
    latitude: float | None = Field(description="WGS 84 latitude.")
    longitude: float | None = Field(description="WGS 84 longitude.")
    status: OrganisationStatus = Field(description="active, dissolved or unknown.")
    website: str = Field(description="Website address (may be empty).")
    is_illustrative: bool = Field(description="True for illustrative rows that are not real data.")


class Address(Schema):
    address: str = Field(description="Street address.")
    postcode: str = Field(description="Postcode.")
    city: str = Field(description="Town or city.")


class Coordinates(Point):
    confidence: float | None = Field(description="Geocoding confidence reported by the source, when stated.")


class RegionPlacement(Schema):
    code: str = Field(description="NUTS code of the region the organisation is placed in (level 3).")
    name: str = Field(description="Its name in Latin script.")
    level: int = Field(description="Its NUTS level.")
    version: str = Field(description="NUTS version.")
    nuts2: str = Field(description="NUTS 2 code.")
    method: str = Field(description="How the region was found (for example from coordinates or postcode).")


class MembershipOut(Schema):
    cluster: ClusterRef = Field(description="The cluster.")
    role: MembershipRole = Field(description="member, founder, manager (the cluster organisation) or partner.")
    role_label: str = Field(description="The role in words.")
    committed: bool = Field(description="Committed member (counts for the admission checks).")
    since: dt.date | None = Field(description="Member since.")
    until: dt.date | None = Field(description="Member until (null: still a member).")
    is_illustrative: bool = Field(description="Illustrative, not real data.")


class SourceOut(Schema):
    kind: str = Field(description="dataset, manual, survey or contribution.")
    name: str = Field(description="Dataset or source name.")
    version: str = Field(description="Dataset version (may be empty).")
    url: str = Field(description="Where the source can be found (may be empty).")
    publisher: str = Field(description="Publisher (may be empty).")
    licence: str = Field(description="Licence as stated by the publisher (may be empty).")


class ProvenanceOut(Schema):
    source: SourceOut = Field(description="The source vouching for the record.")
    external_id: str = Field(description="The record's identifier in the source (may be empty).")
    line: int | None = Field(description="Line of the source file the record came from.")
    url: str = Field(description="Address of the record in the source (may be empty).")
    recorded_at: dt.datetime = Field(description="When the record was taken from the source.")


class OrganisationDetailOut(Schema):
    id: int = Field(description="Organisation id.")
    name: str = Field(description="Name.")
    alt_names: list[str] = Field(description="Other names the organisation is known by.")
    kind: OrganisationKind = Field(description="Social economy family or other kind.")
    kind_label: str = Field(description="The kind in words.")
    is_social_economy: bool = Field(description="True for the six social economy families.")
    legal_form: LegalFormOut | None = Field(description="Legal form (ESSGlobal concept), when known.")
    legal_form_raw: str = Field(description="Legal form as the source stated it.")
    primary_nace: SectorRef | None = Field(description="Main NACE Rev. 2 activity.")
    secondary_nace: list[SectorRef] = Field(description="Other NACE Rev. 2 activities.")
    address: Address = Field(description="Postal address.")
    country: CountryRef | None = Field(description="Country.")
    coordinates: Coordinates | None = Field(description="Point (WGS 84), when known.")
    region: RegionPlacement | None = Field(description="NUTS region the organisation is placed in.")
    region_reason: str | None = Field(description="Why the organisation is not placed in a region (null when placed).")
    size_band: SizeBand = Field(description="Staff size band (empty: unknown).")
    founded: dt.date | None = Field(description="Founding date.")
    dissolved: dt.date | None = Field(description="Dissolution date.")
    status: OrganisationStatus = Field(description="active, dissolved or unknown.")
    website: str = Field(description="Website address.")
    flags: list[str] = Field(
        description="Data quality flags raised by imports (for example misdecoded_characters, unmapped_value)."
    )
    is_illustrative: bool = Field(description="Illustrative, not real data.")
    created_at: dt.datetime = Field(description="When the record was created.")
    updated_at: dt.datetime = Field(description="When it last changed.")
    memberships: list[MembershipOut] = Field(description="Clusters the organisation belongs to (visible ones only).")
    sources: list[ProvenanceOut] = Field(description="Where the record comes from.")


# --- clusters -------------------------------------------------------------------------------------


class ClusterItem(Schema):
    id: int = Field(description="Cluster id.")
    name: str = Field(description="Name.")
    kind: ClusterKind = Field(description="traditional, social_economy or other_vehicle.")
    kind_label: str = Field(description="The kind in words.")
    country: str | None = Field(description="ISO 3166 alpha-2 code.")
    city: str = Field(description="Town or city (may be empty).")
    managing_organisation: OrganisationRef | None = Field(description="The cluster organisation that runs it.")
    member_count: int = Field(description="Current members in the registry.")
    founded_year: int | None = Field(description="Founding year.")
    label: ClusterLabel = Field(description="Cluster management excellence label (empty: none).")
    publication_status: PublicationStatus = Field(
        description="draft (seen only by the secretariat and the cluster's managers), published or withdrawn."
    )
    is_illustrative: bool = Field(description="Illustrative, not real data.")


class MemberOut(Schema):
    organisation: OrganisationRef = Field(description="The member organisation.")
    kind: OrganisationKind = Field(description="The member's kind.")
    member_type: MemberType | None = Field(description="The member type the admission checks count (null: unknown).")
    country: str | None = Field(description="ISO 3166 alpha-2 code.")
    role: MembershipRole = Field(description="member, founder, manager or partner.")
    committed: bool = Field(description="Committed member.")
    since: dt.date | None = Field(description="Member since.")
    until: dt.date | None = Field(description="Member until (null: still a member).")
    current: bool = Field(description="Still a member.")
    is_illustrative: bool = Field(description="Illustrative, not real data.")


class MembersByType(Schema):
    business: list[MemberOut] = Field(description="Businesses (cooperatives, mutuals, social and other enterprises).")
    research: list[MemberOut] = Field(description="Research and education bodies.")
    public: list[MemberOut] = Field(description="Public bodies.")
    civil_society: list[MemberOut] = Field(description="Associations, foundations, networks, cluster organisations.")
    unclassified: list[MemberOut] = Field(description="Members whose kind is not known yet.")


class MemberTypeCounts(Schema):
    business: int = Field(description="Current business members (or 1 when declared but not registered).")
    research: int = Field(description="Current research and education members.")
    public: int = Field(description="Current public body members.")
    civil_society: int = Field(description="Current civil society members.")


class CheckOut(Schema):
    code: str = Field(description="Stable code of the check.")
    label: str = Field(description="The condition in words.")
    passed: bool | None = Field(description="true, false, or null when the profile lacks the figure.")
    detail: str = Field(description="What the registry holds for this check.")


class AdmissionOut(Schema):
    status: Literal["passed", "failed", "incomplete", "exempt"] = Field(description="Overall result.")
    passed: bool = Field(description="Admitted: exempt, or every check passed.")
    exempt: bool = Field(description="The secretariat exempted the cluster from the checks.")
    exemption_reason: str = Field(description="Why (empty when not exempt).")
    checks: list[CheckOut] = Field(description="The European Cluster Collaboration Platform's conditions.")


class ClusterDetailOut(ClusterItem):
    type_as_described: str = Field(description="The cluster's type in its source's own words.")
    description: str = Field(description="Description.")
    themes: list[str] = Field(description="Themes.")
    sectors: list[SectorRef] = Field(description="NACE Rev. 2 sectors.")
    regions: list[RegionRef] = Field(description="NUTS regions the cluster covers.")
    declared_member_types: list[str] = Field(description="Member types the profile declares.")
    members_count_stated: int | None = Field(description="Members as stated by the source (may count other things).")
    management_fte: float | None = Field(description="Management staff, full-time equivalents.")
    website: str = Field(description="Website address.")
    website_in_english: bool | None = Field(description="The website is available in English.")
    public_support: str = Field(description="Public support received, in words.")
    receives_public_support: bool | None = Field(description="Receives public support.")
    tracks_impact: bool | None = Field(description="Tracks its impact.")
    member_type_counts: MemberTypeCounts = Field(description="Current members counted by member type.")
    members_by_type: MembersByType = Field(description="Members (current and past) grouped by member type.")
    admission: AdmissionOut = Field(description="Admission checks and their overall result.")
    has_illustrative_members: bool = Field(description="Some memberships are illustrative, not real data.")
    sources: list[ProvenanceOut] = Field(description="Where the record comes from.")


# --- overview -------------------------------------------------------------------------------------


class KindCount(Schema):
    kind: str = Field(description="Kind code.")
    label: str = Field(description="Kind in words.")
    count: int = Field(description="How many.")


class CountryCount(Schema):
    code: str = Field(description="ISO 3166 alpha-2 code.")
    name: str = Field(description="Country name.")
    count: int = Field(description="Organisations.")


class OverviewOut(Schema):
    organisations: int = Field(description="Organisations in the registry.")
    social_economy: int = Field(description="Of which social economy organisations.")
    placed: int = Field(description="Organisations placed in a NUTS region.")
    clusters: int = Field(description="Published clusters.")
    countries: int = Field(description="Countries with at least one organisation.")
    by_family: list[KindCount] = Field(description="Organisations by kind.")
    by_country: list[CountryCount] = Field(description="Organisations in the countries with most of them.")
    by_cluster_kind: list[KindCount] = Field(description="Published clusters by kind.")


# --- workflow -------------------------------------------------------------------------------------


class TargetRef(Schema):
    type: Literal["cluster", "organisation"] = Field(description="What the change edits.")
    id: int = Field(description="Its id.")
    name: str = Field(description="Its name.")


class ChangeOut(Schema):
    id: int = Field(description="Change id.")
    target: TargetRef = Field(description="The profile the change edits.")
    data: dict[str, Any] = Field(description="The proposed values, by field name.")
    status: ChangeStatus = Field(description="draft, submitted (waiting for the secretariat), validated or returned.")
    status_label: str = Field(description="The status in words.")
    author: str = Field(description="User name of the author.")
    created_at: dt.datetime = Field(description="When it was proposed.")
    submitted_at: dt.datetime | None = Field(description="When it was submitted for validation.")
    decided_at: dt.datetime | None = Field(description="When the secretariat decided (or the edit applied directly).")
    decided_by: str | None = Field(description="Who decided.")
    return_reason: str = Field(description="Why it was returned (empty otherwise).")


class ChangeListQuery(PageQuery):
    pass


_NULLABLE = " Null clears the value."


class ClusterChangeIn(Schema):
    """The fields a cluster's manager may change; leave out the ones that stay as they are."""

    model_config = {"extra": "forbid"}

    name: Text | None = Field(None, min_length=1, max_length=300, description="Name.")
    description: Text | None = Field(None, description="Description.")
    themes: list[Annotated[Text, Field(max_length=100)]] | None = Field(None, max_length=50, description="Themes.")
    city: Text | None = Field(None, max_length=200, description="Town or city.")
    website: Text | None = Field(None, max_length=500, description="Website address (http or https).")
    website_in_english: bool | None = Field(None, description="The website is available in English." + _NULLABLE)
    management_fte: Decimal | None = Field(
        None, ge=0, max_digits=6, decimal_places=2, description="Management staff, full-time equivalents." + _NULLABLE
    )
    founded_year: int | None = Field(None, ge=1000, le=2100, description="Founding year." + _NULLABLE)
    public_support: Text | None = Field(None, description="Public support received, in words.")
    receives_public_support: bool | None = Field(None, description="Receives public support." + _NULLABLE)
    tracks_impact: bool | None = Field(None, description="Tracks its impact." + _NULLABLE)
    declared_member_types: list[MemberType] | None = Field(None, max_length=4, description="Member types declared.")


class OrganisationChangeIn(Schema):
    """The fields an organisation's manager may change; leave out the ones that stay as they are."""

    model_config = {"extra": "forbid"}

    name: Text | None = Field(None, min_length=1, max_length=300, description="Name.")
    alt_names: list[Annotated[Text, Field(max_length=300)]] | None = Field(
        None, max_length=20, description="Alternative names."
    )
    address: Text | None = Field(None, max_length=300, description="Street address.")
    postcode: Text | None = Field(None, max_length=20, description="Postcode.")
    city: Text | None = Field(None, max_length=200, description="Town or city.")
    website: Text | None = Field(None, max_length=500, description="Website address (http or https).")
    size_band: SizeBand | None = Field(None, description="Staff size band.")
    founded: dt.date | None = Field(None, description="Founding date." + _NULLABLE)


class ReturnIn(Schema):
    reason: Text = Field(max_length=2000, description="Why the change is returned, so its author can fix it.")


class DuplicateOut(Schema):
    id: int = Field(description="Candidate pair id.")
    first: OrganisationRef = Field(description="The organisation that would be kept.")
    first_country: str | None = Field(description="Its country.")
    second: OrganisationRef | None = Field(description="The organisation that would be merged into the first.")
    second_country: str | None = Field(description="Its country.")
    second_name: str = Field(description="The second organisation's name, kept after a merge.")
    reason: str = Field(description="Why the pair looks like a duplicate.")
    score: float = Field(description="Similarity, 0 to 1.")
    status: DuplicateStatus = Field(description="open, merged or dismissed.")
