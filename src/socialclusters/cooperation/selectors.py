"""Reads of cooperation: profiles and opportunities people may see, inboxes, interests with the contact
details both sides agreed to share, procurement figures, matchmaking suggestions and cross-border flows.

The HTML pages and the JSON API call the same functions here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from socialclusters.analysis.matchmaking import Match, MatchFilters, MatchIndex, MatchWeights
from socialclusters.cooperation.models import (
    VALUE_BOUNDS,
    Contract,
    CooperationProfile,
    InboxMessage,
    Interest,
    InterestStatus,
    MatchingSettings,
    OpportunityStatus,
    ProcurementOpportunity,
    ProfileKind,
    ProfileStatus,
    SuggestionOptOut,
)
from socialclusters.cooperation.services import manages, manages_profile, matching_settings
from socialclusters.errors import NotFound, ValidationError
from socialclusters.registry.models import (
    NUTS_VERSION,
    SOCIAL_ECONOMY_KINDS,
    Cluster,
    ClusterKind,
    Membership,
    Organisation,
    OrganisationKind,
    PublicationStatus,
    Region,
)

if TYPE_CHECKING:
    from socialclusters.accounts.models import User


def family_of(kind: str) -> str:
    """The matchmaker's family of an organisation kind."""
    if kind in SOCIAL_ECONOMY_KINDS:
        return "social_economy"
    if kind == OrganisationKind.TRADITIONAL_ENTERPRISE:
        return "traditional"
    return "other"


# --- profiles and opportunities ---------------------------------------------------------------------------


def live_profiles() -> QuerySet[CooperationProfile]:
    """Published profiles that have not expired."""
    today = timezone.localdate()
    return CooperationProfile.objects.filter(status=ProfileStatus.PUBLISHED).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today))


def profile_list(*, kind: str = "", country: str = "", section: str = "", q: str = "",
                 cluster: int | None = None) -> QuerySet[CooperationProfile]:
    """Live profiles, filtered; ``cluster`` keeps those published on behalf of that cluster."""
    qs = live_profiles().select_related("organisation", "organisation__country", "cluster").prefetch_related(
        "sectors")
    if cluster is not None:
        qs = qs.filter(cluster_id=cluster)
    if kind:
        if kind not in ProfileKind.values:
            raise ValidationError(_("choose offer or request"), field="kind")
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(organisation__country_id=country.upper())
    if section:
        qs = qs.filter(sectors__section=section.upper()).distinct()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(organisation__name__icontains=q))
    return qs


def profile_detail(pk: int, *, user: User | None) -> CooperationProfile:
    """A profile: live ones for everyone; others for their organisation's managers and the secretariat."""
    profile = (CooperationProfile.objects.select_related("organisation", "organisation__region", "cluster")
               .prefetch_related("sectors", "regions").filter(pk=pk).first())
    if profile is None:
        raise NotFound(_("no cooperation profile %(pk)d") % {"pk": pk})
    if not live_profiles().filter(pk=pk).exists() and not manages_profile(user, profile):
        raise NotFound(_("no cooperation profile %(pk)d") % {"pk": pk})
    return profile


def is_expired(profile: CooperationProfile) -> bool:
    return profile.expires_on is not None and profile.expires_on < timezone.localdate()


def opportunity_list(*, country: str = "", section: str = "", q: str = "") -> QuerySet[ProcurementOpportunity]:
    qs = ProcurementOpportunity.objects.filter(status=OpportunityStatus.OPEN,
                                               deadline__gte=timezone.localdate()).select_related(
        "buyer", "sector", "region")
    if country:
        qs = qs.filter(buyer__country_id=country.upper())
    if section:
        qs = qs.filter(sector__section=section.upper())
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(buyer__name__icontains=q))
    return qs


def opportunity_detail(pk: int, *, user: User | None) -> ProcurementOpportunity:
    """An opportunity: open and closed ones for everyone; withdrawn ones for the buyer and the secretariat."""
    opportunity = ProcurementOpportunity.objects.select_related("buyer", "sector", "region").filter(pk=pk).first()
    if opportunity is None or (opportunity.status == OpportunityStatus.WITHDRAWN
                               and not manages(user, opportunity.buyer)):
        raise NotFound(_("no procurement opportunity %(pk)d") % {"pk": pk})
    return opportunity


def review_queue() -> QuerySet[CooperationProfile]:
    return CooperationProfile.objects.filter(status=ProfileStatus.SUBMITTED).select_related("organisation").order_by(
        "updated_at")


def profiles_of(user: User) -> QuerySet[CooperationProfile]:
    """Profiles of the organisations a user manages (every status)."""
    return CooperationProfile.objects.filter(
        Q(organisation__managers=user) | Q(organisation__managed_clusters__managers=user) | Q(cluster__managers=user)
    ).distinct().select_related("organisation", "cluster")


def opportunities_of(user: User) -> QuerySet[ProcurementOpportunity]:
    """Procurement opportunities of the organisations a user manages (every status), latest deadline first."""
    return ProcurementOpportunity.objects.filter(
        Q(buyer__managers=user) | Q(buyer__managed_clusters__managers=user)
    ).distinct().select_related("buyer").order_by("-deadline", "-id")


def is_following(user: User | None, *, profile: CooperationProfile | None = None,
                 opportunity: ProcurementOpportunity | None = None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    from socialclusters.cooperation.models import Follow

    return Follow.objects.filter(user=user, profile=profile, opportunity=opportunity).exists()


# --- inbox and interests ----------------------------------------------------------------------------------


def inbox(user: User) -> QuerySet[InboxMessage]:
    return InboxMessage.objects.filter(recipient=user)


def interests_involving(user: User) -> QuerySet[Interest]:
    """Interests sent by or to the organisations a user manages (the secretariat sees all)."""
    qs = Interest.objects.select_related("organisation", "profile", "profile__organisation", "profile__cluster",
                                         "opportunity", "opportunity__buyer")
    if user.is_secretariat:
        return qs
    mine = Q(organisation__managers=user) | Q(organisation__managed_clusters__managers=user)
    theirs = (Q(profile__organisation__managers=user) | Q(opportunity__buyer__managers=user)
              | Q(profile__organisation__managed_clusters__managers=user) | Q(profile__cluster__managers=user)
              | Q(opportunity__buyer__managed_clusters__managers=user))
    return qs.filter(mine | theirs).distinct()


@dataclass
class InterestView:
    interest: Interest
    can_answer: bool
    contacts: list[dict[str, str]] | None  # None until both sides agreed


def _contact(organisation: Organisation, person: User | None) -> dict[str, str]:
    return {"organisation": organisation.name, "website": organisation.website,
            "name": person.get_full_name() or person.get_username() if person else "",
            "email": person.email if person else ""}


def interest_detail(pk: int, *, user: User) -> InterestView:
    interest = interests_involving(user).filter(pk=pk).first()
    if interest is None:
        raise NotFound(_("no expression of interest %(pk)d") % {"pk": pk})
    owner_manages = (manages_profile(user, interest.profile) if interest.profile is not None
                     else manages(user, interest.owner_organisation))
    can_answer = interest.status == InterestStatus.PENDING and owner_manages
    contacts = None
    if interest.status == InterestStatus.ACCEPTED:
        owner_person = interest.answered_by
        owner = _contact(interest.owner_organisation, owner_person)
        cluster = interest.profile.cluster if interest.profile is not None else None
        if cluster is not None:  # the cluster speaks; its organisation only answers for it
            owner |= {"organisation": f"{cluster.name} ({interest.owner_organisation.name})",
                      "website": cluster.website or owner["website"]}
        contacts = [_contact(interest.organisation, interest.created_by), owner]
    return InterestView(interest=interest, can_answer=can_answer, contacts=contacts)


# --- procurement figures ----------------------------------------------------------------------------------

_CONTRACT_FIELDS = ("buyer__kind", "supplier__kind", "value_band", "buyer__region__code",
                    "supplier__region__code", "sector__section", "cluster_id", "cluster__name",
                    "buyer__country_id", "supplier__country_id")


def _contracts_frame() -> pd.DataFrame:
    rows = list(Contract.objects.values_list(*_CONTRACT_FIELDS))
    frame = pd.DataFrame(rows, columns=["buyer_kind", "supplier_kind", "band", "buyer_region", "supplier_region",
                                        "section", "cluster", "cluster_name", "buyer_country", "supplier_country"])
    frame["value_min_eur"] = frame["band"].map(lambda b: VALUE_BOUNDS[b][0]).astype("int64")
    buyer_family = frame["buyer_kind"].map(family_of)
    supplier_family = frame["supplier_kind"].map(family_of)
    frame["social_to_traditional"] = (supplier_family == "social_economy") & (buyer_family == "traditional")
    frame["traditional_to_social"] = (supplier_family == "traditional") & (buyer_family == "social_economy")
    return frame


def _summary(group: pd.DataFrame) -> dict[str, Any]:
    mixed = group["social_to_traditional"] | group["traditional_to_social"]
    return {
        "contracts": len(group),
        "value_min_eur": int(group["value_min_eur"].sum()),
        "social_economy_supplying_traditional": int(group["social_to_traditional"].sum()),
        "traditional_supplying_social_economy": int(group["traditional_to_social"].sum()),
        "social_traditional_value_min_eur": int(group.loc[mixed, "value_min_eur"].sum()),
    }


def procurement_by_region(level: int) -> dict[str, dict[str, Any]]:
    """Procurement recorded in contracts, by the supplier's NUTS region at ``level`` (0 to 3).

    Each region's entry: ``contracts``, ``value_min_eur`` (the sum of the value bands' lower bounds: a
    floor, since contracts are recorded by band), how many had a social economy supplier and a traditional
    buyer (``social_economy_supplying_traditional``) or the reverse, and their value floor. Contracts whose
    supplier has no region are left out.

    >>> procurement_by_region(4)
    Traceback (most recent call last):
    ...
    socialclusters.errors.ValidationError: field 'level': NUTS levels are 0, 1, 2 and 3
    """
    if level not in (0, 1, 2, 3):
        raise ValidationError("NUTS levels are 0, 1, 2 and 3", field="level")
    frame = _contracts_frame()
    frame = frame[frame["supplier_region"].notna()]
    if frame.empty:
        return {}
    frame = frame.assign(code=frame["supplier_region"].str[: 2 + level])
    return {str(code): _summary(group) for code, group in frame.groupby("code", sort=True)}


def procurement_by_sector() -> dict[str, dict[str, Any]]:
    frame = _contracts_frame()
    frame["section"] = frame["section"].fillna("")
    return {str(code) or "unknown": _summary(group) for code, group in frame.groupby("section", sort=True)}


def procurement_by_cluster() -> dict[str, dict[str, Any]]:
    frame = _contracts_frame()
    frame = frame[frame["cluster"].notna()]
    published = set(Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).values_list("pk",
                                                                                                      flat=True))
    frame = frame[frame["cluster"].isin(published)]
    return {str(int(cid)): {"name": group["cluster_name"].iloc[0], **_summary(group)}
            for cid, group in frame.groupby("cluster", sort=True)}


def region_names(codes: list[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=codes, version=NUTS_VERSION).values_list("code", "name_latn"))


# --- cross-border flows -----------------------------------------------------------------------------------


def cross_border_flows() -> list[dict[str, Any]]:
    """Profiles' interests and contracts that cross a border, by (from country, to country).

    ``interests``: an organisation of one country expressed interest in a profile or opportunity of
    another; ``accepted``: of those, accepted; ``contracts``: supplier and buyer in different countries
    (from the supplier's country to the buyer's); ``profiles``: live profiles welcoming cross-border
    cooperation, counted on their own country's row with an empty ``to``.
    """
    flows: dict[tuple[str, str], dict[str, int]] = {}

    def add(source: str | None, target: str | None, key: str, count: int = 1) -> None:
        if not source or (target is not None and (not target or source == target)):
            return
        row = flows.setdefault((source, target or ""), {"profiles": 0, "interests": 0, "accepted": 0,
                                                         "contracts": 0})
        row[key] += count

    for sender, profile_country, buyer_country, status in Interest.objects.values_list(
            "organisation__country_id", "profile__organisation__country_id", "opportunity__buyer__country_id",
            "status"):
        target = profile_country or buyer_country
        add(sender, target, "interests")
        if status == InterestStatus.ACCEPTED:
            add(sender, target, "accepted")
    for supplier, buyer in Contract.objects.values_list("supplier__country_id", "buyer__country_id"):
        add(supplier, buyer, "contracts")
    for country, count in live_profiles().filter(cross_border=True).values_list(
            "organisation__country_id").annotate(n=Count("id")):
        add(country, None, "profiles", count)
    return [{"from": a, "to": b, **row} for (a, b), row in sorted(flows.items())]


# --- matchmaking ------------------------------------------------------------------------------------------

_CACHE: dict[str, Any] = {}
_LOCK = threading.Lock()


def weights_from(settings: MatchingSettings) -> MatchWeights:
    return MatchWeights(**{name: getattr(settings, name) for name in MatchingSettings.WEIGHT_FIELDS})


def _fingerprint() -> tuple[Any, ...]:
    organisations = Organisation.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    profiles = CooperationProfile.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    opportunities = ProcurementOpportunity.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    settings = matching_settings()
    return (organisations["n"], organisations["last"], profiles["n"], profiles["last"], opportunities["n"],
            opportunities["last"], Membership.objects.count(), SuggestionOptOut.objects.count(),
            settings.updated_at, timezone.localdate(),
            Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).count())


def candidate_frame() -> pd.DataFrame:
    """One row per organisation, as :meth:`MatchIndex.build` reads it, from the registry and live profiles."""
    rows = list(Organisation.objects.values_list(
        "id", "name", "kind", "nace_section", "primary_nace__code", "primary_nace__label", "region__code",
        "nuts2", "country_id", "region__urban_rural"))
    frame = pd.DataFrame(rows, columns=["id", "name", "kind", "section", "division", "sector_label", "nuts3",
                                        "nuts2", "country", "urban_rural"])
    frame["family"] = frame["kind"].map(family_of)
    frame["division"] = frame["division"].fillna("").str[:2]
    frame["urban_rural"] = frame["urban_rural"].fillna(0).astype(int)
    for column in ("section", "nuts3", "nuts2", "country", "sector_label"):
        frame[column] = frame[column].fillna("")
    offers: dict[int, list[str]] = {}
    seeks: dict[int, list[str]] = {}
    languages: dict[int, set[str]] = {}
    cross: set[int] = set()
    for org, kind, title, description, langs, welcome in live_profiles().values_list(
            "organisation_id", "kind", "title", "description", "languages", "cross_border"):
        (offers if kind == ProfileKind.OFFER else seeks).setdefault(org, []).append(f"{title}. {description}")
        languages.setdefault(org, set()).update(langs or [])
        if welcome:
            cross.add(org)
    for buyer, title, description, langs, welcome in opportunity_list().values_list(
            "buyer_id", "title", "description", "languages", "cross_border"):
        seeks.setdefault(buyer, []).append(f"{title}. {description}")
        languages.setdefault(buyer, set()).update(langs or [])
        if welcome:
            cross.add(buyer)
    # What an organisation does, in words: its name and sector, then what it offers.
    frame["offer_text"] = [" ".join([name, label, *offers.get(i, [])]) for i, name, label in
                           zip(frame["id"], frame["name"], frame["sector_label"], strict=True)]
    frame["seek_text"] = frame["id"].map(lambda i: " ".join(seeks.get(i, [])))
    frame["languages"] = frame["id"].map(lambda i: sorted(languages.get(i, set())))
    frame["cross_border"] = frame["id"].isin(cross)
    published = Membership.objects.filter(cluster__publication_status=PublicationStatus.PUBLISHED,
                                          until__isnull=True).values_list("organisation_id", "cluster_id")
    clusters: dict[int, list[int]] = {}
    for org, cluster in published:
        clusters.setdefault(org, []).append(cluster)
    frame["clusters"] = frame["id"].map(lambda i: clusters.get(i, []))
    frame["opted_out"] = frame["id"].isin(set(SuggestionOptOut.objects.values_list("organisation_id", flat=True)))
    return frame.drop(columns=["name", "kind", "sector_label"])


def match_index() -> MatchIndex:
    """The index over every organisation, rebuilt when the registry, profiles or weights changed."""
    fingerprint = _fingerprint()
    with _LOCK:
        if _CACHE.get("fingerprint") == fingerprint:
            return _CACHE["index"]  # type: ignore[no-any-return]
        index = MatchIndex.build(candidate_frame(), weights=weights_from(matching_settings()))
        _CACHE.update(fingerprint=fingerprint, index=index)
        return index


_NUTS_TO_ISO = {"EL": "GR", "UK": "GB"}


def _cluster_query(profile: CooperationProfile, filters: SuggestionFilters) -> dict[str, Any]:
    """How a cluster's profile asks for partners: as the cluster, not as the body that runs it.

    Its sector is the profile's (else the cluster's), its place the profile's first region (else the
    cluster's), its family the cluster's kind (a social economy cluster pairs with traditional
    enterprises and the reverse). Its current members are already its partners, so they are left out
    unless the ``cluster`` filter asks for this very cluster's members.
    """
    cluster = profile.cluster
    assert cluster is not None
    changes: dict[str, Any] = {"clusters": (cluster.pk,)}
    if not profile.sectors.exists():
        sector = cluster.sectors.order_by("code").first()
        if sector is not None:
            changes["section"] = sector.section
            changes["division"] = sector.code[:2] if sector.level != "section" else ""
    region = profile.regions.order_by("level", "code").last() or cluster.regions.order_by("level", "code").last()
    if region is not None:
        code = region.code
        changes |= {"nuts3": code if region.level == 3 else "",
                    "nuts2": code[:4] if region.level >= 2 else "",
                    "country": _NUTS_TO_ISO.get(code[:2], code[:2])}
    if cluster.kind == ClusterKind.SOCIAL_ECONOMY:
        changes["family"] = "social_economy"
    elif cluster.kind == ClusterKind.TRADITIONAL:
        changes["family"] = "traditional"
    excluded = [profile.organisation_id]
    if filters.cluster != cluster.pk:
        excluded += list(Membership.objects.filter(cluster=cluster, until__isnull=True)
                         .values_list("organisation_id", flat=True))
    changes["exclude"] = tuple(excluded)
    return changes


@dataclass
class Suggestion:
    organisation: Organisation
    score: float
    reasons: list[dict[str, Any]]
    profiles: list[CooperationProfile]


def reason_text(code: str, detail: dict[str, Any]) -> str:
    """A reason's words in the page's language."""
    texts = {
        "offer_answers_request": _("What one side offers answers what the other seeks."),
        "similar_activity": _("Similar activities."),
        "same_division": _("Same NACE division (section %(section)s).") % {"section": detail.get("section", "")},
        "same_sector": _("Same NACE section (%(section)s).") % {"section": detail.get("section", "")},
        "complementary_sectors": _("Complementary sectors: NACE %(a)s and %(b)s.")
        % {"a": (detail.get("sections") or ["", ""])[0], "b": (detail.get("sections") or ["", ""])[1]},
        "same_region": _("Same region (%(region)s).") % {"region": detail.get("region", "")},
        "neighbouring_region": _("Neighbouring region in the same NUTS 2 area (%(region)s).")
        % {"region": detail.get("region", "")},
        "same_country": _("Same country."),
        "cross_border": _("Cross-border cooperation welcomed by both sides.") if detail.get("both")
        else _("Cross-border cooperation welcomed."),
        "pairing": _("A social economy organisation and a traditional enterprise."),
        "shared_cluster": _("Members of the same cluster."),
        "language": _("Shared working language (%(languages)s).")
        % {"languages": ", ".join(detail.get("languages", []))},
    }
    return texts.get(code, code)


@dataclass(frozen=True)
class SuggestionFilters:
    family: str = "any"
    other_countries: bool = False
    area: str = "any"
    cluster: int | None = None

    def to_match_filters(self) -> MatchFilters:
        try:
            return MatchFilters(family=self.family, other_countries=self.other_countries, area=self.area,  # type: ignore[arg-type]
                                cluster=self.cluster)
        except ValueError as exc:
            field = "family" if "'family'" in str(exc) else "area"
            raise ValidationError(str(exc).split(": ", 1)[-1], field=field) from None


def suggestions(*, organisation: Organisation | None = None, profile: CooperationProfile | None = None,
                opportunity: ProcurementOpportunity | None = None, filters: SuggestionFilters | None = None,
                k: int = 10) -> list[Suggestion]:
    """Top partners for an organisation, a profile or an opportunity, with their reasons.

    An organisation that opted out gets no suggestions and is never suggested.
    """
    filters = filters or SuggestionFilters()
    if filters.cluster is not None and not Cluster.objects.filter(
            pk=filters.cluster, publication_status=PublicationStatus.PUBLISHED).exists():
        raise ValidationError(_("no published cluster %(pk)d") % {"pk": filters.cluster}, field="cluster")
    asker = organisation or (profile.organisation if profile else opportunity.buyer if opportunity else None)
    if asker is None:
        raise ValidationError(_("say whom the suggestions are for"), field="organisation")
    if SuggestionOptOut.objects.filter(organisation=asker).exists():
        raise ValidationError(_("%(name)s opted out of suggestions") % {"name": asker.name}, field="organisation")
    index = match_index()
    changes: dict[str, Any] = {}
    if profile is not None:
        text = f"{profile.title}. {profile.description}"
        changes = {"offer_text": text, "seek_text": ""} if profile.kind == ProfileKind.OFFER else {
            "seek_text": text}
        changes["languages"] = tuple(profile.languages)
        changes["cross_border"] = profile.cross_border
        sectors = list(profile.sectors.all())
        if sectors:
            changes["section"] = sectors[0].section
            changes["division"] = sectors[0].code[:2] if sectors[0].level != "section" else ""
    elif opportunity is not None:
        changes = {"seek_text": f"{opportunity.title}. {opportunity.description}",
                   "languages": tuple(opportunity.languages), "cross_border": opportunity.cross_border}
        if opportunity.sector is not None:
            changes["section"] = opportunity.sector.section
    if profile is not None and profile.cluster_id is not None:
        changes |= _cluster_query(profile, filters)
    query = index.query_for(asker.pk, **changes)
    matches: list[Match] = index.top_k(query, k=k, filters=filters.to_match_filters())
    organisations = Organisation.objects.select_related("country", "region").in_bulk([m.id for m in matches])
    live: dict[int, list[CooperationProfile]] = {}
    for p in live_profiles().filter(organisation_id__in=[m.id for m in matches]):
        live.setdefault(p.organisation_id, []).append(p)
    return [Suggestion(organisation=organisations[m.id], score=m.score,
                       reasons=[{"code": r.code, "text": reason_text(r.code, r.detail),
                                 "contribution": round(r.contribution, 4)} for r in m.reasons],
                       profiles=live.get(int(m.id), []))  # type: ignore[call-overload]
            for m in matches if m.id in organisations]


# --- learning pairs ---------------------------------------------------------------------------------------


@dataclass
class LearningPairs:
    target: str
    target_name: str
    kind: str  # "region" or "cluster"
    similar: list[dict[str, Any]]
    complementary: list[dict[str, Any]]
    places: int


def _location_quotients(counts: pd.DataFrame) -> pd.DataFrame:
    """Places x sections counts → location quotients (NaN where a place has no organisation)."""
    share = counts.div(counts.sum(axis=1).replace(0, float("nan")), axis=0)
    overall = counts.sum(axis=0) / counts.to_numpy().sum()
    return share.div(overall.replace(0, float("nan")), axis=1)


def _majority(types: pd.Series) -> float:
    types = types.dropna()
    return float(types.mode().iloc[0]) if len(types) else float("nan")


def learning_pairs_for_region(code: str, *, k: int = 5) -> LearningPairs:
    """Similar and complementary regions of the same NUTS level (2 or 3), from the registry's organisations.

    Sector profiles are location quotients of organisation counts by NACE section; the social economy
    indicators are the share of social economy organisations and the number of social economy clusters
    covering the region; a NUTS 2 region takes the most common urban-rural type of its NUTS 3 regions.
    """
    from socialclusters.analysis.learning import learning_pairs

    region = Region.objects.filter(code=code.upper(), version=NUTS_VERSION).first()
    if region is None:
        raise NotFound(_("no NUTS region %(code)s") % {"code": code})
    if region.level not in (2, 3):
        raise ValidationError(_("learning pairs compare NUTS 2 or NUTS 3 regions"), field="region")
    length = 2 + region.level
    rows = pd.DataFrame(list(Organisation.objects.exclude(region__isnull=True).values_list(
        "region__code", "nace_section", "kind")), columns=["nuts3", "section", "kind"])
    if rows.empty:
        raise ValidationError(_("no organisation is placed in a region yet"), field="region")
    rows["place"] = rows["nuts3"].str[:length]
    if region.code not in set(rows["place"]):
        raise ValidationError(_("no organisation is placed in %(code)s yet") % {"code": region.code}, field="region")
    counts = rows[rows["section"] != ""].pivot_table(index="place", columns="section", aggfunc="size", fill_value=0)
    counts = counts.reindex(sorted(set(rows["place"])), fill_value=0)
    profiles = _location_quotients(counts)
    se = rows["kind"].isin(SOCIAL_ECONOMY_KINDS)
    indicators = pd.DataFrame({"social economy share": se.groupby(rows["place"]).mean()})
    se_clusters = pd.Series(
        [c[: length] for c in Cluster.objects.filter(kind="social_economy",
                                                     publication_status=PublicationStatus.PUBLISHED)
         .values_list("regions__code", flat=True) if c]).value_counts()
    indicators["social economy clusters"] = se_clusters.reindex(indicators.index).fillna(0)
    nuts3_types = pd.Series(dict(Region.objects.filter(version=NUTS_VERSION, level=3).values_list(
        "code", "urban_rural")), dtype=float)
    if region.level == 3:
        urban = nuts3_types.reindex(profiles.index)
    else:
        urban = nuts3_types.groupby(nuts3_types.index.str[:4]).agg(_majority).reindex(profiles.index)
    pairs = learning_pairs(profiles, indicators, urban, region.code, k=k)
    names = region_names(list(profiles.index))
    return LearningPairs(
        target=region.code, target_name=region.name_latn, kind="region", places=len(profiles),
        similar=[{"code": c, "name": names.get(c, ""), "score": round(float(r["score"]), 4),
                  "reasons": r["reasons"], "compare": f"/map/?compare={region.code},{c}"}
                 for c, r in pairs["similar"].iterrows()],
        complementary=[{"code": c, "name": names.get(c, ""), "score": round(float(r["score"]), 4),
                        "reasons": r["reasons"], "compare": f"/map/?compare={region.code},{c}"}
                       for c, r in pairs["complementary"].iterrows()],
    )


def learning_pairs_for_cluster(pk: int, *, k: int = 5) -> LearningPairs:
    """Similar and complementary published clusters, from their members' sectors, kinds and regions."""
    from socialclusters.analysis.learning import learning_pairs

    cluster = Cluster.objects.filter(pk=pk, publication_status=PublicationStatus.PUBLISHED).first()
    if cluster is None:
        raise NotFound(_("no published cluster %(pk)d") % {"pk": pk})
    rows = pd.DataFrame(list(Membership.objects.filter(
        cluster__publication_status=PublicationStatus.PUBLISHED, until__isnull=True).values_list(
        "cluster_id", "organisation__nace_section", "organisation__kind", "organisation__region__urban_rural")),
        columns=["place", "section", "kind", "urban_rural"])
    if pk not in set(rows["place"]):
        raise ValidationError(_("this cluster has no recorded members yet"), field="cluster")
    counts = rows[rows["section"] != ""].pivot_table(index="place", columns="section", aggfunc="size", fill_value=0)
    counts = counts.reindex(sorted(set(rows["place"])), fill_value=0)
    profiles = _location_quotients(counts)
    indicators = pd.DataFrame({"social economy share": rows["kind"].isin(SOCIAL_ECONOMY_KINDS)
                               .groupby(rows["place"]).mean()})
    urban = rows.groupby("place")["urban_rural"].agg(_majority).reindex(profiles.index)
    pairs = learning_pairs(profiles, indicators, urban, pk, k=k)
    names = dict(Cluster.objects.filter(pk__in=list(profiles.index)).values_list("pk", "name"))
    return LearningPairs(
        target=str(pk), target_name=cluster.name, kind="cluster", places=len(profiles),
        similar=[{"code": str(c), "name": names.get(c, ""), "score": round(float(r["score"]), 4),
                  "reasons": r["reasons"], "compare": f"/clusters/{c}/"} for c, r in pairs["similar"].iterrows()],
        complementary=[{"code": str(c), "name": names.get(c, ""), "score": round(float(r["score"]), 4),
                        "reasons": r["reasons"], "compare": f"/clusters/{c}/"}
                       for c, r in pairs["complementary"].iterrows()],
    )
