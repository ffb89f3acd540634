"""Services of the survey app against the real database: loading, versions, distribution, answering,
imports, acceptance into cluster profiles, coding and findings."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from openpyxl import Workbook

from socialclusters.errors import Conflict, PermissionDenied, ValidationError
from socialclusters.registry.models import NUTS_VERSION, Cluster, Region, SourceRecord
from socialclusters.registry.tests.factories import ClusterFactory
from socialclusters.surveys import services
from socialclusters.surveys.models import (
    Answer,
    BankQuestion,
    Code,
    EvidenceKind,
    Invitation,
    Question,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    SurveyStatus,
    Theme,
)
from socialclusters.surveys.tests.conftest import MINIMAL

pytestmark = pytest.mark.django_db


def test_the_bank_covers_every_theme_in_three_languages(loaded):
    assert {q.theme for q in BankQuestion.objects.all()} == set(Theme.values)
    for question in BankQuestion.objects.all():
        assert all(question.text[lang] for lang in ("en", "fr", "de")), question.code
        for option in question.options + question.rows:
            assert all(option["label"][lang] for lang in ("en", "fr", "de")), (question.code, option["value"])
    assert loaded.questionnaires_created == ["se-clusters v1", "traditional-clusters v1"]


def test_loading_again_changes_nothing(loaded):
    again = services.load_questionnaires()
    assert again.bank_created == 0
    assert again.unchanged == ["se-clusters", "traditional-clusters"]
    assert QuestionnaireVersion.objects.count() == 2


def test_a_changed_file_makes_a_new_version_and_old_answers_keep_theirs(world, survey, tmp_path):
    invitation = services.invite(user=world.users["secretariat"], survey=survey, emails=["a@example.org"])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw=MINIMAL, submit=True)
    source = services.QUESTIONNAIRE_DIR
    for path in source.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    changed = (tmp_path / "se-clusters.toml").read_text(encoding="utf-8").replace(
        'required = ["vehicle-type", "country"]', 'required = ["vehicle-type"]')
    (tmp_path / "se-clusters.toml").write_text(changed, encoding="utf-8")
    report = services.load_questionnaires(directory=tmp_path)
    assert report.versions_created == ["se-clusters v2"]
    response.refresh_from_db()
    assert response.version.number == 1
    assert services.latest_published(survey.questionnaire).number == 2


def test_published_versions_never_change(world, se_questionnaire):
    secretariat = world.users["secretariat"]
    version = services.latest_published(se_questionnaire)
    question = version.questions.first()
    with pytest.raises(Conflict):
        services.edit_question_text(user=secretariat, question=question, language="en", text="Changed")
    copy = services.correct_version(user=secretariat, version=version, note="Clearer wording")
    draft_question = copy.questions.get(code=question.code)
    services.edit_question_text(user=secretariat, question=draft_question, language="fr", text="Nouveau texte")
    question.refresh_from_db()
    assert question.text["fr"] != "Nouveau texte"
    with pytest.raises(Conflict):
        services.correct_version(user=secretariat, version=version, note="Another")
    services.publish_version(user=secretariat, version=copy)
    assert services.latest_published(se_questionnaire) == copy


def test_build_a_questionnaire_from_the_bank_keeps_conditions(world):
    secretariat = world.users["secretariat"]
    version = services.build_questionnaire(
        user=secretariat, slug="pilot", title="Pilot", sections=[("Impact", ["tracks-impact", "impact-methods"])],
        required=["tracks-impact"])
    methods = version.questions.get(code="impact-methods")
    assert methods.condition_code == "tracks-impact"
    assert methods.condition_values == ["yes"]
    assert version.questions.get(code="tracks-impact").required
    with pytest.raises(PermissionDenied):
        services.build_questionnaire(user=world.users["member"], slug="x", title="X", sections=[("A", ["country"])])
    with pytest.raises(ValidationError) as error:
        services.build_questionnaire(user=secretariat, slug="pilot", title="Again", sections=[("A", ["country"])])
    assert error.value.field == "slug"


def test_invitations_email_personal_links_to_cluster_managers(world, survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = services.invite(user=world.users["secretariat"], survey=survey, clusters=[world.published],
                                  emails=["someone@example.org", "someone@example.org"], language="fr")
    assert [i.email for i in created] == ["manager-own@example.org", "someone@example.org"]
    assert created[0].cluster == world.published
    assert len(mail.outbox) == 2
    assert created[0].token in mail.outbox[0].body
    assert "Pôle Paris Solidaire" in mail.outbox[0].body
    with pytest.raises(ValidationError) as error:
        services.invite(user=world.users["secretariat"], survey=survey, clusters=[ClusterFactory(name="Unmanaged")])
    assert error.value.field == "clusters"
    with pytest.raises(ValidationError) as error:
        services.invite(user=world.users["secretariat"], survey=survey, emails=["not an address"])
    assert error.value.field == "emails"


def test_save_and_resume_then_send_with_a_confirmation_copy(world, survey, django_capture_on_commit_callbacks):
    invitation = services.invite(user=world.users["secretariat"], survey=survey, emails=["r@example.org"])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw={"vehicle-type": "csei"}, submit=False)
    again = services.response_for(invitation)
    assert again.pk == response.pk
    assert again.answers.get().value == "csei"
    with pytest.raises(services.AnswerErrors) as error:
        services.save_answers(response=again, raw={"vehicle-type": "csei"}, submit=True)
    assert set(error.value.errors) == {"country", "tracks-impact", "public-support"}
    with django_capture_on_commit_callbacks(execute=True):
        services.save_answers(response=again, raw={**MINIMAL, "members-count": "12", "motives-text": "Markets"},
                              submit=True)
    again.refresh_from_db()
    assert again.status == ResponseStatus.SUBMITTED
    assert mail.outbox[-1].to == ["r@example.org"]
    assert "Markets" in mail.outbox[-1].body
    assert "12 members" in mail.outbox[-1].body
    with pytest.raises(Conflict):
        services.save_answers(response=again, raw=MINIMAL, submit=True)


def test_conditional_answers_are_kept_only_when_their_condition_holds(world, survey):
    invitation = services.invite(user=world.users["secretariat"], survey=survey, emails=["c@example.org"])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw={**MINIMAL, "impact-methods": ["sroi"]}, submit=True)
    assert not response.answers.filter(question__code="impact-methods").exists()
    other = services.response_for(services.invite(user=world.users["secretariat"], survey=survey,
                                                  emails=["d@example.org"])[0])
    services.save_answers(response=other, raw={**MINIMAL, "tracks-impact": "yes", "impact-methods": ["sroi"]},
                          submit=True)
    assert other.answers.get(question__code="impact-methods").value == ["sroi"]


@pytest.mark.parametrize(("code", "raw", "message"), [
    ("members-count", "twelve", "Write a number"),
    ("country", "XX", "not an ISO country code"),
    ("main-region", "ZZ999", "not a NUTS 2021 region code"),
    ("main-sector", "99.99", "not a NACE Rev. 2 code"),
    ("differs-from-traditional", "7", "from 1 to 5"),
    ("vehicle-type", "castle", "not one of the choices"),
    ("scaling-features", {"staff": "always"}, "not a choice"),
])
def test_bad_answers_are_refused_with_the_question_named(world, survey, code, raw, message):
    version = services.latest_published(survey.questionnaire)
    with pytest.raises(services.AnswerErrors) as error:
        services.clean_answers(version=version, raw={**MINIMAL, code: raw}, submit=False)
    assert list(error.value.errors) == [code]
    assert message in error.value.errors[code]


def test_a_region_code_of_another_nuts_version_is_refused(world, survey):
    # Codes change between NUTS versions: a code that exists only in NUTS 2016 names no region we map.
    version = services.latest_published(survey.questionnaire)
    paris = Region.objects.get(code="FR101", version=NUTS_VERSION)
    Region.objects.create(code="FRZ99", version="2016", level=3, country_id=paris.country_id,
                          name_latn="Old region", name_native="Old region")
    with pytest.raises(services.AnswerErrors) as error:
        services.clean_answers(version=version, raw={**MINIMAL, "main-region": "frz99"}, submit=False)
    assert "not a NUTS 2021 region code" in error.value.errors["main-region"]
    cleaned = services.clean_answers(version=version, raw={**MINIMAL, "main-region": "fr101"}, submit=False)
    assert cleaned["main-region"] == "FR101"


def test_closed_surveys_take_no_answers_and_reminders_skip_those_who_answered(world, survey,
                                                                                 django_capture_on_commit_callbacks):
    secretariat = world.users["secretariat"]
    done, waiting = services.invite(user=secretariat, survey=survey, emails=["done@example.org", "wait@example.org"])
    services.save_answers(response=services.response_for(done), raw=MINIMAL, submit=True)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report = services.send_reminders(now=timezone.now() + timedelta(days=4))
    assert report.reminded == 1
    assert [m.to for m in mail.outbox] == [["wait@example.org"]]
    assert "Reminder" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders(now=timezone.now() + timedelta(days=5)).reminded == 0  # too soon again
    report = services.send_reminders(now=timezone.now() + timedelta(days=31))
    assert report.closed == ["Mapping 2026"]
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    with pytest.raises(Conflict):
        services.save_answers(response=services.response_for(waiting), raw=MINIMAL, submit=True)


def test_import_answers_from_csv_with_a_column_mapping(world, survey):
    content = (
        "Cluster id,Type,Land,Impact,Support,Members,Motives\n"
        f"{world.published.pk},territorial,FR,yes,no,25,markets;innovation\n"
        ",csei,DE,no,yes,,\n"
    ).encode()
    mapping = {"Cluster id": "cluster", "Type": "vehicle-type", "Land": "country", "Impact": "tracks-impact",
               "Support": "public-support", "Members": "members-count", "Motives": "motives"}
    result = services.import_answers(user=world.users["secretariat"], survey=survey, name="old.csv",
                                     content=content, mapping=mapping)
    assert (result.responses, result.answers) == (2, 10)
    first = Response.objects.get(survey=survey, imported_line=2)
    assert first.cluster == world.published
    assert first.answers.get(question__code="motives").value == ["markets", "innovation"]


def test_import_is_atomic_and_names_the_line_and_column(world, survey):
    content = (
        b"Type,Land,Impact,Support,Members\n"
        b"territorial,FR,yes,no,25\n"
        b"territorial,FR,yes,no,lots\n"
    )
    mapping = {"Type": "vehicle-type", "Land": "country", "Impact": "tracks-impact", "Support": "public-support",
               "Members": "members-count"}
    with pytest.raises(ValidationError) as error:
        services.import_answers(user=world.users["secretariat"], survey=survey, name="old.csv", content=content,
                                mapping=mapping)
    assert (error.value.line, error.value.field) == (3, "Members")
    assert str(error.value).startswith("line 3, field 'Members'")
    assert not Response.objects.filter(survey=survey).exists()
    with pytest.raises(ValidationError) as error:
        services.import_answers(user=world.users["secretariat"], survey=survey, name="old.csv", content=content,
                                mapping={"Nope": "country"})
    assert error.value.field == "mapping"


def test_import_from_xlsx(world, survey):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["type", "country", "impact", "support", "fte"])
    sheet.append(["sectoral", "BE", "dont_know", "no", 1.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = services.import_answers(
        user=world.users["secretariat"], survey=survey, name="export.xlsx", content=buffer.getvalue(),
        mapping={"type": "vehicle-type", "country": "country", "impact": "tracks-impact", "support": "public-support",
                 "fte": "management-fte"})
    assert result.responses == 1
    assert Answer.objects.get(question__code="management-fte").value == 1.5


def test_accepted_answers_update_the_cluster_profile_with_the_survey_as_source(world, survey):
    invitation = services.invite(user=world.users["secretariat"], survey=survey, clusters=[world.published])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw={**MINIMAL, "tracks-impact": "yes", "founded-year": "2014",
                                                  "member-types": ["business", "public"]}, submit=True)
    updates = services.accept_response(user=world.users["secretariat"], response=response)
    assert {u.field for u in updates} == {"tracks_impact", "founded_year", "declared_member_types",
                                          "receives_public_support"}
    cluster = Cluster.objects.get(pk=world.published.pk)
    assert (cluster.tracks_impact, cluster.founded_year, cluster.receives_public_support) == (True, 2014, True)
    assert cluster.declared_member_types == ["business", "public"]
    record = SourceRecord.objects.get(cluster=cluster, source=survey.source)
    assert record.external_id == f"response-{response.pk}"
    assert "2014" in record.quote
    assert cluster.history.count() >= 2  # the change is in the cluster's history too
    with pytest.raises(Conflict):
        services.accept_response(user=world.users["secretariat"], response=response)


def test_coding_and_findings(world, survey):
    secretariat, member = world.users["secretariat"], world.users["member"]
    invitation = services.invite(user=secretariat, survey=survey, emails=["t@example.org"])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw={**MINIMAL, "barriers-text": "No funding for joint work"},
                          submit=True)
    answer = Answer.objects.get(question__code="barriers-text")
    code = services.add_code(user=secretariat, survey=survey, category="barrier", label="Finance",
                             keywords=["funding", " money "])
    assert code.keywords == ["funding", "money"]
    services.code_answer(user=secretariat, answer=answer, code=code, suggested_by="keyword")
    services.code_answer(user=member, answer=answer, code=code)
    with pytest.raises(Conflict):
        services.code_answer(user=member, answer=answer, code=code)
    with pytest.raises(PermissionDenied):
        services.code_answer(user=world.users["representative"], answer=answer, code=code)
    with pytest.raises(ValidationError):
        services.code_answer(user=secretariat, answer=Answer.objects.get(question__code="country"), code=code)
    finding = services.create_finding(
        user=secretariat, survey=survey, title="Funding blocks cooperation", text="Respondents name funding.",
        answers=[answer], others=[{"kind": "statistic", "label": "Share naming finance", "base_n": 12,
                                   "source": "Mapping 2026, question barriers"}])
    kinds = [(e.kind, e.base_n) for e in finding.evidence.all()]
    assert kinds == [(EvidenceKind.ANSWER, 1), (EvidenceKind.STATISTIC, 12)]
    assert "response #" in finding.evidence.first().source
    with pytest.raises(ValidationError) as error:
        services.create_finding(user=secretariat, survey=survey, title="T", text="x",
                                others=[{"kind": "statistic", "label": "x", "source": "y"}])
    assert "base" in error.value.message
    assert Code.objects.count() == 1
    assert Invitation.objects.count() == 1
    assert Question.objects.exists()


def test_social_economy_and_traditional_clusters_compared_with_effect_sizes(db):
    from socialclusters.analysis.survey_analysis import mann_whitney_test
    from socialclusters.surveys import selectors

    se_members, trad_members = [12, 15, 30, 40, 22], [5, 8, 12, 60]
    for number, members in enumerate(se_members):
        ClusterFactory(name=f"SE {number}", kind="social_economy", members_count_stated=members,
                       tracks_impact=number % 2 == 0)
    for number, members in enumerate(trad_members):
        ClusterFactory(name=f"Trad {number}", kind="traditional", members_count_stated=members, tracks_impact=False)
    result = selectors.typology_comparisons()
    assert result["groups"] == {"social_economy": 5, "traditional": 4}
    members = next(row for row in result["comparisons"] if row["characteristic"] == "members")
    expected = mann_whitney_test(se_members, trad_members)
    assert (members["statistic"], members["effect_size"]) == (expected.statistic, expected.effect_size)
    assert members["group_n"] == {"social_economy": 5, "traditional": 4}
    impact = next(row for row in result["comparisons"] if row["characteristic"] == "tracks its impact")
    assert impact["test"] == "chi-square"
    assert impact["effect_name"] == "Cramér's V"
    feature = next(row for row in result["scaling"] if row["feature"] == "tracks its impact")
    # With the feature: 12, 30, 22 (median 22); without: 15, 40, 5, 8, 12, 60 (median 13.5).
    assert feature["median_difference"] == 8.5
    assert (feature["n_with"], feature["n_without"]) == (3, 6)
    assert feature["ci_low"] <= 8.5 <= feature["ci_high"]


def test_emailed_links_are_absolute_when_the_site_address_is_known(world, se_questionnaire,
                                                                    django_capture_on_commit_callbacks):
    survey = services.create_survey(user=world.users["secretariat"], questionnaire=se_questionnaire, title="Links",
                                    mode="identified", deadline=timezone.now() + timedelta(days=3),
                                    site_url="https://observatory.example.org/")
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite(user=world.users["secretariat"], survey=survey, emails=["l@example.org"])[0]
    assert f"https://observatory.example.org/surveys/answer/{invitation.token}/" in mail.outbox[-1].body
