"""Writes to the registry: manual entries, profile changes and their validation, admission
exemptions and duplicate decisions. Imports live in ``imports.py``; reference data in ``refdata.py``.

Every function takes keyword-only arguments, validates first, changes state inside one
transaction and raises ``socialclusters.errors`` exceptions.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core import exceptions as django_exceptions
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.registry import selectors
from socialclusters.registry.models import (
    ChangeStatus,
    Cluster,
    DuplicateCandidate,
    DuplicateStatus,
    Organisation,
    ProfileChange,
    PublicationStatus,
    Source,
    SourceKind,
    SourceRecord,
)
from socialclusters.registry.normalise import organisation_search_text

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

# What a manager may change on a profile; everything else is the secretariat's (through the admin).
CLUSTER_EDITABLE_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "themes",
    "city",
    "website",
    "website_in_english",
    "management_fte",
    "founded_year",
    "public_support",
    "receives_public_support",
    "tracks_impact",
    "declared_member_types",
)
ORGANISATION_EDITABLE_FIELDS: tuple[str, ...] = (
    "name",
    "alt_names",
    "address",
    "postcode",
    "city",
    "website",
    "size_band",
    "founded",
)


def cluster_search_text(cluster: Cluster) -> str:
    parts = [cluster.name, cluster.type_as_described, cluster.city, " ".join(cluster.themes or [])]
    return " ".join(p for p in parts if p).lower()


# --- validation of proposed values ----------------------------------------------------------


def _clean_values(instance: Organisation | Cluster, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Check proposed values against the model's own field rules; return them JSON-ready."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(f"cannot be changed here (allowed: {', '.join(allowed)})", field=unknown[0])
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        model_field = instance._meta.get_field(name)
        try:
            python_value = model_field.clean(value, instance)  # type: ignore[union-attr]
        except django_exceptions.ValidationError as exc:
            raise ValidationError("; ".join(exc.messages), field=name) from None
        cleaned[name] = python_value
    # Round-trip through JSON so what is stored is exactly what will be applied later.
    return json.loads(json.dumps(cleaned, cls=DjangoJSONEncoder))


def _apply_values(instance: Organisation | Cluster, data: dict[str, Any]) -> None:
    for name, value in data.items():
        model_field = instance._meta.get_field(name)
        setattr(instance, name, model_field.to_python(value))  # type: ignore[union-attr]
    if isinstance(instance, Organisation):
        instance.search_text = organisation_search_text(
            name=instance.name, alt_names=instance.alt_names, city=instance.city, domain=instance.domain
        )
    else:
        instance.search_text = cluster_search_text(instance)
    instance.full_clean(exclude=["search_text"], validate_unique=False, validate_constraints=False)
    instance.save()


def _record_manual_source(*, instance: Organisation | Cluster, user: User, note: str) -> None:
    source = Source.objects.create(kind=SourceKind.MANUAL, name=_("Manual entry"), entered_by=user,
                                   retrieved_at=timezone.now(), note=note)
    SourceRecord.objects.create(
        source=source,
        organisation=instance if isinstance(instance, Organisation) else None,
        cluster=instance if isinstance(instance, Cluster) else None,
        recorded_by=user,
    )


# --- profile changes ------------------------------------------------------------------------


def _target_is_published(target: Organisation | Cluster) -> bool:
    # Organisations in the registry are public as soon as they are there.
    return not isinstance(target, Cluster) or target.publication_status == PublicationStatus.PUBLISHED


def propose_change(*, user: User, target: Organisation | Cluster, data: dict[str, Any]) -> ProfileChange:
    """A manager's edit. Drafts change at once; a published profile's edit waits for validation."""
    if isinstance(target, Cluster):
        allowed, may_edit = CLUSTER_EDITABLE_FIELDS, selectors.can_edit_cluster(user, target)
    else:
        allowed, may_edit = ORGANISATION_EDITABLE_FIELDS, selectors.can_edit_organisation(user, target)
    if not may_edit:
        raise PermissionDenied(f"{user} does not manage '{target}'")
    changed = {k: v for k, v in data.items() if k not in allowed or getattr(target, k) != v}
    cleaned = _clean_values(target, changed, allowed)
    current = json.loads(json.dumps({k: getattr(target, k) for k in cleaned}, cls=DjangoJSONEncoder))
    cleaned = {k: v for k, v in cleaned.items() if current[k] != v}
    if not cleaned:
        raise ValidationError(_("Nothing to change: the proposed values equal the current ones."), field="data")
    with transaction.atomic():
        change = ProfileChange(
            organisation=target if isinstance(target, Organisation) else None,
            cluster=target if isinstance(target, Cluster) else None,
            data=cleaned,
            author=user,
        )
        if _target_is_published(target) and not user.is_secretariat:
            change.status = ChangeStatus.SUBMITTED
            change.submitted_at = timezone.now()
            change.save()
            transaction.on_commit(lambda: _notify_secretariat(change))
        else:
            _apply_values(target, cleaned)
            _record_manual_source(instance=target, user=user, note=_("Direct edit by a manager or the secretariat"))
            change.status = ChangeStatus.VALIDATED
            change.decided_at = change.submitted_at = timezone.now()
            change.decided_by = user
            change.save()
    return change


def _locked_submitted(change: ProfileChange) -> ProfileChange:
    locked = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if locked.status != ChangeStatus.SUBMITTED:
        raise Conflict(f"change #{change.pk} is {locked.get_status_display().lower()}, not waiting for validation")
    return locked


def validate_change(*, user: User, change: ProfileChange) -> ProfileChange:
    """The secretariat accepts a submitted change: the values reach the profile, the author is told."""
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat validates profile changes")
    with transaction.atomic():
        change = _locked_submitted(change)
        target = change.target
        _apply_values(target, change.data)
        _record_manual_source(instance=target, user=change.author,
                              note=_("Profile change #%(id)s validated by %(user)s") % {"id": change.pk, "user": user})
        change.status = ChangeStatus.VALIDATED
        change.decided_at = timezone.now()
        change.decided_by = user
        change.save()
        transaction.on_commit(lambda: _notify_author(change))
    return change


def return_change(*, user: User, change: ProfileChange, reason: str) -> ProfileChange:
    """The secretariat sends a change back with a reason; the profile stays as it was."""
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat returns profile changes")
    if not reason.strip():
        raise ValidationError(_("Say why the change is returned, so that its author can fix it."), field="reason")
    with transaction.atomic():
        change = _locked_submitted(change)
        change.status = ChangeStatus.RETURNED
        change.return_reason = reason.strip()
        change.decided_at = timezone.now()
        change.decided_by = user
        change.save()
        transaction.on_commit(lambda: _notify_author(change))
    return change


def _notify_secretariat(change: ProfileChange) -> None:
    from socialclusters.accounts.models import Role, User

    recipients = list(
        User.objects.filter(role=Role.SECRETARIAT, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    if recipients:
        send_mail(
            _("Profile change to validate: %(target)s") % {"target": change.target},
            _("%(author)s proposes a change to %(target)s. Review it on the validation page.")
            % {"author": change.author, "target": change.target},
            None,
            recipients,
        )


def _notify_author(change: ProfileChange) -> None:
    if not change.author.email:
        return
    if change.status == ChangeStatus.VALIDATED:
        subject = _("Your change to %(target)s is validated") % {"target": change.target}
        body = _("The secretariat validated your change to %(target)s; it is now public.") % {"target": change.target}
    else:
        subject = _("Your change to %(target)s was returned") % {"target": change.target}
        body = _("The secretariat returned your change to %(target)s with this reason:\n\n%(reason)s") % {
            "target": change.target,
            "reason": change.return_reason,
        }
    send_mail(subject, body, None, [change.author.email])


# --- secretariat decisions ------------------------------------------------------------------


def grant_admission_exemption(*, user: User, cluster: Cluster, reason: str) -> Cluster:
    """Exempt a cluster from the admission checks (for example a recognised social economy cluster)."""
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat grants exemptions")
    if not reason.strip():
        raise ValidationError(_("State the reason for the exemption."), field="reason")
    with transaction.atomic():
        cluster.admission_exempt = True
        cluster.admission_exemption_reason = reason.strip()
        cluster.admission_exempted_by = user
        cluster.admission_exempted_at = timezone.now()
        cluster.save()
    return cluster


def revoke_admission_exemption(*, user: User, cluster: Cluster) -> Cluster:
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat revokes exemptions")
    with transaction.atomic():
        cluster.admission_exempt = False
        cluster.admission_exemption_reason = ""
        cluster.admission_exempted_by = None
        cluster.admission_exempted_at = None
        cluster.save()
    return cluster


def set_publication_status(*, user: User, cluster: Cluster, status: str) -> Cluster:
    """Publish, withdraw or return a cluster to draft (the secretariat's admin actions)."""
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat publishes or withdraws clusters")
    if status not in PublicationStatus.values:
        raise ValidationError(f"unknown publication status '{status}'", field="status")
    with transaction.atomic():
        cluster.publication_status = status
        cluster.save()  # one save per cluster, so that the history records who changed what
    return cluster


def decide_duplicate(*, user: User, candidate: DuplicateCandidate, merge: bool) -> DuplicateCandidate:
    """Merge ``second`` into ``first`` (memberships, sources, names), or record that they differ."""
    if not user.is_secretariat:
        raise PermissionDenied("only the secretariat decides on duplicates")
    with transaction.atomic():
        candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.status != DuplicateStatus.OPEN:
            raise Conflict(f"this pair was already decided ({candidate.get_status_display().lower()})")
        if merge:
            if candidate.second is None:
                raise Conflict("the second organisation no longer exists")
            candidate.second_name = candidate.second.name
            _merge_organisations(keep=candidate.first, drop=candidate.second)
            candidate.second = None
            candidate.status = DuplicateStatus.MERGED
        else:
            candidate.status = DuplicateStatus.DISMISSED
        candidate.decided_by = user
        candidate.decided_at = timezone.now()
        candidate.save()
    return candidate


def _merge_organisations(*, keep: Organisation, drop: Organisation) -> None:
    names = [*keep.alt_names]
    for name in [drop.name, *drop.alt_names]:
        if name and name != keep.name and name not in names:
            names.append(name)
    keep.alt_names = names
    for field_name in ("website", "domain", "address", "postcode", "city", "latitude", "longitude", "region",
                       "primary_nace", "legal_form", "founded", "size_band"):
        if not getattr(keep, field_name) and getattr(drop, field_name):
            setattr(keep, field_name, getattr(drop, field_name))
    keep.search_text = organisation_search_text(name=keep.name, alt_names=keep.alt_names, city=keep.city,
                                                domain=keep.domain)
    keep.save()
    for membership in drop.memberships.all():
        if not keep.memberships.filter(cluster=membership.cluster, role=membership.role).exists():
            membership.organisation = keep
            membership.save()
    drop.source_records.update(organisation=keep)
    keep.managers.add(*drop.managers.all())
    keep.secondary_nace.add(*drop.secondary_nace.all())
    # Other open pairs naming the dropped organisation go with it (cascade); the kept one stays listed.
    drop.delete()
