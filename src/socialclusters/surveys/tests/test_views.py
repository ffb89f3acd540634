"""The survey pages doing their work: answering in the respondent's language, saving and resuming,
errors announced, the analysis page with n and source, chart and CSV exports, anonymity, import,
coding with suggestions, and the typology page."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail
from django.urls import reverse

from socialclusters.surveys import services
from socialclusters.surveys.models import Coding, Response, ResponseStatus, SurveyMode
from socialclusters.surveys.tests.conftest import MINIMAL, open_survey
from socialclusters.surveys.tests.world import build_survey_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def sworld(world, se_questionnaire):  # type: ignore[no-untyped-def]
    return build_survey_world(world, se_questionnaire)


def _answer_url(invitation, language=""):  # type: ignore[no-untyped-def]
    url = reverse("surveys:answer", kwargs={"token": invitation.token})
    return f"{url}?language={language}" if language else url


def test_the_answer_page_speaks_the_respondents_language(client, sworld):
    french = client.get(_answer_url(sworld.invitation, "fr")).content.decode()
    assert "Quelle description correspond le mieux" in french
    assert '<div lang="fr">' in french
    german = client.get(_answer_url(sworld.invitation, "de")).content.decode()
    assert "Welche Beschreibung passt am besten" in german
    assert "Wie wird die Wirkung gemessen?" in german
    condition = "Answer only if your answer to “Misst der Cluster seine soziale oder ökologische Wirkung?” was: Ja."
    assert condition in german


def test_save_resume_and_send_with_errors_announced(client, sworld, django_capture_on_commit_callbacks):
    url = _answer_url(sworld.invitation)
    saved = client.post(url, {"vehicle-type": "csei", "members-count": "40", "save": "1",
                              "respondent_language": "fr"})
    assert saved.status_code == 302
    page = client.get(saved["Location"]).content.decode()
    assert 'value="csei" id="id_vehicle-type_1" checked' in page
    assert "Votre cluster" in page  # resumed in the language chosen when saving
    assert 'value="40"' in page
    refused = client.post(url, {"vehicle-type": "csei", "members-count": "many", "submit": "1"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'role="alert"' in body
    assert "Write a number" in body
    assert "This question needs an answer" in body
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {**MINIMAL, "members-count": "40", "submit": "1", "respondent_language": "fr"})
    assert sent.status_code == 302
    response = Response.objects.get(invitation=sworld.invitation)
    assert response.status == ResponseStatus.SUBMITTED
    assert response.language == "fr"
    assert mail.outbox[-1].to == ["later@example.org"]
    assert "your answers were sent" in client.get(url).content.decode()


def test_analysis_page_shows_n_source_and_exports(client, sworld):
    client.force_login(sworld.users["secretariat"])
    page = client.get(reverse("surveys:survey_analysis", args=[sworld.survey.pk]) + "?by=country").content.decode()
    assert "n = 1 responses sent" in page
    assert "Mapping 2026 (se-clusters)" in page
    svg = client.get(reverse("surveys:survey_chart", args=[sworld.survey.pk, "vehicle-type", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"n = 1" in svg.content
    png = client.get(reverse("surveys:survey_chart", args=[sworld.survey.pk, "tracks-impact", "png"]) + "?download=1")
    assert png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    text = client.get(reverse("surveys:survey_chart", args=[sworld.survey.pk, "barriers-text", "svg"]))
    assert text.status_code == 404
    exported = client.get(reverse("surveys:survey_analysis_csv", args=[sworld.survey.pk]) + "?by=country")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {"question": "vehicle-type", "group": "FR", "count": "1", "n": "1"}.items() <= next(
        r for r in rows if r["question"] == "vehicle-type" and r["group"] == "FR"
        and r["answer"].startswith("Territorial")).items()


def test_anonymous_surveys_never_show_a_group_under_five(client, world, se_questionnaire):
    survey = open_survey(world, se_questionnaire, mode=SurveyMode.ANONYMOUS, title="Anonymous round")
    secretariat = world.users["secretariat"]
    for number in range(6):
        invitation = services.invite(user=secretariat, survey=survey, emails=[f"a{number}@example.org"])[0]
        country = "FR" if number < 5 else "DE"
        services.save_answers(response=services.response_for(invitation), raw={**MINIMAL, "country": country},
                              submit=True)
    client.force_login(secretariat)
    data = client.get(f"/api/v1/surveys/{survey.pk}/analysis?by=country").json()
    item = next(q for q in data["questions"] if q["code"] == "vehicle-type")
    assert item["crosstab"]["groups"] == ["DE", "FR"]
    assert item["crosstab"]["group_n"] == [None, 5]
    assert item["crosstab"]["counts"][0] == [None, 5]
    few = next(q for q in data["questions"] if q["code"] == "members-count")
    assert few == {**few, "n": 0}
    page = client.get(reverse("surveys:survey_analysis", args=[survey.pk]) + "?by=country").content.decode()
    assert "&lt; 5" in page


def test_build_publish_and_start_a_survey_through_the_pages(client, world, loaded):
    client.force_login(world.users["secretariat"])
    created = client.post(reverse("surveys:questionnaire_build"), {
        "slug": "procurement-pulse", "title": "Procurement pulse", "questions": ["buys-from-se", "procurement-value"],
        "required": ["buys-from-se"]})
    assert created.status_code == 302
    version_url = created["Location"]
    assert "procurement-value" in client.get(version_url).content.decode()
    version_pk = int(version_url.rstrip("/").split("/")[-1])
    assert client.post(reverse("surveys:version_publish", args=[version_pk])).status_code == 302
    refused = client.post(reverse("surveys:questionnaire_build"), {"slug": "x", "title": "", "questions": []})
    assert refused.status_code == 400
    assert 'role="alert"' in refused.content.decode()


def test_import_page_reports_line_and_column(client, sworld):
    client.force_login(sworld.users["secretariat"])
    upload = io.BytesIO(b"Type,Land,Impact,Support\nterritorial,FR,yes,no\nterritorial,XX,yes,no\n")
    upload.name = "old.csv"
    response = client.post(reverse("surveys:survey_import", args=[sworld.survey.pk]), {
        "file": upload,
        "mapping": "Type = vehicle-type\nLand = country\nImpact = tracks-impact\nSupport = public-support"})
    assert response.status_code == 400
    assert "line 3, field &#x27;Land&#x27;: “XX” is not an ISO country code" in response.content.decode()
    assert Response.objects.filter(survey=sworld.survey, imported_line__isnull=False).count() == 0


def test_coding_page_suggests_by_keyword_and_similarity(client, sworld):
    secretariat = sworld.users["secretariat"]
    other = services.response_for(services.invite(user=secretariat, survey=sworld.survey,
                                                  emails=["x@example.org"])[0])
    services.save_answers(response=other, raw={**MINIMAL, "barriers-text": "Lack of time and lack of staff"},
                          submit=True)
    client.force_login(secretariat)
    url = reverse("surveys:survey_coding", args=[sworld.survey.pk]) + "?question=barriers-text"
    page = client.get(url).content.decode()
    assert "Confirm suggested code “Finance”" in page
    assert "keyword: funding" in page
    client.post(url, {"answer": sworld.answer.pk, "code": sworld.code.pk, "suggested_by": "keyword"})
    assert Coding.objects.get().suggested_by == "keyword"
    page = client.get(url).content.decode()
    # "Lack of ..." resembles the coded answer "Lack of funding": the code is suggested by similarity.
    assert "similarity:" in page


def test_typology_page_and_override(client, sworld):
    page = client.get(reverse("surveys:typology")).content.decode()
    assert "Pôle Paris Solidaire" in page
    assert "se-kind" in page
    client.force_login(sworld.users["secretariat"])
    client.post(reverse("surveys:typology_override", args=[sworld.registry.published.pk]),
                {"type": "territorial_se", "justification": "Its statutes describe a PTCE."})
    data = client.get("/api/v1/typology").json()
    cluster = next(c for c in data["clusters"] if c["id"] == sworld.registry.published.pk)
    assert cluster["type"] == "territorial_se"
    assert cluster["rule_type"] == "shared_value"
    assert cluster["override"]["justification"] == "Its statutes describe a PTCE."
    exported = client.get(reverse("surveys:typology_csv")).content.decode()
    # Half of its members (a cooperative, a university) are social economy organisations: a shared-value mix.
    assert "territorial_se,shared_value,shared-value-mix;se-kind,Its statutes describe a PTCE." in exported


def test_the_answer_page_offers_country_region_and_nace_pickers(client, sworld):
    page = client.get(_answer_url(sworld.invitation)).content.decode()
    # Countries: a select with names, the EU, EFTA and candidate countries in their own group first.
    country = page[page.index('<select name="country"'):]
    country = country[:country.index("</select>")]
    assert '<optgroup label="EU, EFTA and candidate countries">' in country
    assert '<option value="FR">France</option>' in country
    assert country.index('value="NO"') < country.index('<optgroup label="Other countries">') < country.index(
        'value="US"')
    # NUTS regions and NACE codes: a text input tied to ONE shared datalist per kind, with a hint.
    assert page.count('<datalist id="nuts-regions">') == 1
    assert page.count('<datalist id="nace-codes">') == 1
    assert 'name="main-region" list="nuts-regions"' in page
    assert 'name="main-sector" list="nace-codes"' in page
    assert '<option value="FR101">Paris (NUTS 3)</option>' in page
    assert '<option value="88">Social work activities without accommodation</option>' in page
    assert "FRZZZ" not in page  # Extra-Regio is no place to work in
    assert "Type the code or part of the region's name, then choose the region in the list." in page
    assert 'aria-describedby="id_main-region_helptext"' in page
    # In French, the country names are French.
    french = client.get(_answer_url(sworld.invitation, "fr")).content.decode()
    assert '<option value="DE">Allemagne</option>' in french
    others = french[french.index("<optgroup", french.index("<optgroup") + 1):]  # the second group, any language
    assert others.index("Åland") < others.index("Brésil") < others.index("Émirats arabes unis") < others.index(
        "Japon")


def test_codes_picked_from_the_lists_are_saved_and_typed_nonsense_refused(client, sworld):
    url = _answer_url(sworld.invitation)
    saved = client.post(url, {**MINIMAL, "main-region": "fr101", "main-sector": "88", "save": "1"})
    assert saved.status_code == 302
    page = client.get(saved["Location"]).content.decode()
    assert 'name="main-region" value="FR101" list="nuts-regions"' in page
    assert 'name="main-sector" value="88" list="nace-codes"' in page
    assert '<option value="FR" selected>France</option>' in page
    refused = client.post(url, {**MINIMAL, "main-region": "Paris", "main-sector": "99.99", "save": "1"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'role="alert"' in body
    assert "“Paris” is not a NUTS 2021 region code." in body
    assert "“99.99” is not a NACE Rev. 2 code." in body
