"""The packed copy of sent answers that the analysis page reads: written when a response is sent or
imported, read back to exactly the answers stored, across questionnaire versions, and rebuilt when missing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from socialclusters.analysis.survey_analysis import QuestionSpec, analyse
from socialclusters.errors import ValidationError
from socialclusters.surveys import answer_store, selectors, services
from socialclusters.surveys.models import (
    AnalysisRow,
    Answer,
    Question,
    QuestionKind,
    Response,
    ResponseStatus,
    Survey,
)
from socialclusters.surveys.tests.conftest import MINIMAL

pytestmark = pytest.mark.django_db

COUNTRIES = ["FR", "DE", "IT", "BE", "ES"]


def random_answers(rng: np.random.Generator, questions: list[Question]) -> dict[str, Any]:
    """Answers to every kind the store packs (regions and NACE codes are left to the packing test)."""
    raw: dict[str, Any] = dict(MINIMAL)
    for q in questions:
        if rng.random() < 0.15 or q.kind in (QuestionKind.REGION, QuestionKind.NACE):
            continue
        options = q.option_values()
        if q.kind == QuestionKind.SINGLE:
            raw[q.code] = options[int(rng.integers(len(options)))]
        elif q.kind == QuestionKind.MULTIPLE:
            raw[q.code] = [o for o in options if rng.random() < 0.4]
        elif q.kind == QuestionKind.LIKERT:
            raw[q.code] = str(int(rng.integers(1, (q.scale_points or 5) + 1)))
        elif q.kind == QuestionKind.NUMBER:
            raw[q.code] = str(round(float(rng.lognormal(2, 1)), 1))
        elif q.kind == QuestionKind.COUNTRY:
            raw[q.code] = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        elif q.kind == QuestionKind.TEXT:
            raw[q.code] = "Working together with the region"
        elif q.kind == QuestionKind.MATRIX:
            raw[q.code] = {q.rows[0]["value"]: options[0]}
    return raw


def send(world: Any, survey: Survey, count: int, rng: np.random.Generator, start: int = 0) -> None:
    emails = [f"respondent{i}@example.org" for i in range(start, start + count)]
    for invitation in services.invite(user=world.users["secretariat"], survey=survey, emails=emails):
        response = services.response_for(invitation)
        questions = list(response.version.questions.all())
        services.save_answers(response=response, raw=random_answers(rng, questions), submit=True)


def plain_frame(survey: Survey, questions: list[Question]) -> pd.DataFrame:
    """The answers as Python values straight from ``Answer`` rows: what the packed copy must reproduce."""
    ids = list(Response.objects.filter(survey=survey, status=ResponseStatus.SUBMITTED).order_by("pk")
               .values_list("pk", flat=True))
    data: dict[str, list[Any]] = {q.code: [None] * len(ids) for q in questions}
    position = {pk: i for i, pk in enumerate(ids)}
    for response_id, code, value in Answer.objects.filter(response_id__in=ids).values_list(
            "response_id", "question__code", "value"):
        if code in data:
            data[code][position[response_id]] = value
    return pd.DataFrame(data, index=pd.Index(ids), dtype=object)


def specs_for(questions: list[Question], plain: pd.DataFrame) -> list[QuestionSpec]:
    specs = []
    for q in questions:
        if q.kind == QuestionKind.COUNTRY:
            specs.append(QuestionSpec(q.code, "single", tuple(sorted(plain[q.code].dropna().unique()))))
        else:
            specs.append(QuestionSpec(q.code, q.kind, tuple(q.option_values()), q.scale_points or 0))
    return specs


def test_sent_and_imported_responses_are_packed_but_saved_ones_are_not(world, survey):
    invitation = services.invite(user=world.users["secretariat"], survey=survey, emails=["a@example.org"])[0]
    response = services.response_for(invitation)
    services.save_answers(response=response, raw=MINIMAL, submit=False)
    assert not AnalysisRow.objects.filter(survey=survey).exists()
    services.save_answers(response=response, raw={**MINIMAL, "members-count": "25"}, submit=True)
    row = AnalysisRow.objects.get(response=response)
    layout = answer_store.layouts([response.version_id])[response.version_id]
    slots = np.frombuffer(bytes(row.slots), dtype="<i8")
    assert len(slots) == layout.width
    vehicle = layout.codes.index("vehicle-type")
    assert layout.options[vehicle][slots[vehicle]] == "territorial"
    assert slots.view("<f8")[layout.codes.index("members-count")] == 25.0
    assert answer_store.unpack_code(slots[layout.codes.index("country")]) == "FR"
    content = b"Type,Land,Impact,Support\nterritorial,FR,yes,no\ncsei,DE,no,yes\n"
    services.import_answers(user=world.users["secretariat"], survey=survey, name="old.csv", content=content,
                            mapping={"Type": "vehicle-type", "Land": "country", "Impact": "tracks-impact",
                                     "Support": "public-support"})
    assert AnalysisRow.objects.filter(survey=survey).count() == 3


def test_a_refused_import_packs_nothing(world, survey):
    content = b"Type,Land\nterritorial,FR\nnot-a-type,DE\n"
    with pytest.raises(ValidationError):
        services.import_answers(user=world.users["secretariat"], survey=survey, name="bad.csv", content=content,
                                mapping={"Type": "vehicle-type", "Land": "country"})
    assert not AnalysisRow.objects.exists()


def test_packed_answers_give_the_same_analysis_as_the_answers_across_versions(world, survey):
    rng = np.random.default_rng(5)
    secretariat = world.users["secretariat"]
    send(world, survey, 12, rng)
    # Version 2: options of a single and a multiple choice question reordered and one dropped, one question
    # removed; answers to version 1 keep their version and count under the same codes.
    version = services.latest_published(survey.questionnaire)
    draft = services.correct_version(user=secretariat, version=version, note="Reordered options")
    governance = draft.questions.get(code="governance")
    governance.options = list(reversed(governance.options))
    governance.save()
    motives = draft.questions.get(code="motives")
    motives.options = list(reversed(motives.options))[1:]
    motives.save()
    draft.questions.filter(code="drivers").delete()
    services.publish_version(user=secretariat, version=draft)
    send(world, survey, 9, rng, start=100)
    assert Response.objects.filter(survey=survey, version=draft, status=ResponseStatus.SUBMITTED).count() == 9
    questions = list(draft.questions.order_by("section__position", "position"))
    coded, clusters = answer_store.read(survey, questions)
    plain = plain_frame(survey, questions)
    assert list(coded.index) == list(plain.index)
    assert len(clusters) == 21
    for q in questions:
        if q.kind in (QuestionKind.SINGLE, QuestionKind.COUNTRY, QuestionKind.LIKERT):
            got = [None if pd.isna(v) else v for v in coded[q.code].astype(object)]
            want = [None if v is None else (int(v) if q.kind == QuestionKind.LIKERT else v) for v in plain[q.code]]
            assert got == want, q.code
    specs = specs_for(questions, plain)
    assert analyse(coded, specs) == analyse(plain, specs)
    assert analyse(coded, specs)["motives"]["n"] == int(plain["motives"].notna().sum())


def test_missing_packed_rows_are_rebuilt_on_the_next_read(world, survey):
    send(world, survey, 6, np.random.default_rng(9))
    before = selectors.analysis(survey, by="country")
    AnalysisRow.objects.filter(survey=survey).delete()
    assert answer_store.ensure_rows(survey) == 6
    assert answer_store.ensure_rows(survey) == 0
    AnalysisRow.objects.filter(survey=survey).delete()
    from django.core.cache import cache

    cache.clear()
    assert selectors.analysis(survey, by="country") == before
    assert AnalysisRow.objects.filter(survey=survey).count() == 6


def test_codes_pack_to_eight_ascii_bytes_and_numbers_keep_their_bits():
    layout = answer_store.Layout(1, ("r", "s", "n", "m", "t"),
                                 (QuestionKind.REGION, QuestionKind.NACE, QuestionKind.NUMBER, QuestionKind.MULTIPLE,
                                  QuestionKind.TEXT), ((), (), (), ("x", "y", "z"), ()))
    slots = np.frombuffer(answer_store.pack(layout, {"r": "FR101", "s": "88.99", "n": 0.1, "m": ["z", "x", "?"],
                                                     "t": "words"}), dtype="<i8")
    assert [answer_store.unpack_code(v) for v in slots[:2]] == ["FR101", "88.99"]
    assert slots.view("<f8")[2] == 0.1
    assert slots[3] == 0b101
    assert slots[4] == 1
    empty = np.frombuffer(answer_store.pack(layout, {}), dtype="<i8")
    assert list(empty[[0, 1, 3, 4]]) == [-1, -1, -1, -1]
    assert np.isnan(empty.view("<f8")[2])
    assert answer_store.pack_code("TOO-LONG-CODE") == -1
