"""Written contributions: drafted together with versions and comments, submitted, validated or returned;
validated ones are public, citable and listed by ``selectors.validated_contributions``."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from socialclusters import errors
from socialclusters.accounts.models import Role
from socialclusters.workinggroup import selectors, services
from socialclusters.workinggroup.models import Application, ContributionStatus, Outcome, Theme

pytestmark = pytest.mark.django_db
BASE = "https://wg.example.org"


def test_members_draft_together_then_the_secretariat_returns_and_validates(world, client, make_user):
    member, secretariat = world.users["member"], world.users["secretariat"]
    colleague = make_user(Role.MEMBER, "colleague")
    Application.objects.filter(pk=world.other.pk).update(member=colleague, outcome=Outcome.SELECTED)
    draft = world.draft_contribution
    client.force_login(colleague)
    edit = reverse("workinggroup:contribution_edit", args=[draft.pk])
    response = client.post(edit, {"title": "Draft typology", "themes": [world.theme.pk],
                                  "text": "Three kinds of clusters.\nA fourth kind: PTCE.", "note": "added PTCE"})
    assert response.status_code == 302
    assert set(draft.authors.all()) == {member, colleague}
    page = client.get(reverse("workinggroup:contribution_detail", args=[draft.pk]))
    assert ("added", "A fourth kind: PTCE.") in page.context["diff"]
    assert "Version 2 by colleague" in page.content.decode()
    client.post(reverse("workinggroup:contribution_comment", args=[draft.pk]), {"text": "Add a source."})
    assert client.post(reverse("workinggroup:contribution_submit", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == ContributionStatus.SUBMITTED
    with pytest.raises(errors.Conflict):
        services.revise_contribution(user=member, contribution=draft, text="Late change")
    assert any("Contribution to validate" in m.subject for m in mail.outbox)

    client.force_login(secretariat)
    client.post(reverse("workinggroup:contribution_return", args=[draft.pk]), {"comment": "Cite the French law."})
    draft.refresh_from_db()
    assert draft.status == ContributionStatus.RETURNED
    assert mail.outbox[-1].body == "Cite the French law."
    services.revise_contribution(user=member, contribution=draft, text="Three kinds. PTCE (law of 2014).")
    draft.refresh_from_db()
    assert draft.status == ContributionStatus.DRAFT
    services.submit_contribution(user=member, contribution=draft)
    client.post(reverse("workinggroup:contribution_validate", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == ContributionStatus.VALIDATED
    assert draft.validated_by == secretariat
    assert "can now be cited" in mail.outbox[-1].body
    assert draft.get_absolute_url() in mail.outbox[-1].body

    client.logout()
    public = client.get(draft.get_absolute_url())
    assert public.status_code == 200
    assert "PTCE (law of 2014)" in public.content.decode()
    assert "Cite the French law." not in public.content.decode()  # comments stay inside the group
    assert client.get(reverse("workinggroup:contribution_detail", args=[draft.pk]), {"version": "1"}).context[
        "shown"].number == 3  # outsiders see the validated text only


def test_validated_contributions_is_the_selector_other_apps_call(world):
    validated = list(selectors.validated_contributions())
    assert validated == [world.validated_contribution]
    assert validated[0].current.text == "Territorial clusters of economic cooperation."
    assert list(selectors.validated_contributions(theme=world.theme)) == []
    assert list(selectors.validated_contributions(call=world.call, q="ptce")) == [world.validated_contribution]


def test_contribution_rules(world):
    member, outsider = world.users["member"], world.users["reviewer"]
    with pytest.raises(errors.PermissionDenied):
        services.create_contribution(user=outsider, call=world.call, title="T", text="x")
    with pytest.raises(errors.ValidationError) as info:
        services.create_contribution(user=member, call=world.call, title=" ", text="x")
    assert info.value.field == "title"
    other_theme = Theme.objects.create(call=world.closed, title="Elsewhere")
    with pytest.raises(errors.ValidationError) as info:
        services.create_contribution(user=member, call=world.call, title="T", text="x", themes=[other_theme])
    assert info.value.field == "themes"
    with pytest.raises(errors.ValidationError, match="nothing changed"):
        services.revise_contribution(user=member, contribution=world.draft_contribution,
                                     text="Three kinds of clusters.")
    with pytest.raises(errors.PermissionDenied):
        services.submit_contribution(user=outsider, contribution=world.draft_contribution)
    with pytest.raises(errors.Conflict):
        services.validate_contribution(user=world.users["secretariat"], contribution=world.draft_contribution,
                                       base_url=BASE)
    with pytest.raises(errors.ValidationError):
        services.submit_contribution(user=member, contribution=world.draft_contribution) and \
            services.return_contribution(user=world.users["secretariat"], contribution=world.draft_contribution,
                                         comment=" ")
