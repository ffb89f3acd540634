"""Meetings at events: registration, meeting requests and answers, the schedule (a mixed-integer program), agendas as
email and iCalendar. Writes validate first, run in one transaction and raise ``socialclusters.errors``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import icalendar
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from socialclusters.analysis.scheduling import Schedule, schedule_meetings
from socialclusters.cooperation.models import (
    Event,
    InterestStatus,
    MeetingRequest,
    Participant,
    ScheduleBuild,
    ScheduledMeeting,
    SuggestionOptOut,
)
from socialclusters.cooperation.services import manages, notify
from socialclusters.errors import Conflict, NotFound, PermissionDenied, ValidationError
from socialclusters.registry.exports import Column, csv_chunks
from socialclusters.registry.models import Organisation
from socialclusters.tasks import TaskState, claim, pending_in

if TYPE_CHECKING:
    from socialclusters.accounts.models import User

MAX_SLOTS, MAX_TABLES = 96, 1000
SCHEDULE_SECONDS = 60.0


def can_organise(user: User | None, event: Event | None = None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_secretariat:
        return True
    if event is not None:
        return event.organiser_id == user.pk
    return user.role == "cluster_manager"


def event_detail(pk: int) -> Event:
    event = Event.objects.filter(pk=pk).first()
    if event is None:
        raise NotFound(_("no event %(pk)d") % {"pk": pk})
    return event


def slot_times(event: Event) -> list[tuple[dt.datetime, dt.datetime]]:
    step = dt.timedelta(minutes=event.slot_minutes)
    return [(event.first_slot_at + i * step, event.first_slot_at + (i + 1) * step) for i in range(event.slots)]


@transaction.atomic
def create_event(*, user: User, data: dict[str, Any]) -> Event:
    if not can_organise(user):
        raise PermissionDenied(_("only cluster managers and the secretariat organise events"))
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationError(_("this field is required"), field="title")
    venue = str(data.get("venue") or "").strip()
    if not venue:
        raise ValidationError(_("this field is required"), field="venue")
    first = data.get("first_slot_at")
    if not isinstance(first, dt.datetime):
        raise ValidationError(_("a date and time is required"), field="first_slot_at")
    for name, top in (("slots", MAX_SLOTS), ("tables", MAX_TABLES), ("slot_minutes", 240)):
        value = data.get(name)
        if not isinstance(value, int) or not 1 <= value <= top:
            raise ValidationError(_("a whole number from 1 to %(top)d") % {"top": top}, field=name)
    return Event.objects.create(title=title, description=str(data.get("description") or ""), venue=venue,
                                first_slot_at=first, slot_minutes=data["slot_minutes"], slots=data["slots"],
                                tables=data["tables"], organiser=user)


@transaction.atomic
def register(*, user: User, event: Event, organisation: Organisation | None, available_slots: list[int]) -> Participant:
    if event.scheduled_at is not None:
        raise Conflict(_("the schedule is built: registration is closed"))
    if organisation is not None and not manages(user, organisation):
        raise ValidationError(_("you do not represent this organisation"), field="organisation")
    slots = sorted(set(available_slots))
    if not slots:
        raise ValidationError(_("choose at least one slot"), field="available_slots")
    if any(not 0 <= s < event.slots for s in slots):
        raise ValidationError(_("unknown slot"), field="available_slots")
    participant, _created = Participant.objects.update_or_create(
        event=event, user=user, defaults={"organisation": organisation, "available_slots": slots})
    return participant


def participant_of(user: User, event: Event) -> Participant | None:
    if not user.is_authenticated:
        return None
    return Participant.objects.filter(event=event, user=user).select_related("organisation").first()


def suggested_participants(participant: Participant, *, k: int = 20) -> list[tuple[Participant, float]]:
    """Other participants, best partners first (the matchmaker's score of their organisations)."""
    from socialclusters.cooperation.selectors import match_index

    others = list(Participant.objects.filter(event=participant.event).exclude(pk=participant.pk)
                  .select_related("user", "organisation"))
    opted_out = set(SuggestionOptOut.objects.values_list("organisation_id", flat=True))
    others = [o for o in others if o.organisation_id not in opted_out]
    if participant.organisation_id is None or participant.organisation_id in opted_out:
        return [(o, 0.0) for o in others][:k]
    index = match_index()
    query = index.query_for(participant.organisation_id)
    placed = [o for o in others if o.organisation_id is not None]
    positions = index._position.get_indexer([o.organisation_id for o in placed])
    scores = dict(zip([o.pk for o in placed], index.score_positions(query, positions), strict=True)) if placed else {}
    ranked = sorted(others, key=lambda o: (-scores.get(o.pk, 0.0), o.pk))
    return [(o, float(scores.get(o.pk, 0.0))) for o in ranked][:k]


@transaction.atomic
def request_meeting(*, user: User, event: Event, invitee_id: int, message: str = "") -> MeetingRequest:
    me = participant_of(user, event)
    if me is None:
        raise PermissionDenied(_("register for the event first"))
    invitee = Participant.objects.filter(event=event, pk=invitee_id).select_related("user").first()
    if invitee is None or invitee.pk == me.pk:
        raise ValidationError(_("choose another participant"), field="invitee")
    if event.scheduled_at is not None:
        raise Conflict(_("the schedule is built: no more requests"))
    if MeetingRequest.objects.filter(requester=me, invitee=invitee).exists() or MeetingRequest.objects.filter(
            requester=invitee, invitee=me).exists():
        raise Conflict(_("a meeting with this person is already requested"))
    meeting = MeetingRequest.objects.create(event=event, requester=me, invitee=invitee, message=message[:500])
    notify([invitee.user], subject=_("Meeting request at %(event)s") % {"event": event.title},
           body=_("%(name)s would like to meet you.") % {"name": user.get_full_name() or user.get_username()},
           link=reverse("cooperation:event_detail", kwargs={"pk": event.pk}))
    return meeting


@transaction.atomic
def answer_meeting(*, user: User, meeting: MeetingRequest, accept: bool) -> MeetingRequest:
    if meeting.invitee.user_id != user.pk:
        raise PermissionDenied(_("only the person invited answers"))
    if meeting.status != InterestStatus.PENDING:
        raise Conflict(_("this request was already answered"))
    meeting.status = InterestStatus.ACCEPTED if accept else InterestStatus.DECLINED
    meeting.save(update_fields=["status"])
    notify([meeting.requester.user], subject=_("Meeting %(answer)s at %(event)s")
           % {"answer": _("accepted") if accept else _("declined"), "event": meeting.event.title},
           body=_("%(name)s answered your request.") % {"name": user.get_username()},
           link=reverse("cooperation:event_detail", kwargs={"pk": meeting.event_id}))
    return meeting


def agenda(participant: Participant) -> QuerySet[ScheduledMeeting]:
    return ScheduledMeeting.objects.filter(event=participant.event).filter(
        request__requester=participant) | ScheduledMeeting.objects.filter(
        event=participant.event, request__invitee=participant)


def agenda_ics(participant: Participant) -> bytes:
    """The participant's meetings as an iCalendar file."""
    event = participant.event
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//socialclusters//meetings//EN")
    calendar.add("version", "2.0")
    times = slot_times(event)
    for meeting in agenda(participant).select_related("request__requester__user", "request__invitee__user",
                                                      "request__requester__organisation",
                                                      "request__invitee__organisation").order_by("slot"):
        other = meeting.request.invitee if meeting.request.requester_id == participant.pk else meeting.request.requester
        who = other.organisation.name if other.organisation else other.user.get_username()
        item = icalendar.Event()
        item.add("uid", f"meeting-{meeting.pk}-event-{event.pk}@socialclusters")
        item.add("summary", _("Meeting with %(who)s") % {"who": who})
        item.add("dtstart", times[meeting.slot][0])
        item.add("dtend", times[meeting.slot][1])
        item.add("dtstamp", timezone.now())
        item.add("location", _("%(venue)s, table %(table)d") % {"venue": event.venue, "table": meeting.table + 1})
        calendar.add_component(item)
    return calendar.to_ical()


# --- the organiser's schedule -----------------------------------------------------------------------------


def scheduled_meetings(event: Event) -> QuerySet[ScheduledMeeting]:
    """Every meeting of an event's schedule, by slot then table, with both people and their organisations."""
    return event.scheduled_meetings.select_related(
        "request__requester__user", "request__invitee__user", "request__requester__organisation",
        "request__invitee__organisation").order_by("slot", "table")


def person_summary(participant: Participant) -> dict[str, Any]:
    user, organisation = participant.user, participant.organisation
    name = user.get_full_name() or user.get_username()
    return {"participant": participant.pk, "name": name,
            "organisation": {"id": organisation.pk, "name": organisation.name, "country": organisation.country_id}
            if organisation else None,
            "label": f"{name} ({organisation.name})" if organisation else name}


def schedule_rows(event: Event) -> list[dict[str, Any]]:
    """The printable schedule: for every meeting its slot (from 1) and times, its table (from 1) and both
    people (the one who asked first). The page and the API read the same rows."""
    times = slot_times(event)
    return [{"slot": m.slot + 1, "start": times[m.slot][0], "end": times[m.slot][1], "table": m.table + 1,
             "first": person_summary(m.request.requester), "second": person_summary(m.request.invitee)}
            for m in scheduled_meetings(event)]


def schedule_csv(event: Event) -> Iterator[str]:
    """The schedule as CSV (one meeting a line), written with the registry's CSV rules."""
    times = slot_times(event)

    def side(meeting: ScheduledMeeting, first: bool) -> Participant:
        return meeting.request.requester if first else meeting.request.invitee

    def columns_of(prefix: str, first: bool) -> tuple[Column, ...]:
        return (
            Column(f"{prefix}_participant", lambda m: side(m, first).pk),
            Column(f"{prefix}_name", lambda m: person_summary(side(m, first))["name"]),
            Column(f"{prefix}_organisation_id", lambda m: side(m, first).organisation_id),
            Column(f"{prefix}_organisation",
                   lambda m: (person_summary(side(m, first))["organisation"] or {}).get("name")),
        )

    columns = (
        Column("slot", lambda m: m.slot + 1),
        Column("start", lambda m: times[m.slot][0].isoformat()),
        Column("end", lambda m: times[m.slot][1].isoformat()),
        Column("table", lambda m: m.table + 1),
        *columns_of("first", True),
        *columns_of("second", False),
    )
    return csv_chunks(scheduled_meetings(event), columns)


SCHEDULE_CSV_COLUMNS = ("slot", "start", "end", "table", "first_participant", "first_name",
                        "first_organisation_id", "first_organisation", "second_participant", "second_name",
                        "second_organisation_id", "second_organisation")


def pending_build(event: Event, now: dt.datetime | None = None) -> ScheduleBuild | None:
    """The event's schedule build still queued or running (and not abandoned, see ``socialclusters.tasks``), if any.

    Solving takes at most SCHEDULE_SECONDS, far less than the time after which a build counts as abandoned.
    """
    return pending_in(ScheduleBuild.objects.filter(event=event), now=now)


def latest_build(event: Event) -> ScheduleBuild | None:
    """The event's most recent schedule build, whatever its state."""
    return ScheduleBuild.objects.filter(event=event).order_by("-created_at", "-pk").first()


def build_schedule(*, user: User, event: Event, time_limit: float = SCHEDULE_SECONDS) -> ScheduleBuild:
    """Queue the building of the event's schedule: place as many accepted requests as possible, replace any earlier
    schedule, send each person their agenda.

    The build is kept at once (state ``queued``) and run by the task ``cooperation.tasks.build_schedule``
    (``execute_build``). With the immediate task backend it is done before this returns; with a queue, a worker
    runs it and the event's pages follow its state. Who may build, and whether there is anything to schedule,
    are checked here, before anything is kept; a second build is refused while one is under way.
    """
    from socialclusters.cooperation import tasks

    if not can_organise(user, event):
        raise PermissionDenied(_("only the organiser builds the schedule"))
    with transaction.atomic():
        # The event's row lock keeps two clicks from both passing the check for a build under way.
        event = Event.objects.select_for_update().get(pk=event.pk)
        if pending_build(event) is not None:
            raise Conflict(_("the schedule of this event is already being built: wait for it"))
        if not MeetingRequest.objects.filter(event=event, status=InterestStatus.ACCEPTED).exists():
            raise Conflict(_("no accepted meeting request to schedule"))
        build = ScheduleBuild.objects.create(event=event, created_by=user, time_limit=time_limit,
                                             state=TaskState.QUEUED, progress=_("Waiting for a worker"))
    # Enqueued after the build's own transaction, so that a worker in another process can find it.
    build.enqueue(tasks.build_schedule)
    return build


def execute_build(build_id: int) -> ScheduleBuild | None:
    """Run a queued build (the task's body): solve, replace the schedule, send the agendas.

    Returns the build, or None when there is nothing to do (the build was deleted, or another worker took it).
    The build ends ``done``, or ``failed`` with the error. The solver runs outside any transaction (up to a minute);
    the schedule is replaced, and the agendas sent, in one transaction once it is found.
    """
    with transaction.atomic():
        build = claim(ScheduleBuild.objects.select_related("event"), build_id)
        if build is None:
            return None
        if ScheduleBuild.objects.filter(event_id=build.event_id, pk__gt=build.pk).exists():
            # Taken as abandoned, then replaced by a later build: running it now would send a second set of agendas.
            return build.fail(_("a later build of this schedule replaced this one"))
        build.start(_("Reading the accepted requests"))
    event = build.event
    try:
        accepted = list(MeetingRequest.objects.filter(event=event, status=InterestStatus.ACCEPTED)
                        .select_related("requester", "invitee"))
        if not accepted:
            return build.fail(_("no accepted meeting request to schedule"))
        participants = {p.pk: p for p in Participant.objects.filter(event=event).select_related("user")}
        build.report(_("Placing %(count)d accepted meetings (at most %(seconds)s s)")
                     % {"count": len(accepted), "seconds": f"{build.time_limit:g}"})
        plan = schedule_meetings([(m.requester_id, m.invitee_id) for m in accepted], slots=event.slots,
                                 tables=event.tables,
                                 availability={pk: p.available_slots for pk, p in participants.items()},
                                 time_limit=build.time_limit)
        build.report(_("Saving the schedule and sending the agendas"))
        with transaction.atomic():
            _save_schedule(event, accepted, participants, plan)
            build.finish()
    except (ValueError, TypeError) as exc:
        return build.fail(str(exc))
    except Exception:
        build.fail(_("The schedule stopped on an unexpected error; the site's administrators can see it in the "
                     "log."))
        raise
    return build


def _save_schedule(event: Event, accepted: list[MeetingRequest], participants: dict[int, Participant],
                   plan: Schedule) -> None:
    ScheduledMeeting.objects.filter(event=event).delete()
    ScheduledMeeting.objects.bulk_create([ScheduledMeeting(event=event, request=accepted[m.request], slot=m.slot,
                                                           table=m.table) for m in plan.meetings])
    event.scheduled_at, event.schedule_status, event.schedule_gap = timezone.now(), plan.status, plan.gap
    event.save(update_fields=["scheduled_at", "schedule_status", "schedule_gap"])
    link = reverse("cooperation:event_agenda", kwargs={"pk": event.pk})
    for participant in participants.values():
        count = agenda(participant).count()
        notify([participant.user], subject=_("Your agenda at %(event)s") % {"event": event.title},
               body=_("%(count)d meetings are scheduled for you; the calendar file is attached.") % {"count": count},
               link=link)
        if participant.user.email:
            email = EmailMessage(_("Your agenda at %(event)s (calendar)") % {"event": event.title},
                                 _("Your meetings, to import into your calendar."), None, [participant.user.email])
            email.attach(f"agenda-{event.pk}.ics", agenda_ics(participant), "text/calendar")
            transaction.on_commit(email.send)
