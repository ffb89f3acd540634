"""The progress report: its content, reproducible HTML, the PDF, the command and the workspace button."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from socialclusters import errors
from socialclusters.workinggroup import services
from socialclusters.workinggroup.models import Continuation, Outcome
from socialclusters.workinggroup.reports import render_progress_report

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2030, 1, 1)


def test_the_report_says_what_happened_and_is_reproducible(world):
    services.record_decision(user=world.users["secretariat"], run=world.run, rationale="Two areas covered.")
    html = render_progress_report(world.call, as_of=AS_OF, fmt="html").decode()
    assert "Progress report to the plenary" in html
    assert world.application.name in html  # the member
    assert "Two areas covered." in html
    assert "Online meeting" in html  # held; the next one is in the future for the report's date too
    assert "PTCE in France" in html  # validated contribution, with its stable address
    assert world.validated_contribution.get_absolute_url() in html
    assert "How do social economy clusters scale?: still open" in html
    assert "Draft the typology" in html  # an open action
    assert "data:image/svg+xml;base64," in html
    assert "The decision on continuation is not taken yet." in html
    again = render_progress_report(world.call, as_of=AS_OF, fmt="html")
    assert again.decode() == html


def test_the_pdf_and_the_continuation_decision(world, client):
    secretariat = world.users["secretariat"]
    with pytest.raises(errors.Conflict, match="not constituted"):
        services.record_continuation(user=secretariat, call=world.call, decision=Continuation.CONTINUE,
                                     decided_on=datetime.date(2019, 12, 10), reasons="Good work.")
    services.record_decision(user=secretariat, run=world.run, rationale="Balanced.")
    client.force_login(secretariat)
    response = client.post(reverse("workinggroup:continuation", args=[world.call.slug]), {
        "decision": "continue", "decided_on": "2019-12-10", "reasons": "The plenary asked for more."})
    assert response.status_code == 302
    with pytest.raises(errors.Conflict, match="already recorded"):
        services.record_continuation(user=secretariat, call=world.call, decision=Continuation.END,
                                     decided_on=datetime.date(2019, 12, 11), reasons="Changed our minds.")
    html = render_progress_report(world.call, as_of=AS_OF, fmt="html").decode()
    assert "The group continues</strong>, decided on 10 December 2019" in html
    before = render_progress_report(world.call, as_of=datetime.date(2019, 12, 9), fmt="html").decode()
    assert "not taken yet" in before
    pdf = client.get(reverse("workinggroup:progress_report", args=[world.call.slug]), {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    page = client.get(reverse("workinggroup:progress_report", args=[world.call.slug]))
    assert page["Content-Type"].startswith("text/html")
    assert "img-src data:" in page["Content-Security-Policy"]


def test_the_report_command(world, tmp_path, capsysbinary):
    out = tmp_path / "report.html"
    call_command("report", "progress", "--group", world.call.slug, "--format", "html", "--as-of", "2030-01-01",
                 "--out", str(out))
    assert out.read_bytes() == render_progress_report(world.call, as_of=AS_OF, fmt="html")
    call_command("report", "progress", "--group", world.call.slug, "--format", "pdf", "--as-of", "2030-01-01",
                 "--out", str(tmp_path / "report.pdf"))
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf == render_progress_report(world.call, as_of=AS_OF, fmt="pdf")  # reproducible too
    with pytest.raises(CommandError, match="--group: no group 'nope'"):
        call_command("report", "progress", "--group", "nope")
    with pytest.raises(CommandError, match="--as-of"):
        call_command("report", "progress", "--group", world.call.slug, "--as-of", "15/01/2019")
    assert world.application.outcome == Outcome.SELECTED
