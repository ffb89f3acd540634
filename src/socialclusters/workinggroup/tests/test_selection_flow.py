"""The selection in the web app and on the command line: run, locks, re-run, decision, emails, invitations;
and the founding document's plan replayed from the call to the decisions sent."""

from __future__ import annotations

import datetime
import json
import random
import zoneinfo
from collections import Counter

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from socialclusters import errors
from socialclusters.accounts.models import Role, User
from socialclusters.workinggroup import services
from socialclusters.workinggroup.models import Application, Lock, Outcome, SelectionDecision
from socialclusters.workinggroup.tests.factories import MOTIVATION, data

pytestmark = pytest.mark.django_db
BASE = "https://wg.example.org"
BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
AREAS = ["cluster policy", "social innovation", "public procurement", "impact measurement", "finance",
         "rural development", "cross-border cooperation", "digital platforms"]
REQUIRED = ["public procurement", "impact measurement", "rural development", "cross-border cooperation"]
COUNTRIES = ["BE", "FR", "IT", "ES", "RO", "DE", "PL", "PT", "SE", "AT", "NL", "IE", "EL", "HR"]


def test_the_secretariat_runs_locks_reruns_decides_and_sends(world, client):
    secretariat = world.users["secretariat"]
    client.force_login(secretariat)
    url = reverse("workinggroup:selection", args=[world.call.slug])
    rules = {"seats_min": "1", "seats_max": "1", "max_per_country": "2", "weight_score": "1", "weight_area": "25",
             "weight_type": "20", "weight_country": "10", "weight_gender": "10"}
    assert client.post(url, rules).status_code == 302
    run = world.call.selection_runs.order_by("-pk").first()
    assert run.status == "optimal"
    assert run.result["selected"] == [world.application.pk]  # it covers two areas
    page = client.get(url)
    assert "Proven optimal" in page.content.decode()
    assert world.other.name in page.content.decode()  # left out, with a reason
    client.post(reverse("workinggroup:application_lock", args=[world.other.pk]), {"lock": "in"})
    client.post(url, rules)
    rerun = world.call.selection_runs.order_by("-pk").first()
    assert rerun.result["selected"] == [world.other.pk]
    assert "locked in by the secretariat" in rerun.result["contributions"][0]["adds"]
    # An older run cannot become the decision.
    with pytest.raises(errors.Conflict):
        services.record_decision(user=secretariat, run=run, rationale="Old run.")
    response = client.post(reverse("workinggroup:decide", args=[world.call.slug]),
                           {"run": rerun.pk, "rationale": "The secretariat wants France represented."})
    assert response.status_code == 302
    world.application.refresh_from_db()
    world.other.refresh_from_db()
    assert world.other.outcome == Outcome.SELECTED
    assert world.application.outcome == Outcome.RESERVE
    assert world.application.reserve_rank == 1
    # After the decision, locks and runs are closed.
    with pytest.raises(errors.Conflict):
        services.set_lock(user=secretariat, application=world.application, lock=Lock.IN)
    with pytest.raises(errors.Conflict):
        services.run_selection(user=secretariat, call=world.call)
    # The secretariat edits an email, then sends every decision.
    emails = reverse("workinggroup:decision_emails", args=[world.call.slug])
    bad = client.post(emails, {"outcome": "reserve", "reserve-subject": "Reserve $nmae", "reserve-body": "Hi"})
    assert bad.status_code == 400
    assert "unknown placeholder $nmae" in bad.content.decode()
    ok = client.post(emails, {"outcome": "reserve", "reserve-subject": "Reserve list for $call",
                              "reserve-body": "Dear $name, you are number $reserve_rank."})
    assert ok.status_code == 302
    mail.outbox.clear()
    assert client.post(reverse("workinggroup:send_decisions", args=[world.call.slug])).status_code == 302
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {world.application.email, world.other.email}
    assert by_recipient[world.application.email].body == f"Dear {world.application.name}, you are number 1.\n"
    welcome = by_recipient[world.other.email]
    assert "selected" in welcome.body
    world.other.refresh_from_db()
    member = world.other.member
    assert member is not None
    assert member.role == Role.MEMBER
    assert not member.has_usable_password()
    link = next(line for line in welcome.body.splitlines() if "/accounts/password-reset/" in line)
    assert client.get(link.removeprefix(BASE), follow=True).status_code == 200
    # Sending again tells nobody twice.
    mail.outbox.clear()
    assert services.send_decisions(user=secretariat, call=world.call, base_url=BASE) == 0
    assert mail.outbox == []
    assert SelectionDecision.objects.get(call=world.call).notified_at is not None


def _motivation(rng: random.Random) -> str:
    return MOTIVATION + rng.choice(["Cooperatives.", "Clusters.", "Procurement.", "Rural areas."])


def test_the_founding_plan_from_the_call_to_the_decisions(secretariat, make_user):
    """The founding document's plan: a call closing on 15 January 2019, forty applications (one late, refused),
    two reviewers, a group of 15–20 covering every required area, an email to every applicant, meetings on
    7 March (Brussels), 14–15 May (a conference in Romania) and 2 July (Brussels) plus a webinar, two validated
    contributions, the progress report for the autumn plenary (HTML and PDF) and the continuation decision."""
    rng = random.Random(2019)
    call = services.create_call(
        user=secretariat, title="Expert working group on social economy clusters", slug="founding-call",
        description="A call for motivated expressions of interest.", eligibility="Experts in Europe.",
        deadline=datetime.datetime(2019, 1, 15, 23, 59), time_zone="Europe/Brussels", seats_min=15, seats_max=20,
        expertise_areas=AREAS, required_areas=REQUIRED, languages=["en", "fr"], max_per_country=2,
        privacy_notice="Applications not selected are anonymised a year after the decision.", published=True,
        motivation_min_length=200,
        meetings=[
            services.MeetingPlan("Constitutive meeting", datetime.date(2019, 3, 7), "Brussels", constitutive=True),
            services.MeetingPlan("Cluster conference", datetime.date(2019, 5, 14), "Romania",
                                 end_date=datetime.date(2019, 5, 15)),
            services.MeetingPlan("Third meeting", datetime.date(2019, 7, 2), "Brussels"),
        ])
    assert call.deadline == datetime.datetime(2019, 1, 15, 23, 59, tzinfo=BRUSSELS)
    meetings = list(call.planned_meetings.all())
    submitted = datetime.datetime(2019, 1, 2, 9, 0, tzinfo=BRUSSELS)
    for n in range(39):
        areas = rng.sample(AREAS, rng.randint(1, 3))
        services.submit_application(
            call=call, base_url=BASE, now=submitted + datetime.timedelta(hours=7 * n),
            data=data(name=f"Expert {n:02d}", email=f"expert{n:02d}@example.org", country=COUNTRIES[n % 14],
                      organisation_name=f"Organisation {n:02d}", expertise_areas=areas,
                      stakeholder_type=rng.choice(["social_economy", "cluster_organisation", "research",
                                                   "public_authority", "traditional_enterprise"]),
                      gender=rng.choice(["woman", "man", ""]), motivation=_motivation(rng),
                      available_meetings=[m.pk for m in meetings if rng.random() < 0.9 or m.constitutive]))
    late = datetime.datetime(2019, 1, 16, 0, 1, tzinfo=BRUSSELS)
    with pytest.raises(errors.Conflict, match="closed on 15 January 2019 at 23:59"):
        services.submit_application(call=call, data=data(email="late@example.org"), base_url=BASE, now=late)
    assert call.applications.count() == 39
    assert len(mail.outbox) == 39  # a confirmation each

    reviewers = [make_user(Role.MEMBER, "reviewer-one"), make_user(Role.MEMBER, "reviewer-two")]
    for reviewer in reviewers:
        assert services.assign_reviewer(user=secretariat, call=call, reviewer=reviewer) == 39
    conflicted = call.applications.order_by("pk").first()
    for reviewer in reviewers:
        for assignment in reviewer.review_assignments.select_related("application"):
            if reviewer == reviewers[1] and assignment.application == conflicted:
                services.declare_conflict(user=reviewer, assignment=assignment, conflict=True,
                                          note="We work in the same cooperative.")
                continue
            services.score_application(user=reviewer, assignment=assignment, scores={
                "expertise": rng.randint(1, 5), "motivation": rng.randint(1, 5), "contribution": rng.randint(1, 5)})

    run = services.run_selection(user=secretariat, call=call)
    assert run.status == "optimal"
    selected = Application.objects.filter(pk__in=run.result["selected"])
    assert 15 <= selected.count() <= 20
    for area in REQUIRED:
        assert any(area in a.expertise_areas for a in selected), area
    assert max(Counter(selected.values_list("country_id", flat=True)).values()) <= 2
    constitutive = meetings[0]
    assert all(constitutive in a.available_meetings.all() for a in selected)
    assert run.result["greedy"]["objective"] <= run.result["objective"]

    services.record_decision(user=secretariat, run=run, rationale="Every required area is covered; at most two "
                             "members per country; the best-reviewed applicants otherwise.")
    mail.outbox.clear()
    sent = services.send_decisions(user=secretariat, call=call, base_url=BASE)
    assert sent == 39
    assert sorted(m.to[0] for m in mail.outbox) == sorted(call.applications.values_list("email", flat=True))
    outcomes = set(call.applications.values_list("outcome", flat=True))
    assert outcomes == {Outcome.SELECTED, Outcome.RESERVE, Outcome.NOT_SELECTED}
    members = list(User.objects.filter(role=Role.MEMBER, working_group_applications__call=call,
                                       working_group_applications__outcome=Outcome.SELECTED))
    assert len(members) == selected.count()

    # The year of work: three meetings and a webinar, attendance, two validated contributions.
    def at(day: datetime.date, hour: int) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour))

    plans = [
        services.MeetingPlanFull("Constitutive meeting", at(datetime.date(2019, 3, 7), 10),
                                 at(datetime.date(2019, 3, 7), 17), place="Brussels"),
        services.MeetingPlanFull("Cluster conference", at(datetime.date(2019, 5, 14), 9),
                                 at(datetime.date(2019, 5, 15), 13), time_zone="Europe/Bucharest",
                                 place="Cluj-Napoca, Romania"),
        services.MeetingPlanFull("Webinar: procurement from social enterprises", at(datetime.date(2019, 6, 4), 14),
                                 at(datetime.date(2019, 6, 4), 15), format="online", webinar=True,
                                 online_url="https://meet.example.org/procurement", guests=("guest@example.org",)),
        services.MeetingPlanFull("Third meeting", at(datetime.date(2019, 7, 2), 10), at(datetime.date(2019, 7, 2), 16),
                                 place="Brussels"),
    ]
    meetings_held = [services.create_meeting(user=secretariat, call=call, plan=plan) for plan in plans]
    for meeting in meetings_held:
        before = meeting.starts_at - datetime.timedelta(days=10)
        for member in members:
            services.register(user=member, meeting=meeting, now=before)
        present = [m.pk for m in members if rng.random() < 0.85]
        services.record_attendance(user=secretariat, meeting=meeting, present=present,
                                   now=meeting.ends_at)
    services.add_minutes_version(user=members[0], meeting=meetings_held[0], text="Constituted; work plan adopted.")
    services.approve_minutes(user=secretariat, meeting=meetings_held[0])
    for title in ("A typology of social economy clusters", "Procurement between social and traditional firms"):
        contribution = services.create_contribution(user=members[0], call=call, title=title, text=f"{title}: text.")
        services.revise_contribution(user=members[1], contribution=contribution, text=f"{title}: a better text.")
        services.submit_contribution(user=members[1], contribution=contribution)
        services.validate_contribution(user=secretariat, contribution=contribution, base_url=BASE,
                                       now=datetime.datetime(2019, 9, 1, 12, tzinfo=BRUSSELS))
    assert services.selectors.validated_contributions(call=call).count() == 2

    # The progress report for the autumn plenary, then the decision on continuation by the end of the year.
    from socialclusters.workinggroup.reports import render_progress_report

    autumn = datetime.date(2019, 10, 15)
    html = render_progress_report(call, as_of=autumn, fmt="html")
    assert html == render_progress_report(call, as_of=autumn, fmt="html")
    text = html.decode()
    assert text.count("<tr><td>") >= len(members) + 4  # members, then the four meetings
    for title in ("Constitutive meeting", "Cluster conference", "Webinar: procurement", "Third meeting",
                  "A typology of social economy clusters"):
        assert title in text
    assert render_progress_report(call, as_of=autumn, fmt="pdf").startswith(b"%PDF-")
    services.record_continuation(user=secretariat, call=call, decision="continue",
                                 decided_on=datetime.date(2019, 12, 12),
                                 reasons="The plenary welcomed the report and asked for a second year.")
    assert "The group continues" in render_progress_report(call, as_of=datetime.date(2019, 12, 31),
                                                           fmt="html").decode()


def test_the_select_members_command(tmp_path, capsys):
    rows = ["id,score,country,stakeholder_type,areas,gender,available,lock"]
    rng = random.Random(4)
    for n in range(40):
        areas = ";".join(rng.sample(AREAS, 2))
        rows.append(f"A{n:02d},{rng.randint(20, 100)},{COUNTRIES[n % 14]},research,{areas},"
                    f"{rng.choice(['woman', 'man'])},{'yes' if n % 5 else 'no'},{'in' if n == 3 else ''}")
    csv = tmp_path / "applications.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "result.json"
    call_command("select_members", str(csv), "--seats", "15-20", "--max-per-country", "2", "--require-areas",
                 "finance,rural development", "--require-available", "--out", str(out))
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["status"] == "optimal"
    assert 15 <= len(result["selected"]) <= 20
    assert "A03" in result["selected"]
    assert "proven optimal" in capsys.readouterr().out
    assert result["greedy"]["objective"] <= result["objective"]

    csv.write_text(rows[0] + "\nA1,high,BE,research,finance,,yes,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: 'score' must be a number"):
        call_command("select_members", str(csv), "--out", str(out))
    with pytest.raises(CommandError, match="--seats"):
        call_command("select_members", str(csv), "--seats", "many", "--out", str(out))
    csv.write_text(rows[0] + "\n" + "\n".join(rows[1:5]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no group keeps every rule"):
        call_command("select_members", str(csv), "--seats", "15-20", "--out", str(out))
