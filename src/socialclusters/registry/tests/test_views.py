"""The registry's pages: what each shows, that filters and pages work, and the workflow forms."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from socialclusters.registry import models
from socialclusters.registry.tests.factories import MembershipFactory
from socialclusters.registry.tests.webworld import World, build_world, cluster, organisation


@pytest.fixture
def world(make_user) -> World:  # type: ignore[no-untyped-def]
    return build_world(make_user)


def as_user(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


class _Outline(HTMLParser):
    """Collects what accessibility and the CSP care about: headings, landmarks, inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))


def outline(response) -> list[tuple[str, dict[str, str | None]]]:  # type: ignore[no-untyped-def]
    parser = _Outline()
    parser.feed(text(response))
    return parser.tags


# --- every page: structure, accessibility and the Content Security Policy -------------------


def _public_urls(world: World) -> list[str]:
    return [
        reverse("home"), reverse("organisation_list"), reverse("organisation_detail", args=[world.paris.pk]),
        reverse("cluster_list"), reverse("cluster_detail", args=[world.published.pk]),
        reverse("region_detail", args=["FR101"]), reverse("accounts:login"), reverse("accounts:password_reset"),
    ]


def test_every_page_has_landmarks_one_h1_a_skip_link_and_no_inline_code(world, client):
    for url in _public_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        tags = outline(response)
        names = [tag for tag, _attrs in tags]
        assert names.count("h1") == 1, url
        for landmark in ("header", "nav", "main", "footer"):
            assert landmark in names, (url, landmark)
        assert tags[names.index("a")][1].get("href") == "#main", "the first link skips to the content"
        assert not [attrs for _tag, attrs in tags if "style" in attrs], f"{url}: inline style attribute"
        inline_scripts = [attrs for tag, attrs in tags
                          if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json"]
        assert not inline_scripts, f"{url}: inline script"
        assert not [attrs for _tag, attrs in tags if any(name.startswith("on") for name in attrs)], url
        assert "<style" not in text(response), url
        assert "script-src 'self'" in response["Content-Security-Policy"]
        ids = [attrs["id"] for _tag, attrs in tags if attrs.get("id")]
        assert len(ids) == len(set(ids)), f"{url}: duplicate ids"


def test_every_form_control_has_a_label(world, client):
    for url in [*_public_urls(world), reverse("organisation_list") + "?country=ZZ"]:
        tags = outline(client.get(url))
        labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
        for tag, attrs in tags:
            if tag in {"input", "select", "textarea"} and attrs.get("type") not in {"hidden", "submit"}:
                assert attrs.get("id") in labelled or attrs.get("aria-label"), (url, tag, attrs)


# --- home -----------------------------------------------------------------------------------


def test_home_counts_what_the_observatory_holds_with_an_accessible_chart(world, client):
    response = client.get(reverse("home"))
    page = text(response)
    overview = response.context["overview"]
    assert overview.organisations == 4
    assert overview.clusters == 2  # the draft is not counted
    assert 'role="img"' in page
    assert re.search(r'<svg[^>]+aria-labelledby="countries-title countries-desc"', page)
    assert "<title id=\"countries-title\">Organisations by country</title>" in page
    # The chart's numbers are also in a table, with links into the directory.
    assert f'href="{reverse("organisation_list")}?country=FR">France</a></th><td class="number">3</td>' in page
    assert "Cooperative" in page
    assert "/api/v1/overview" in page


def test_home_works_on_an_empty_registry(db, client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "No organisations yet." in text(response)


# --- organisation directory -----------------------------------------------------------------


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [org.name for org in response.context["page"].items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Association Beta", "Coopérative Alpha", "Delta University", "Gamma GmbH"]),
        ({"q": "alpha"}, ["Coopérative Alpha"]),
        ({"q": "cooperative"}, ["Coopérative Alpha"]),  # accents do not matter
        ({"q": "PARIS"}, ["Coopérative Alpha", "Delta University"]),
        ({"country": "DE"}, ["Gamma GmbH"]),
        ({"nuts": "FR10"}, ["Coopérative Alpha"]),
        ({"se_family": "any"}, ["Association Beta", "Coopérative Alpha"]),
        ({"se_family": "association"}, ["Association Beta"]),
        ({"nace": "Q"}, ["Coopérative Alpha"]),
        ({"country": "FR", "q": "delta"}, ["Delta University"]),
    ],
)
def test_directory_filters(world, client, query, expected):
    response = client.get(reverse("organisation_list"), query)
    assert response.status_code == 200
    assert _names(response) == expected


def test_directory_filters_by_cluster_and_links_downloads_with_the_same_filters(world, client):
    response = client.get(reverse("organisation_list"), {"cluster": world.published.pk, "country": "FR"})
    assert _names(response) == ["Coopérative Alpha", "Delta University"]
    page = text(response)
    assert f"/api/v1/organisations.csv?country=FR&amp;cluster={world.published.pk}" in page
    assert f"/api/v1/organisations.geojson?country=FR&amp;cluster={world.published.pk}" in page
    assert "2 organisations found" in page


def test_directory_offers_only_visible_clusters_as_filters(world, client):
    choices = dict(client.get(reverse("organisation_list")).context["form"].fields["cluster"].choices)
    assert world.published.pk in choices
    assert world.draft.pk not in choices


def test_directory_shows_the_region_or_why_there_is_none_and_marks_illustrative_rows(world, client):
    page = text(client.get(reverse("organisation_list")))
    assert f'href="{reverse("region_detail", args=["FR101"])}">FR101 Paris</a>' in page
    assert "Not placed in a region: no coordinates and no postcode" in page
    assert page.count("badge-illustrative") == 1


def test_directory_rejects_unknown_filter_values_with_a_message(world, client):
    response = client.get(reverse("organisation_list"), {"country": "ZZ"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "Select a valid choice" in text(response)
    assert 'aria-invalid="true"' in text(response)


def test_directory_pages(world, client):
    for number in range(30):
        organisation(name=f"Paged cooperative {number:02}", country_id="IT", city="Roma")
    first = client.get(reverse("organisation_list"), {"country": "IT"})
    assert first.context["page"].count == 30
    assert len(first.context["page"].items) == 25
    assert 'href="?country=IT&amp;page=2" rel="next"' in text(first)
    second = client.get(reverse("organisation_list"), {"country": "IT", "page": 2})
    assert _names(second) == [f"Paged cooperative {n}" for n in range(25, 30)]
    assert 'rel="prev"' in text(second)
    for bad in ("3", "0", "two"):
        assert client.get(reverse("organisation_list"), {"country": "IT", "page": bad}).status_code == 404


def test_htmx_gets_only_the_results_and_the_live_count(world, client):
    response = client.get(reverse("organisation_list"), {"q": "gamma"}, headers={"HX-Request": "true"})
    page = text(response)
    assert "<html" not in page
    assert 'id="result-count" hx-swap-oob="innerHTML"' in page
    assert "1 organisation found" in page
    assert "Gamma GmbH" in page
    assert "HX-Request" in response["Vary"]
    # A history restore needs the whole page.
    restore = client.get(reverse("organisation_list"),
                         headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in text(restore)


def test_the_full_directory_page_has_a_live_region_and_htmx_wiring(world, client):
    page = text(client.get(reverse("organisation_list")))
    assert re.search(r'<p id="result-count"[^>]*aria-live="polite"', page)
    assert 'hx-get="/organisations/"' in page
    assert 'hx-push-url="true"' in page
    assert 'method="get"' in page  # works without JavaScript


def test_directory_and_cluster_pages_do_not_query_per_row(world, client, django_assert_max_num_queries):
    for number in range(30):
        org = organisation(name=f"Member cooperative {number:02}", region=world.paris.region, nuts2="FR10")
        MembershipFactory(organisation=org, cluster=world.published)
    with django_assert_max_num_queries(12):
        client.get(reverse("organisation_list"))
    with django_assert_max_num_queries(14):
        client.get(reverse("cluster_detail", args=[world.published.pk]))
    with django_assert_max_num_queries(18):  # the statistics section: a fixed few more
        client.get(reverse("region_detail", args=["FR101"]))


# --- organisation page ----------------------------------------------------------------------


def test_organisation_page(world, client):
    response = client.get(reverse("organisation_detail", args=[world.paris.pk]))
    page = text(response)
    assert "<h1>Coopérative Alpha</h1>" in page
    assert "FR101 Paris" in page
    assert "88 Social work activities without accommodation" in page
    assert "Pôle Paris Solidaire" in page
    assert "Web test register" in page
    assert "line 12" in page
    # The map: data for the script, the text alternative, the attribution, Leaflet from our own static files.
    assert 'data-region-url="/api/v1/regions/FR101"' in page
    assert 'data-countries-url="/api/v1/regions.geojson?level=0"' in page
    assert 'data-lat="48.856600" data-lon="2.352200"' in page
    assert "Region FR101 Paris (NUTS level 3). Point at latitude 48.8566, longitude 2.3522." in page
    assert "© EuroGeographics for the administrative boundaries" in page
    assert '<script src="/static/leaflet/leaflet.js" defer>' in page
    assert f"/api/v1/organisations/{world.paris.pk}" in page
    assert "Edit this profile" not in page


def test_organisation_page_explains_its_data_quality_flags_in_the_reader_s_language(world, client):
    world.paris.flags = ["low_geocode_confidence", "spreadsheet_error"]
    world.paris.save(update_fields=["flags"])
    url = reverse("organisation_detail", args=[world.paris.pk])
    page = text(client.get(url))
    assert "Data quality notes" in page
    assert "<li>Geocoding confidence below the mapping&#x27;s threshold; coordinates kept</li>" in page
    assert "instead of what the cell should hold; kept as given</li>" in page
    assert "spreadsheet_error" not in page
    french = text(client.get(f"/fr{url}"))
    assert "<li>Confiance du géocodage inférieure au seuil de la correspondance ; coordonnées conservées</li>" in french
    assert "erreur de tableur" in french


def test_organisation_page_hides_memberships_of_unpublished_clusters(world, client):
    page = text(client.get(reverse("organisation_detail", args=[world.lyon.pk])))
    assert "Secret draft cluster" not in page
    assert "Not placed in a region: no coordinates and no postcode" in page
    assert "No location is known" in page
    assert 'class="map"' not in page


def test_organisation_page_offers_editing_to_its_manager(world):
    page = text(as_user(world, "manager_own").get(reverse("organisation_detail", args=[world.paris.pk])))
    assert reverse("organisation_edit", args=[world.paris.pk]) in page


def test_unknown_organisation_is_404(db, client):
    response = client.get(reverse("organisation_detail", args=[999999]))
    assert response.status_code == 404
    assert "Page not found" in text(response)


# --- clusters -------------------------------------------------------------------------------


def test_cluster_directory_lists_published_clusters_and_filters(world, client):
    response = client.get(reverse("cluster_list"))
    assert [c.name for c in response.context["page"].items] == ["Berlin Industry Cluster", "Pôle Paris Solidaire"]
    assert "2 clusters found" in text(response)
    assert [c.name for c in client.get(reverse("cluster_list"), {"kind": "traditional"}).context["page"].items] == [
        "Berlin Industry Cluster"]
    assert [c.name for c in client.get(reverse("cluster_list"), {"q": "solidaire"}).context["page"].items] == [
        "Pôle Paris Solidaire"]
    assert [c.name for c in client.get(reverse("cluster_list"), {"country": "DE"}).context["page"].items] == [
        "Berlin Industry Cluster"]
    assert "/api/v1/clusters.csv?kind=traditional" in text(client.get(reverse("cluster_list"), {"kind": "traditional"}))


def test_cluster_directory_shows_drafts_to_their_managers(world):
    names = [c.name for c in as_user(world, "manager_own").get(reverse("cluster_list")).context["page"].items]
    assert "Secret draft cluster" in names


def test_cluster_page(world, client):
    page = text(client.get(reverse("cluster_detail", args=[world.published.pk])))
    assert "<h1>Pôle Paris Solidaire</h1>" in page
    # Members grouped by type, with the illustrative one marked.
    assert re.search(r"<h3>Business <span class=\"count\">1</span></h3>", page)
    assert re.search(r"<h3>Research and education <span class=\"count\">1</span></h3>", page)
    assert "badge-illustrative" in page
    # Sectors, regions and sources.
    assert "Social work activities without accommodation" in page
    assert f'href="{reverse("region_detail", args=["FR101"])}"' in page
    assert "Twenty partners work together." in page
    assert "https://pole.example.org/about" in page
    # Admission checks: two members (✗), two types (✓), 1.5 FTE (✓), website in English (✓).
    assert "Does not meet every admission condition" in page
    assert page.count("check-passed") == 3
    assert page.count("check-failed") == 1
    assert "2 committed members in the registry" in page
    assert "History of changes" not in page


def test_cluster_page_shows_an_exemption_and_unknown_checks(world, client):
    bare = cluster(name="Exempt cluster", admission_exempt=True, admission_exemption_reason="Recognised PTCE")
    page = text(client.get(reverse("cluster_detail", args=[bare.pk])))
    assert "Exempt from the admission checks" in page
    assert "Recognised PTCE" in page
    assert page.count("check-unknown") == 2  # no FTE figure, no website-language answer
    assert "No members are recorded in the registry yet." in page


def test_cluster_page_gives_the_secretariat_the_history(world):
    page = text(as_user(world, "secretariat").get(reverse("cluster_detail", args=[world.published.pk])))
    assert reverse("admin:registry_cluster_history", args=[world.published.pk]) in page
    assert "One change to this profile is waiting" in page


def test_draft_cluster_is_404_for_the_public(world, client):
    assert client.get(reverse("cluster_detail", args=[world.draft.pk])).status_code == 404
    assert client.get(reverse("cluster_detail", args=[999999])).status_code == 404


# --- regions --------------------------------------------------------------------------------


def test_region_page(world, client):
    response = client.get(reverse("region_detail", args=["FR101"]))
    page = text(response)
    assert "Paris" in response.context["region"].name_latn
    assert "Predominantly urban" in page
    assert f'href="{reverse("region_detail", args=["FR10"])}"' in page  # parent
    assert _names(response) == ["Coopérative Alpha"]
    assert "Pôle Paris Solidaire" in page  # clusters covering the region
    assert "/api/v1/regions/FR101" in page


def test_higher_level_region_lists_what_is_inside(world, client):
    response = client.get(reverse("region_detail", args=["fr1"]))
    assert response.status_code == 200
    assert _names(response) == ["Coopérative Alpha"]
    assert f'href="{reverse("region_detail", args=["FR10"])}"' in text(response)


def test_unknown_region_is_404(db, client):
    assert client.get(reverse("region_detail", args=["ZZ999"])).status_code == 404


# --- editing profiles -----------------------------------------------------------------------


def test_cluster_edit_form_offers_only_the_editable_fields(world):
    response = as_user(world, "manager_own").get(reverse("cluster_edit", args=[world.published.pk]))
    from socialclusters.registry.services import CLUSTER_EDITABLE_FIELDS

    assert tuple(response.context["form"].fields) == CLUSTER_EDITABLE_FIELDS
    assert re.search(r'<textarea name="themes"[^>]*>\s*circular economy</textarea>', text(response))
    assert "Send for validation" in text(response)


def _cluster_form_data(cluster_obj, **changes):  # type: ignore[no-untyped-def]
    data = {
        "name": cluster_obj.name, "description": cluster_obj.description, "themes": "\n".join(cluster_obj.themes),
        "city": cluster_obj.city, "website": cluster_obj.website,
        "website_in_english": {True: "true", False: "false", None: "unknown"}[cluster_obj.website_in_english],
        "management_fte": "1.5", "founded_year": "", "public_support": "", "receives_public_support": "unknown",
        "tracks_impact": "unknown",
    }
    data.update(changes)
    return data


def test_a_managers_edit_goes_to_validation_and_the_profile_waits(world):
    client = as_user(world, "manager_own")
    response = client.post(reverse("cluster_edit", args=[world.published.pk]),
                           _cluster_form_data(world.published, description="Better description.",
                                              tracks_impact="true"))
    assert response.status_code == 302
    assert response["Location"] == reverse("my_profiles")
    change = world.published.profile_changes.latest("created_at")
    assert change.status == models.ChangeStatus.SUBMITTED
    assert change.data == {"description": "Better description.", "tracks_impact": True}
    world.published.refresh_from_db()
    assert world.published.description == "The original description."
    page = text(client.get(reverse("my_profiles")))
    assert "Better description." in page
    assert "Submitted for validation" in page


def test_an_unchanged_edit_is_a_form_error(world):
    response = as_user(world, "manager_own").post(reverse("cluster_edit", args=[world.published.pk]),
                                                   _cluster_form_data(world.published))
    assert response.status_code == 200
    assert "Nothing to change" in text(response)


def test_a_bad_value_is_an_error_on_its_field(world):
    response = as_user(world, "manager_own").post(reverse("cluster_edit", args=[world.published.pk]),
                                                   _cluster_form_data(world.published, website="not a url"))
    assert response.status_code == 200
    assert response.context["form"].errors["website"]
    assert not world.published.profile_changes.exclude(pk=world.change.pk).exists()


def test_a_draft_is_edited_at_once(world):
    client = as_user(world, "manager_own")
    response = client.post(reverse("cluster_edit", args=[world.draft.pk]),
                           _cluster_form_data(world.draft, city="Nantes", management_fte=""))
    assert response["Location"] == reverse("cluster_detail", args=[world.draft.pk])
    world.draft.refresh_from_db()
    assert world.draft.city == "Nantes"


def test_organisation_edit(world):
    client = as_user(world, "manager_own")
    url = reverse("organisation_edit", args=[world.paris.pk])
    form = client.get(url).context["form"]
    from socialclusters.registry.services import ORGANISATION_EDITABLE_FIELDS

    assert tuple(form.fields) == ORGANISATION_EDITABLE_FIELDS
    response = client.post(url, {"name": "Coopérative Alpha", "alt_names": "Alpha\nCoop A", "address": "",
                                 "postcode": "75011", "city": "Paris", "website": "https://alpha.example.coop",
                                 "size_band": "small", "founded": "2001-05-04"})
    assert response.status_code == 302
    change = world.paris.profile_changes.get()
    assert change.data == {"alt_names": ["Alpha", "Coop A"], "postcode": "75011", "size_band": "small",
                           "founded": "2001-05-04"}


# --- the secretariat's pages ----------------------------------------------------------------


def test_validation_queue_shows_current_and_proposed_values(world):
    page = text(as_user(world, "secretariat").get(reverse("validation_queue")))
    assert "Pôle Paris Solidaire" in page
    assert '<td class="diff-old">The original description.</td>' in page
    assert '<td class="diff-new">A description proposed by the manager.</td>' in page
    assert reverse("change_validate", args=[world.change.pk]) in page
    assert f'for="id_reason_{world.change.pk}"' in page


def test_validating_from_the_queue(world, django_capture_on_commit_callbacks):
    client = as_user(world, "secretariat")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("change_validate", args=[world.change.pk]))
    assert response["Location"] == reverse("validation_queue")
    world.published.refresh_from_db()
    assert world.published.description == "A description proposed by the manager."
    assert mail.outbox[0].to == ["manager-own@example.org"]
    # Twice: a conflict, shown as a message on the queue, nothing changes.
    again = client.post(reverse("change_validate", args=[world.change.pk]))
    assert again.status_code == 302
    assert again["Location"] == reverse("validation_queue")
    assert any("not waiting for validation" in str(m) for m in get_messages(again.wsgi_request))


def test_returning_needs_a_reason(world):
    client = as_user(world, "secretariat")
    response = client.post(reverse("change_return", args=[world.change.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Say why the change is returned" in text(response)
    world.change.refresh_from_db()
    assert world.change.status == models.ChangeStatus.SUBMITTED

    response = client.post(reverse("change_return", args=[world.change.pk]), {"reason": "Cite the source."})
    assert response.status_code == 302
    world.change.refresh_from_db()
    assert world.change.status == models.ChangeStatus.RETURNED
    page = text(as_user(world, "manager_own").get(reverse("my_profiles")))
    assert "Returned" in page
    assert "Cite the source." in page


def test_my_profiles_lists_what_a_manager_manages(world):
    page = text(as_user(world, "manager_own").get(reverse("my_profiles")))
    for name in ("Pôle Paris Solidaire", "Secret draft cluster", "Coopérative Alpha"):
        assert name in page
    assert "You do not manage any cluster" in text(as_user(world, "member").get(reverse("my_profiles")))


def test_duplicates_page_merges_and_dismisses(world):
    client = as_user(world, "secretariat")
    page = text(client.get(reverse("duplicate_list")))
    assert "Coopérative Alpha · Delta University" in page
    assert "same web domain" in page

    client.post(reverse("duplicate_decide", args=[world.duplicate.pk]), {"decision": "merge"})
    world.duplicate.refresh_from_db()
    assert world.duplicate.status == models.DuplicateStatus.MERGED
    assert not models.Organisation.objects.filter(name="Delta University").exists()
    assert "No likely duplicate" in text(client.get(reverse("duplicate_list")))

    other = models.DuplicateCandidate.objects.create(first=world.berlin, second=world.lyon, reason="same town")
    client.post(reverse("duplicate_decide", args=[other.pk]), {"decision": "dismiss"})
    other.refresh_from_db()
    assert other.status == models.DuplicateStatus.DISMISSED
    assert client.post(reverse("duplicate_decide", args=[other.pk]), {"decision": "dismiss"}).status_code == 302
    assert client.post(reverse("duplicate_decide", args=[other.pk]), {"decision": "maybe"}).status_code == 400


# --- French -----------------------------------------------------------------------------------


def test_french_pages_are_in_french(world, client):
    response = client.get("/fr/organisations/")
    page = text(response)
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert "Organisations" in page
    assert "Famille de l\u2019économie sociale" in page
    assert "Aller au contenu principal" in page
    assert "Coopérative" in text(client.get(f"/fr/organisations/{world.paris.pk}/"))
    assert "Contrôles d\u2019admission" in text(client.get(f"/fr/clusters/{world.published.pk}/"))


def test_french_chart_geometry_is_not_localised(world, client):
    page = text(client.get("/fr/"))
    assert "<title id=\"countries-title\">Organisations par pays</title>" in page
    assert re.search(r'<rect class="chart-bar chart-bar-countries" x="\d+" y="\d+" width="\d+"', page)
    assert not re.search(r'(?:x|y|width|height)="\d+,\d', page), "French decimal commas in SVG geometry"


def test_language_switcher_goes_to_the_same_page_in_french(world, client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/clusters/"})
    assert response.status_code == 302
    assert response["Location"] == "/fr/clusters/"


# --- the admin --------------------------------------------------------------------------------


ADMIN_MODELS = ("country", "region", "sector", "legalform", "source", "organisation", "cluster", "membership",
                "sourcerecord", "importrun", "duplicatecandidate", "profilechange")


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_lists_every_registry_model_with_search(world, model):
    client = as_user(world, "secretariat")
    response = client.get(reverse(f"admin:registry_{model}_changelist"), {"q": "pa"})
    assert response.status_code == 200, model


def test_admin_filters_and_history(world):
    client = as_user(world, "secretariat")
    response = client.get(reverse("admin:registry_organisation_changelist"), {"country__code__exact": "DE"})
    assert list(response.context["cl"].result_list) == [world.berlin]
    response = client.get(reverse("admin:registry_cluster_changelist"), {"publication_status__exact": "draft"})
    assert list(response.context["cl"].result_list) == [world.draft]
    assert client.get(reverse("admin:registry_cluster_history", args=[world.published.pk])).status_code == 200
    assert client.get(reverse("admin:registry_organisation_change", args=[world.paris.pk])).status_code == 200
    assert client.get(reverse("admin:registry_region_change",
                              args=[models.Region.objects.get(code="FR101").pk])).status_code == 200


def test_admin_actions_call_the_services(world):
    client = as_user(world, "secretariat")
    url = reverse("admin:registry_cluster_changelist")
    selected = {"_selected_action": [world.published.pk, world.other.pk]}
    client.post(url, {"action": "grant_exemption", "reason": "", **selected})
    assert not models.Cluster.objects.filter(admission_exempt=True).exists()  # a reason is required

    client.post(url, {"action": "grant_exemption", "reason": "Recognised PTCE", **selected})
    assert set(models.Cluster.objects.filter(admission_exempt=True).values_list("pk", flat=True)) == {
        world.published.pk, world.other.pk}

    client.post(url, {"action": "withdraw", **selected})
    assert set(models.Cluster.objects.filter(publication_status="withdrawn").values_list("pk", flat=True)) == {
        world.published.pk, world.other.pk}
    client.post(url, {"action": "publish", "_selected_action": [world.draft.pk]})
    world.draft.refresh_from_db()
    assert world.draft.publication_status == "published"
    client.post(url, {"action": "revoke_exemption", "_selected_action": [world.published.pk]})
    world.published.refresh_from_db()
    assert not world.published.admission_exempt


def test_admin_is_closed_to_managers(world):
    response = as_user(world, "manager_own").get(reverse("admin:registry_cluster_changelist"))
    assert response.status_code == 302


def test_a_membership_page_is_not_needed_for_more_members(world, client):
    # Adding members changes the admission check without any other edit.
    for number in range(15):
        MembershipFactory(cluster=world.published, organisation=organisation(name=f"Member {number}"))
    page = text(client.get(reverse("cluster_detail", args=[world.published.pk])))
    assert "17 committed members in the registry" in page
    assert "Meets every admission condition" in page
