"""Writes of cooperation: profiles and their review, renewal and withdrawal; procurement opportunities;
follows; expressions of interest and answers; contracts; matchmaking settings and opt-outs.

Every function takes keyword-only arguments, validates first, changes state inside one transaction,
tells the people concerned (inbox and email) and raises ``socialclusters.errors`` exceptions.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from socialclusters.cooperation.models import (
    LANGUAGES,
    Contract,
    CooperationProfile,
    Follow,
    InboxMessage,
    Interest,
    InterestStatus,
    MatchingSettings,
    OpportunityStatus,
    ProcurementOpportunity,
    ProfileKind,
    ProfileStatus,
    Seeking,
    SocialClause,
    SuggestionOptOut,
    ValueBand,
)
from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.registry.models import NUTS_VERSION, Cluster, Organisation, PublicationStatus, Region, Sector

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

LANGUAGE_CODES = frozenset(code for code, _label in LANGUAGES)
MAX_WEIGHT = 100.0


# --- who may act ------------------------------------------------------------------------------------------


def manages(user: User | None, organisation: Organisation) -> bool:
    """The secretariat, the organisation's managers, and managers of a cluster it runs."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_secretariat:
        return True
    if organisation.managers.filter(pk=user.pk).exists():
        return True
    return Cluster.objects.filter(managing_organisation=organisation, managers=user).exists()


def managed_organisations(user: User) -> list[Organisation]:
    """Organisations a user may act for (the secretariat acts for none by default: it picks one)."""
    direct = Organisation.objects.filter(managers=user)
    via_cluster = Organisation.objects.filter(managed_clusters__managers=user)
    return list((direct | via_cluster).distinct().order_by("name"))


def _require_manager(user: User, organisation: Organisation) -> None:
    if not manages(user, organisation):
        raise PermissionDenied(_("only the managers of %(name)s may do this") % {"name": organisation.name})


def manages_cluster(user: User | None, cluster: Cluster) -> bool:
    """The secretariat and the cluster's own managers (not every manager of its cluster organisation)."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_secretariat or cluster.managers.filter(pk=user.pk).exists())


def manages_profile(user: User | None, profile: CooperationProfile) -> bool:
    """Who may edit, publish, renew or withdraw a profile and answer the interests it receives."""
    if profile.cluster_id is not None:
        return manages_cluster(user, profile.cluster)  # type: ignore[arg-type]
    return manages(user, profile.organisation)


def managed_clusters(user: User) -> list[Cluster]:
    """Clusters a user may publish profiles for: those they manage that have a cluster organisation."""
    return list(Cluster.objects.filter(managers=user, managing_organisation__isnull=False).order_by("name"))


def _require_profile_manager(user: User, profile: CooperationProfile) -> None:
    if not manages_profile(user, profile):
        name = profile.cluster.name if profile.cluster_id else profile.organisation.name  # type: ignore[union-attr]
        raise PermissionDenied(_("only the managers of %(name)s may do this") % {"name": name})


# --- telling people ---------------------------------------------------------------------------------------


def notify(recipients: Iterable[User], *, subject: str, body: str, link: str = "") -> None:
    """Put a message in each recipient's inbox and email it (once per person)."""
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        InboxMessage.objects.create(recipient=user, subject=subject[:200], body=body, link=link)
        if user.email:
            text = f"{body}\n\n{link}" if link else body
            transaction.on_commit(functools.partial(send_mail, subject, text, None, [user.email]))


def _owners(organisation: Organisation, *also: User | None) -> list[User]:
    people = list(organisation.managers.all())
    for cluster in organisation.managed_clusters.all():
        people.extend(cluster.managers.all())
    people.extend(u for u in also if u is not None)
    return people


def _profile_owners(profile: CooperationProfile, *also: User | None) -> list[User]:
    if profile.cluster_id is not None:
        return [*profile.cluster.managers.all(), *(u for u in also if u is not None)]  # type: ignore[union-attr]
    return _owners(profile.organisation, *also)


def _followers(*, profile: CooperationProfile | None = None,
               opportunity: ProcurementOpportunity | None = None) -> list[User]:
    follows = Follow.objects.filter(profile=profile) if profile else Follow.objects.filter(opportunity=opportunity)
    return [f.user for f in follows.select_related("user")]


def _secretariat() -> list[User]:
    from socialclusters.accounts.models import Role, User

    return list(User.objects.filter(is_active=True, role=Role.SECRETARIAT))


# --- settings ---------------------------------------------------------------------------------------------


def matching_settings() -> MatchingSettings:
    settings, _created = MatchingSettings.objects.get_or_create(pk=1)
    return settings


@transaction.atomic
def update_matching_settings(*, user: User, weights: dict[str, Any], review_before_publication: bool,
                             profile_lifetime_days: int) -> MatchingSettings:
    """Change the weights and the review rule (secretariat); each change is kept in the settings' history."""
    if not user.is_secretariat:
        raise PermissionDenied(_("only the secretariat may tune the matchmaker"))
    values: dict[str, float] = {}
    for name in MatchingSettings.WEIGHT_FIELDS:
        raw = weights.get(name)
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(_("a number is required"), field=name) from None
        if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
            raise ValidationError(_("must be between 0 and %(max)d") % {"max": MAX_WEIGHT}, field=name)
        values[name] = value
    if sum(values.values()) <= 0:
        raise ValidationError(_("at least one weight must be above 0"), field=MatchingSettings.WEIGHT_FIELDS[0])
    if not isinstance(profile_lifetime_days, int) or not 7 <= profile_lifetime_days <= 1100:
        raise ValidationError(_("must be between 7 and 1100 days"), field="profile_lifetime_days")
    settings = matching_settings()
    for name, value in values.items():
        setattr(settings, name, value)
    settings.review_before_publication = bool(review_before_publication)
    settings.profile_lifetime_days = profile_lifetime_days
    settings.updated_by = user
    # Recorded in the settings' history whether the change came from the page, the API or a command.
    settings._history_user = user  # type: ignore[attr-defined]
    settings.save()
    return settings


@transaction.atomic
def set_opt_out(*, user: User, organisation: Organisation, opted_out: bool) -> bool:
    """Opt an organisation out of suggestions (or back in); returns the new state."""
    _require_manager(user, organisation)
    if opted_out:
        SuggestionOptOut.objects.get_or_create(organisation=organisation, defaults={"created_by": user})
    else:
        SuggestionOptOut.objects.filter(organisation=organisation).delete()
    return opted_out


# --- profiles ---------------------------------------------------------------------------------------------


def _choices(values: Any, allowed: Iterable[str], field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    allowed_set = set(allowed)
    out = []
    for value in values:
        if value not in allowed_set:
            raise ValidationError(_("unknown value %(value)s") % {"value": value}, field=field)
        if value not in out:
            out.append(value)
    return out


def _sectors(codes: Any, field: str = "sectors") -> list[Sector]:
    codes = [c for c in ([codes] if isinstance(codes, str) else (codes or [])) if c]
    found = {s.code: s for s in Sector.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(_("unknown NACE code %(code)s") % {"code": missing[0]}, field=field)
    return [found[c] for c in codes]


def _regions(codes: Any, field: str = "regions") -> list[Region]:
    codes = [c.strip().upper() for c in ([codes] if isinstance(codes, str) else (codes or [])) if c and c.strip()]
    found = {r.code: r for r in Region.objects.filter(code__in=codes, version=NUTS_VERSION)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValidationError(_("unknown NUTS code %(code)s") % {"code": missing[0]}, field=field)
    return [found[c] for c in codes]


def _text(data: dict[str, Any], field: str, *, limit: int, required: bool = True) -> str:
    value = str(data.get(field) or "").strip()
    if "\x00" in value:
        raise ValidationError(_("must not contain NUL characters"), field=field)
    if required and not value:
        raise ValidationError(_("this field is required"), field=field)
    if len(value) > limit:
        raise ValidationError(_("at most %(limit)d characters") % {"limit": limit}, field=field)
    return value


def _date(value: Any, field: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationError(_("this field is required"), field=field)
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("a date as YYYY-MM-DD is required"), field=field) from None


def _profile_cluster(user: User, value: Any, organisation: Organisation | None) -> Cluster:
    """The cluster a profile speaks for: published, run by a cluster organisation, managed by ``user``."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        pk = 0
    # Out-of-range numbers would be a database error on PostgreSQL, not an unknown cluster.
    cluster = (Cluster.objects.select_related("managing_organisation").filter(pk=pk).first()
               if 0 < pk < 2**63 else None)
    if cluster is None or cluster.publication_status != PublicationStatus.PUBLISHED:
        raise ValidationError(_("no published cluster with this number"), field="cluster")
    if not manages_cluster(user, cluster):
        raise PermissionDenied(_("only the managers of %(name)s may publish on its behalf") % {"name": cluster.name})
    if cluster.managing_organisation is None:
        raise ValidationError(_("record the organisation that runs %(name)s first: it answers for the profile")
                              % {"name": cluster.name}, field="cluster")
    if organisation is not None and organisation.pk != cluster.managing_organisation_id:
        raise ValidationError(_("%(cluster)s is run by %(name)s: choose it as the organisation, or no organisation")
                              % {"cluster": cluster.name, "name": cluster.managing_organisation.name},
                              field="organisation")
    return cluster


@transaction.atomic
def save_profile(*, user: User, organisation: Organisation | None, data: dict[str, Any],
                 profile: CooperationProfile | None = None) -> CooperationProfile:
    """Create a draft profile, or change one (a published profile stays published with the new text).

    With ``data["cluster"]`` the profile speaks for that cluster: only its managers (and the secretariat)
    may write it, and it belongs to the cluster organisation that runs the cluster (``organisation`` may
    then be left out).
    """
    if profile is not None:
        _require_profile_manager(user, profile)
    cluster = None
    if data.get("cluster"):
        cluster = _profile_cluster(user, data["cluster"], organisation)
        organisation = cluster.managing_organisation
    elif organisation is None:
        raise ValidationError(_("this field is required"), field="organisation")
    assert organisation is not None  # a cluster without a cluster organisation was refused above
    if cluster is None:
        _require_manager(user, organisation)
    if profile is not None and profile.organisation_id != organisation.pk:
        raise ValidationError(_("a profile cannot move to another organisation"), field="organisation")
    kind = data.get("kind")
    if kind not in ProfileKind.values:
        raise ValidationError(_("choose offer or request"), field="kind")
    title = _text(data, "title", limit=200)
    description = _text(data, "description", limit=5000)
    seeking = _choices(data.get("seeking"), Seeking.values, "seeking")
    if kind == ProfileKind.REQUEST and not seeking:
        raise ValidationError(_("say what the request looks for"), field="seeking")
    languages = _choices(data.get("languages"), LANGUAGE_CODES, "languages")
    sectors = _sectors(data.get("sectors"))
    regions = _regions(data.get("regions"))
    deadline = _date(data.get("deadline"), "deadline")
    if deadline is not None and deadline < timezone.localdate() and (profile is None or profile.deadline != deadline):
        raise ValidationError(_("the deadline has already passed"), field="deadline")
    profile = profile or CooperationProfile(organisation=organisation, created_by=user)
    profile.kind, profile.title, profile.description = kind, title, description
    profile.seeking, profile.languages = seeking, languages
    profile.cross_border = bool(data.get("cross_border"))
    profile.deadline, profile.cluster = deadline, cluster
    profile.save()
    profile.sectors.set(sectors)
    profile.regions.set(regions)
    if profile.status == ProfileStatus.PUBLISHED:
        link = reverse("cooperation:profile_detail", kwargs={"pk": profile.pk})
        notify(_followers(profile=profile), subject=_("Profile updated: %(title)s") % {"title": title},
               body=_("A profile you follow was updated."), link=link)
    return profile


def _publish_now(profile: CooperationProfile) -> None:
    lifetime = matching_settings().profile_lifetime_days
    now = timezone.now()
    profile.status = ProfileStatus.PUBLISHED
    profile.published_at = profile.published_at or now
    profile.expires_on = timezone.localdate() + dt.timedelta(days=lifetime)
    profile.review_reason = ""


@transaction.atomic
def publish_profile(*, user: User, profile: CooperationProfile) -> CooperationProfile:
    """Publish at once, or send for the secretariat's review when it asks to review profiles first."""
    _require_profile_manager(user, profile)
    if profile.status in (ProfileStatus.PUBLISHED, ProfileStatus.SUBMITTED):
        raise Conflict(_("this profile is already %(status)s") % {"status": profile.get_status_display()})
    link = reverse("cooperation:profile_detail", kwargs={"pk": profile.pk})
    if matching_settings().review_before_publication and not user.is_secretariat:
        profile.status = ProfileStatus.SUBMITTED
        profile.save(update_fields=["status", "updated_at"])
        notify(_secretariat(), subject=_("Profile to review: %(title)s") % {"title": profile.title},
               body=_("%(organisation)s asks to publish a cooperation profile.")
               % {"organisation": profile.cluster.name if profile.cluster else profile.organisation.name},
               link=link)
        return profile
    _publish_now(profile)
    profile.save()
    notify(_profile_owners(profile, profile.created_by), subject=_("Profile published: %(title)s")
           % {"title": profile.title}, body=_("Your profile is public until %(date)s.")
           % {"date": profile.expires_on}, link=link)
    return profile


@transaction.atomic
def review_profile(*, user: User, profile: CooperationProfile, approve: bool, reason: str = "") -> CooperationProfile:
    if not user.is_secretariat:
        raise PermissionDenied(_("only the secretariat reviews profiles"))
    if profile.status != ProfileStatus.SUBMITTED:
        raise Conflict(_("this profile is not waiting for review"))
    link = reverse("cooperation:profile_detail", kwargs={"pk": profile.pk})
    if approve:
        _publish_now(profile)
        subject = _("Profile published: %(title)s") % {"title": profile.title}
        body = _("The secretariat published your profile; it is public until %(date)s.") % {
            "date": profile.expires_on}
    else:
        reason = reason.strip()
        if not reason:
            raise ValidationError(_("say why the profile is returned"), field="reason")
        profile.status = ProfileStatus.RETURNED
        profile.review_reason = reason[:2000]
        subject = _("Profile returned: %(title)s") % {"title": profile.title}
        body = _("The secretariat returned your profile: %(reason)s") % {"reason": profile.review_reason}
    profile.save()
    notify(_profile_owners(profile, profile.created_by), subject=subject, body=body, link=link)
    return profile


@transaction.atomic
def renew_profile(*, user: User, profile: CooperationProfile) -> CooperationProfile:
    _require_profile_manager(user, profile)
    if profile.status != ProfileStatus.PUBLISHED:
        raise Conflict(_("only a published profile can be renewed"))
    profile.expires_on = timezone.localdate() + dt.timedelta(days=matching_settings().profile_lifetime_days)
    profile.renewed_at = timezone.now()
    profile.save(update_fields=["expires_on", "renewed_at", "updated_at"])
    link = reverse("cooperation:profile_detail", kwargs={"pk": profile.pk})
    notify(_followers(profile=profile), subject=_("Profile renewed: %(title)s") % {"title": profile.title},
           body=_("It stays public until %(date)s.") % {"date": profile.expires_on}, link=link)
    return profile


REMINDER_DAYS = 14


@transaction.atomic
def remind_expiring_profiles(*, days: int = REMINDER_DAYS, today: dt.date | None = None) -> list[CooperationProfile]:
    """Tell the managers of every published profile that expires within ``days`` that they can renew it.

    Each expiry date is reminded once (run it daily); a renewed profile is reminded again before its new
    expiry. Returns the profiles reminded now.
    """
    if not isinstance(days, int) or not 1 <= days <= 365:
        raise ValidationError(_("a whole number of days from 1 to 365 is required"), field="days")
    today = today or timezone.localdate()
    due = list(CooperationProfile.objects.filter(
        status=ProfileStatus.PUBLISHED, expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=days),
    ).exclude(reminded_for=models.F("expires_on")).select_related("organisation", "cluster", "created_by")
        .order_by("expires_on", "id"))
    for profile in due:
        notify(_profile_owners(profile, profile.created_by),
               subject=_("Profile expiring on %(date)s: %(title)s") % {"date": profile.expires_on,
                                                                       "title": profile.title},
               body=_("It leaves the public lists on that date unless you renew it on its page."),
               link=reverse("cooperation:profile_detail", kwargs={"pk": profile.pk}))
        profile.reminded_for = profile.expires_on
        profile.save(update_fields=["reminded_for"])
    return due


@transaction.atomic
def withdraw_profile(*, user: User, profile: CooperationProfile) -> CooperationProfile:
    _require_profile_manager(user, profile)
    if profile.status == ProfileStatus.WITHDRAWN:
        raise Conflict(_("this profile is already withdrawn"))
    profile.status = ProfileStatus.WITHDRAWN
    profile.save(update_fields=["status", "updated_at"])
    notify(_followers(profile=profile), subject=_("Profile withdrawn: %(title)s") % {"title": profile.title},
           body=_("A profile you follow was withdrawn."), link="")
    return profile


# --- procurement opportunities ----------------------------------------------------------------------------


def _opportunity_values(data: dict[str, Any], *, current: ProcurementOpportunity | None = None) -> dict[str, Any]:
    """Checked field values of an opportunity, the same for a new one and an edited one."""
    title = _text(data, "title", limit=200)
    description = _text(data, "description", limit=5000)
    how_to_answer = _text(data, "how_to_answer", limit=2000)
    value_band = data.get("value_band")
    if value_band not in ValueBand.values:
        raise ValidationError(_("choose a value band"), field="value_band")
    clauses = _choices(data.get("social_clauses"), SocialClause.values, "social_clauses")
    languages = _choices(data.get("languages"), LANGUAGE_CODES, "languages")
    sector = _sectors([data["sector"]], "sector")[0] if data.get("sector") else None
    region = _regions([data["region"]], "region")[0] if data.get("region") else None
    starts_on, ends_on = _date(data.get("starts_on"), "starts_on"), _date(data.get("ends_on"), "ends_on")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError(_("ends before it starts"), field="ends_on")
    deadline = _date(data.get("deadline"), "deadline", required=True)
    assert deadline is not None  # required=True raises instead
    # An edit may keep a deadline that has passed (to fix a typo after it), not set a new one in the past.
    if deadline < timezone.localdate() and (current is None or current.deadline != deadline):
        raise ValidationError(_("the deadline has already passed"), field="deadline")
    return {"title": title, "description": description, "sector": sector, "region": region, "starts_on": starts_on,
            "ends_on": ends_on, "deadline": deadline, "value_band": value_band, "social_clauses": clauses,
            "how_to_answer": how_to_answer, "languages": languages, "cross_border": bool(data.get("cross_border"))}


@transaction.atomic
def create_opportunity(*, user: User, buyer: Organisation, data: dict[str, Any]) -> ProcurementOpportunity:
    _require_manager(user, buyer)
    return ProcurementOpportunity.objects.create(buyer=buyer, created_by=user, **_opportunity_values(data))


@transaction.atomic
def update_opportunity(*, user: User, opportunity: ProcurementOpportunity,
                       data: dict[str, Any]) -> ProcurementOpportunity:
    """Change an open opportunity (its buyer's managers, with the checks of a new one); followers are told."""
    _require_manager(user, opportunity.buyer)
    if opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("this opportunity is %(status)s: it can no longer be changed")
                       % {"status": opportunity.get_status_display().lower()})
    if data.get("organisation") not in (None, "", opportunity.buyer_id):
        raise ValidationError(_("an opportunity cannot move to another buyer"), field="organisation")
    for name, value in _opportunity_values(data, current=opportunity).items():
        setattr(opportunity, name, value)
    opportunity.save()
    notify(_followers(opportunity=opportunity), subject=_("Opportunity updated: %(title)s")
           % {"title": opportunity.title}, body=_("An opportunity you follow was updated."),
           link=reverse("cooperation:opportunity_detail", kwargs={"pk": opportunity.pk}))
    return opportunity


def _end_opportunity(user: User, opportunity: ProcurementOpportunity, status: str) -> ProcurementOpportunity:
    _require_manager(user, opportunity.buyer)
    if opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("this opportunity is already %(status)s") % {"status": opportunity.get_status_display()
                                                                       .lower()})
    opportunity.status = status
    opportunity.save(update_fields=["status", "updated_at"])
    link = reverse("cooperation:opportunity_detail", kwargs={"pk": opportunity.pk})
    if status == OpportunityStatus.CLOSED:
        subject = _("Opportunity closed: %(title)s") % {"title": opportunity.title}
        body = _("The buyer takes no more answers.")
    else:
        subject = _("Opportunity withdrawn: %(title)s") % {"title": opportunity.title}
        body = _("The buyer withdrew it: nothing will be bought through it.")
    # Those waiting for an answer are told too, so no interest is left hanging without a word.
    waiting = [person for interest in opportunity.interests.filter(status=InterestStatus.PENDING)
               .select_related("organisation", "created_by")
               for person in _owners(interest.organisation, interest.created_by)]
    notify([*_followers(opportunity=opportunity), *waiting], subject=subject, body=body, link=link)
    return opportunity


@transaction.atomic
def close_opportunity(*, user: User, opportunity: ProcurementOpportunity) -> ProcurementOpportunity:
    """No more answers are taken (for example once a supplier is chosen); the page stays for the record."""
    return _end_opportunity(user, opportunity, OpportunityStatus.CLOSED)


@transaction.atomic
def withdraw_opportunity(*, user: User, opportunity: ProcurementOpportunity) -> ProcurementOpportunity:
    """The purchase is called off; the opportunity stays visible to its buyer and the secretariat only."""
    return _end_opportunity(user, opportunity, OpportunityStatus.WITHDRAWN)


# --- follows and interests --------------------------------------------------------------------------------


@transaction.atomic
def toggle_follow(*, user: User, profile: CooperationProfile | None = None,
                  opportunity: ProcurementOpportunity | None = None) -> bool:
    """Follow, or stop following; returns whether the user now follows."""
    existing = Follow.objects.filter(user=user, profile=profile, opportunity=opportunity)
    if existing.exists():
        existing.delete()
        return False
    Follow.objects.create(user=user, profile=profile, opportunity=opportunity)
    return True


@transaction.atomic
def express_interest(*, user: User, organisation: Organisation, message: str,
                     profile: CooperationProfile | None = None,
                     opportunity: ProcurementOpportunity | None = None) -> Interest:
    _require_manager(user, organisation)
    target_org = profile.organisation if profile else opportunity.buyer  # type: ignore[union-attr]
    if target_org.pk == organisation.pk:
        raise ValidationError(_("an organisation cannot answer its own profile"), field="organisation")
    if profile is not None and profile.status != ProfileStatus.PUBLISHED:
        raise Conflict(_("this profile is not published"))
    if opportunity is not None and opportunity.status != OpportunityStatus.OPEN:
        raise Conflict(_("this opportunity is closed"))
    message = _text({"message": message}, "message", limit=3000)
    if Interest.objects.filter(organisation=organisation, profile=profile, opportunity=opportunity,
                               status=InterestStatus.PENDING).exists():
        raise Conflict(_("%(name)s already expressed interest; wait for the answer") % {"name": organisation.name})
    interest = Interest.objects.create(organisation=organisation, profile=profile, opportunity=opportunity,
                                       message=message, created_by=user)
    link = reverse("cooperation:interest_detail", kwargs={"pk": interest.pk})
    title = interest.target.title
    owners = (_profile_owners(profile, profile.created_by) if profile
              else _owners(target_org, opportunity.created_by))  # type: ignore[union-attr]
    notify(owners, subject=_("New interest in %(title)s") % {"title": title},
           body=_("%(name)s wrote: %(message)s") % {"name": organisation.name, "message": message}, link=link)
    notify([user], subject=_("Interest sent: %(title)s") % {"title": title},
           body=_("%(owner)s will answer; you will be told.") % {"owner": target_org.name}, link=link)
    return interest


@transaction.atomic
def answer_interest(*, user: User, interest: Interest, accept: bool, answer: str = "") -> Interest:
    if interest.profile is not None:
        _require_profile_manager(user, interest.profile)
    else:
        _require_manager(user, interest.owner_organisation)
    if interest.status != InterestStatus.PENDING:
        raise Conflict(_("this interest was already answered"))
    answer = _text({"answer": answer}, "answer", limit=3000, required=False)
    interest.status = InterestStatus.ACCEPTED if accept else InterestStatus.DECLINED
    interest.answer, interest.answered_by, interest.answered_at = answer, user, timezone.now()
    interest.save()
    link = reverse("cooperation:interest_detail", kwargs={"pk": interest.pk})
    if accept:
        subject = _("Interest accepted: %(title)s") % {"title": interest.target.title}
        body = _("%(owner)s accepted. You can now see each other's contact details.") % {
            "owner": interest.owner_organisation.name}
    else:
        subject = _("Interest declined: %(title)s") % {"title": interest.target.title}
        body = _("%(owner)s declined.") % {"owner": interest.owner_organisation.name}
    if answer:
        body += "\n\n" + answer
    notify(_owners(interest.organisation, interest.created_by), subject=subject, body=body, link=link)
    return interest


@transaction.atomic
def mark_read(*, user: User, message: InboxMessage) -> None:
    if message.recipient_id != user.pk:
        raise PermissionDenied(_("this message is not yours"))
    message.read = True
    message.save(update_fields=["read"])


# --- contracts --------------------------------------------------------------------------------------------


@transaction.atomic
def record_contract(*, user: User, data: dict[str, Any]) -> Contract:
    """Record a contract; the buyer's or the supplier's managers (or the secretariat) may."""
    def organisation(field: str) -> Organisation:
        try:
            return Organisation.objects.get(pk=int(data.get(field) or 0))
        except (Organisation.DoesNotExist, TypeError, ValueError):
            raise ValidationError(_("unknown organisation"), field=field) from None

    buyer, supplier = organisation("buyer"), organisation("supplier")
    if buyer.pk == supplier.pk:
        raise ValidationError(_("the buyer and the supplier must differ"), field="supplier")
    if not (manages(user, buyer) or manages(user, supplier)):
        raise PermissionDenied(_("only the buyer's or the supplier's managers may record this contract"))
    value_band = data.get("value_band")
    if value_band not in ValueBand.values:
        raise ValidationError(_("choose a value band"), field="value_band")
    signed_on = _date(data.get("signed_on"), "signed_on", required=True)
    assert signed_on is not None  # required=True raises instead
    if signed_on > timezone.localdate():
        raise ValidationError(_("the date is in the future"), field="signed_on")
    clauses = _choices(data.get("social_clauses_met"), SocialClause.values, "social_clauses_met")
    sector = _sectors([data["sector"]], "sector")[0] if data.get("sector") else supplier.primary_nace
    cluster = None
    if data.get("cluster"):
        cluster = Cluster.objects.filter(pk=data["cluster"]).first()
        if cluster is None:
            raise ValidationError(_("unknown cluster"), field="cluster")
    interest = None
    if data.get("interest"):
        interest = Interest.objects.filter(pk=data["interest"], status=InterestStatus.ACCEPTED).first()
        if interest is None:
            raise ValidationError(_("no accepted interest with this number"), field="interest")
        if cluster is None and interest.profile is not None and interest.profile.cluster_id is not None:
            # It came through a cluster's profile: the cluster brokered it, and its figures should say so.
            cluster = interest.profile.cluster
    contract = Contract.objects.create(buyer=buyer, supplier=supplier, value_band=value_band, signed_on=signed_on,
                                       social_clauses_met=clauses, sector=sector, cluster=cluster,
                                       interest=interest, recorded_by=user)
    other = supplier if manages(user, buyer) else buyer
    notify(_owners(other), subject=_("Contract recorded between %(buyer)s and %(supplier)s")
           % {"buyer": buyer.name, "supplier": supplier.name},
           body=_("%(user)s recorded a contract of %(band)s signed on %(date)s.")
           % {"user": user.get_username(), "band": contract.get_value_band_display(), "date": signed_on},
           link=reverse("cooperation:procurement"))
    return contract
