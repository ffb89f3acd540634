"""Reads of surveys, evidence and typology: questionnaires, survey progress, the analysis of one survey,
free-text answers with code suggestions, coder agreement, findings, and the typology of clusters.

The HTML pages and the JSON API call the same functions, so whatever a person sees a program can fetch.
"""

from __future__ import annotations

import gettext
import hashlib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pycountry
from django.core.cache import cache
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from socialclusters.analysis import survey_analysis, typology
from socialclusters.errors import NotFound, ValidationError
from socialclusters.registry.models import (
    NUTS_VERSION,
    SOCIAL_ECONOMY_KINDS,
    Cluster,
    Country,
    Membership,
    PublicationStatus,
    Region,
    Sector,
    SourceRecord,
    UrbanRuralType,
)
from socialclusters.registry.refdata import EU_MEMBER_STATES
from socialclusters.surveys import answer_store
from socialclusters.surveys.models import (
    Answer,
    BankQuestion,
    Code,
    Coding,
    Finding,
    Invitation,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    ResponseStatus,
    Survey,
    Theme,
    TypeOverride,
    translated,
)

if TYPE_CHECKING:
    pass

# The breakdowns an analysis page offers: name → label.
BREAKDOWNS = {
    "cluster_kind": "Cluster kind",
    "cluster_type": "Cluster type (rule-based typology)",
    "country": "Country",
    "urban_rural": "Urban-rural type",
    "size": "Size (members)",
}
SIZE_BANDS = ((15, "fewer than 15"), (50, "15–49"), (250, "50–249"))
SIMILARITY_MIN = 0.2

# Listed first in the country picker: the EU, EFTA and the candidate countries (ISO 3166-1 alpha-2).
EFTA_STATES = frozenset({"CH", "IS", "LI", "NO"})
CANDIDATE_COUNTRIES = frozenset({"AL", "BA", "GE", "MD", "ME", "MK", "RS", "TR", "UA"})
EUROPEAN_COUNTRIES = EU_MEMBER_STATES | EFTA_STATES | CANDIDATE_COUNTRIES


# --- reference data for the answer form's pickers -------------------------------------------------


def _country_name_translator(language: str) -> Any:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:  # no catalogue for this language: the registry's English names
        return str


def country_choices(language: str = "en") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The countries as ``(code, name)`` pairs in two lists sorted by name: the EU, EFTA and candidate
    countries, then the others. Names are in ``language`` where pycountry has them (fr, de), else English."""
    name_of = _country_name_translator(language)
    european: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    for code, name in Country.objects.values_list("code", "name"):
        (european if code in EUROPEAN_COUNTRIES else others).append((code, name_of(name)))
    return sorted(european, key=_name_key), sorted(others, key=_name_key)


def _name_key(choice: tuple[str, str]) -> str:
    """Sort key that files Åland under A and Émirats under E."""
    decomposed = unicodedata.normalize("NFKD", choice[1].casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def region_options() -> list[tuple[str, str, int]]:
    """The NUTS regions a respondent can name, as ``(code, name, level)``: levels 1 to 3 of the NUTS
    version in use, without the "Extra-Regio" codes (FRZ, FRZZ, FRZZZ), which are no place to work in."""
    rows = Region.objects.filter(version=NUTS_VERSION, level__gte=1).order_by("code").values_list(
        "code", "name_latn", "level")
    return [row for row in rows if row[0][2:].strip("Z")]


def sector_options() -> list[tuple[str, str]]:
    """Every NACE Rev. 2 code (sections, divisions, groups, classes) as ``(code, label)``, in code order."""
    return list(Sector.objects.order_by("code").values_list("code", "label"))


def bank_by_theme() -> list[tuple[str, list[BankQuestion]]]:
    grouped: dict[str, list[BankQuestion]] = defaultdict(list)
    for question in BankQuestion.objects.order_by("theme", "code"):
        grouped[question.theme].append(question)
    return [(str(Theme(theme).label), grouped[theme]) for theme in Theme.values if grouped[theme]]


def questionnaires() -> QuerySet[Questionnaire]:
    return Questionnaire.objects.prefetch_related("versions", "surveys").order_by("slug")


def version_detail(pk: int) -> QuestionnaireVersion:
    version = (QuestionnaireVersion.objects.select_related("questionnaire")
               .prefetch_related("sections__questions").filter(pk=pk).first())
    if version is None:
        raise NotFound(f"no questionnaire version {pk}")
    return version


def survey(pk: int) -> Survey:
    found = Survey.objects.select_related("questionnaire", "source").filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no survey {pk}")
    return found


def surveys() -> QuerySet[Survey]:
    return Survey.objects.select_related("questionnaire").annotate(
        invited=Count("invitations", distinct=True),
        sent=Count("responses", filter=Q(responses__status=ResponseStatus.SUBMITTED), distinct=True),
    ).order_by("-created_at")


def invitation_by_token(token: str) -> Invitation:
    invitation = Invitation.objects.select_related("survey__questionnaire", "cluster").filter(token=token).first()
    if invitation is None:
        raise NotFound("this link is not valid")
    return invitation


@dataclass
class Progress:
    invited: int
    started: int
    sent: int
    rate: float | None
    not_answered: list[Invitation]
    by_group: list[dict[str, Any]]


def progress(survey_obj: Survey) -> Progress:
    """Response rate, and who has not answered (addresses are the secretariat's to see)."""
    invitations = list(survey_obj.invitations.select_related("cluster__country", "response").order_by("email"))
    sent_flags = [getattr(getattr(i, "response", None), "status", None) == ResponseStatus.SUBMITTED
                  for i in invitations]
    started = sum(1 for i in invitations if getattr(i, "response", None) is not None)
    groups = [(i.cluster.country_id if i.cluster and i.cluster.country_id else "—") for i in invitations]
    by_group = []
    if invitations:
        table = survey_analysis.response_rates(groups, sent_flags)
        by_group = [{"group": str(index), **{k: (float(v) if k == "rate" else int(v)) for k, v in row.items()}}
                    for index, row in table.iterrows()]
    sent = sum(sent_flags)
    return Progress(invited=len(invitations), started=started, sent=sent,
                    rate=round(100 * sent / len(invitations), 1) if invitations else None,
                    not_answered=[i for i, done in zip(invitations, sent_flags, strict=True) if not done],
                    by_group=by_group)


# --- the analysis page ---------------------------------------------------------------------------------


def _cluster_facts(cluster_ids: set[int]) -> dict[int, dict[str, Any]]:
    facts: dict[int, dict[str, Any]] = {}
    if not cluster_ids:
        return facts
    rural: dict[int, list[int]] = defaultdict(list)
    for cluster_id, level, value in Cluster.regions.through.objects.filter(cluster_id__in=cluster_ids).values_list(
            "cluster_id", "region__level", "region__urban_rural"):
        if level == 3 and value:
            rural[cluster_id].append(value)
    types = {c.cluster_id: c.type for c in typology_classifications(cluster_ids)}
    for cluster_id, kind, country, members in Cluster.objects.filter(pk__in=cluster_ids).values_list(
            "pk", "kind", "country_id", "members_count_stated"):
        values = rural.get(cluster_id)
        facts[cluster_id] = {
            "cluster_kind": kind, "country": country, "cluster_type": types.get(cluster_id),
            "urban_rural": str(UrbanRuralType(Counter(values).most_common(1)[0][0]).label) if values else None,
            "members": members,
        }
    return facts


def analysis_frame(survey_obj: Survey) -> tuple[pd.DataFrame, list[Question]]:
    """One row per sent response, one column per question code of the latest version (answers to earlier
    versions count under the same code), plus the breakdown columns.

    The answers come from their packed copy (``answer_store``: one row per response, not per answer), so
    reading 100,000 responses to 60 questions takes a fraction of a second. Column types are those of
    :func:`answer_store.read` (categoricals, floats, bit masks), which ``survey_analysis.analyse`` counts
    without a Python loop.
    """
    versions = QuestionnaireVersion.objects.filter(questionnaire=survey_obj.questionnaire, status="published")
    latest = versions.order_by("-number").first()
    if latest is None:
        raise NotFound("the questionnaire has no published version")
    questions = list(latest.questions.order_by("section__position", "position"))
    frame, cluster_ids = answer_store.read(survey_obj, questions)
    index = frame.index
    cluster_ids = cluster_ids.reset_index(drop=True)
    facts = pd.DataFrame.from_dict(_cluster_facts({int(c) for c in cluster_ids.dropna()}), orient="index")
    for name in ("cluster_kind", "cluster_type", "urban_rural", "country", "members"):
        known = facts[name] if name in facts else pd.Series(dtype=object)
        frame[f"_{name}"] = cluster_ids.map(known).to_numpy(dtype=object)
    for name in ("cluster_kind", "cluster_type", "urban_rural"):
        frame[name] = frame.pop(f"_{name}")
    answered_country = (frame["country"].astype(object) if "country" in frame
                        else pd.Series(None, index=index, dtype=object))
    frame["country"] = answered_country.where(answered_country.notna(), frame.pop("_country"))
    members = frame["members-count"] if "members-count" in frame else pd.Series(None, index=index, dtype=object)
    members = pd.to_numeric(members.where(members.notna(), frame.pop("_members")), errors="coerce")
    bands = pd.cut(members, bins=[-np.inf, *[limit for limit, _ in SIZE_BANDS], np.inf], right=False,
                   labels=[label for _, label in SIZE_BANDS] + ["250 or more"])
    frame["size"] = bands.astype(object).where(bands.notna(), None)
    return frame, questions


def _specs(questions: list[Question]) -> list[survey_analysis.QuestionSpec]:
    specs = []
    for q in questions:
        options: tuple[str, ...] = tuple(q.option_values())
        if q.kind in (QuestionKind.COUNTRY, QuestionKind.REGION, QuestionKind.NACE):
            options = ()
        specs.append(survey_analysis.QuestionSpec(code=q.code, kind=q.kind, options=options,
                                                  points=q.scale_points or 0))
    return specs


def _cache_key(survey_obj: Survey, by: str) -> str:
    state = Response.objects.filter(survey=survey_obj).aggregate(
        n=Count("pk", filter=Q(status=ResponseStatus.SUBMITTED)), last=Max("submitted_at"), accepted=Max("accepted_at"))
    # Cluster facts (kind, type, size) may change in the registry too: the cache lasts an hour at most.
    raw = f"{survey_obj.pk}|{by}|{state['n']}|{state['last']}|{state['accepted']}|{survey_obj.mode}"
    return "survey-analysis:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def analysis(survey_obj: Survey, *, by: str = "", language: str = "en") -> dict[str, Any]:
    """Everything the analysis page and its JSON twin show, for every question; cached until answers change."""
    if by and by not in BREAKDOWNS:
        raise ValidationError(f"unknown breakdown '{by}' (choose {', '.join(BREAKDOWNS)})", field="by")
    key = _cache_key(survey_obj, by) + language
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    frame, questions = analysis_frame(survey_obj)
    specs = _specs(questions)
    for spec, q in zip(specs, questions, strict=True):
        if not spec.options and q.kind in (QuestionKind.COUNTRY, QuestionKind.REGION, QuestionKind.NACE):
            column = frame[q.code]
            present = (column.cat.remove_unused_categories().cat.categories if isinstance(
                column.dtype, pd.CategoricalDtype) else column.dropna().unique())
            observed = sorted({str(v) for v in present})
            specs[specs.index(spec)] = survey_analysis.QuestionSpec(code=q.code, kind="single", options=tuple(observed))
    results = survey_analysis.analyse(frame, specs, by=by or None, anonymous=survey_obj.is_anonymous)
    items = []
    for question in questions:
        result = results[question.code]
        labels = {o["value"]: translated(o["label"], language) for o in question.options}
        options = result.get("options") or []
        items.append({
            "code": question.code, "kind": question.kind, "text": question.text_in(language),
            "theme": question.theme, "unit": translated(question.unit, language),
            "labels": [labels.get(o, o) for o in options], **result,
        })
    data = {
        "survey": survey_obj.pk, "title": survey_obj.title, "n": len(frame), "by": by,
        "anonymous": survey_obj.is_anonymous, "threshold": survey_analysis.ANONYMITY_THRESHOLD,
        "source": f"{survey_obj.title} ({survey_obj.questionnaire.slug})", "questions": items,
    }
    cache.set(key, data, 3600)
    return data


def question_result(data: dict[str, Any], code: str) -> dict[str, Any]:
    for item in data["questions"]:
        if item["code"] == code:
            return item  # type: ignore[no-any-return]
    raise NotFound(f"no question '{code}' in this survey")


# --- free text, codes and agreement -------------------------------------------------------------------


def text_questions(survey_obj: Survey) -> QuerySet[Question]:
    return Question.objects.filter(version__questionnaire=survey_obj.questionnaire, kind=QuestionKind.TEXT,
                                   version__status="published").order_by("code").distinct()


def free_text_answers(survey_obj: Survey, code: str) -> list[Answer]:
    return list(Answer.objects.filter(response__survey=survey_obj, response__status=ResponseStatus.SUBMITTED,
                                      question__code=code, question__kind=QuestionKind.TEXT)
                .select_related("question", "response")
                .prefetch_related(Prefetch("codings", queryset=Coding.objects.select_related("code", "coder")))
                .order_by("pk"))


def suggestions(answers: list[Answer], codes: list[Code]) -> dict[int, list[dict[str, Any]]]:
    """Codes to suggest for each answer: keyword matches, and codes of the most similar already-coded answers
    (TF-IDF cosine similarity of at least 0.2). A person confirms or ignores each suggestion."""
    result: dict[int, list[dict[str, Any]]] = {a.pk: [] for a in answers}
    for answer in answers:
        text = typology.normalise_text(str(answer.value))
        for code in codes:
            hits = [k for k in code.keywords if typology.normalise_text(k) and typology.normalise_text(k) in text]
            if hits:
                result[answer.pk].append({"code": code, "by": "keyword", "why": ", ".join(hits)})
    coded = [a for a in answers if a.codings.all()]
    if coded and len(answers) > 1:
        vectoriser = TfidfVectorizer(strip_accents="unicode", lowercase=True)
        try:
            matrix = vectoriser.fit_transform([str(a.value) for a in answers])
        except ValueError:  # only stop words or empty texts
            return result
        positions = {a.pk: i for i, a in enumerate(answers)}
        similarity = cosine_similarity(matrix, matrix[[positions[a.pk] for a in coded]])
        for answer in answers:
            row = similarity[positions[answer.pk]]
            own = {c.code_id for c in answer.codings.all()}
            seen = {s["code"].pk for s in result[answer.pk]}
            for j, other in enumerate(coded):
                if other.pk == answer.pk or row[j] < SIMILARITY_MIN:
                    continue
                for coding in other.codings.all():
                    if coding.code_id not in own and coding.code_id not in seen:
                        seen.add(coding.code_id)
                        result[answer.pk].append({"code": coding.code, "by": "similarity",
                                                  "why": f"{row[j]:.2f} like answer #{other.pk}"})
    return result


def coder_agreement(survey_obj: Survey) -> list[dict[str, Any]]:
    """Cohen's kappa per code for each pair of coders, on the answers both coded (a code present or not)."""
    codings = list(Coding.objects.filter(code__survey=survey_obj).values_list("answer_id", "code_id", "coder_id",
                                                                               "coder__username"))
    by_coder: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    names = {}
    for answer_id, code_id, coder_id, username in codings:
        by_coder[coder_id][answer_id].add(code_id)
        names[coder_id] = username
    rows = []
    coders = sorted(by_coder)
    codes = {c.pk: c for c in survey_obj.codes.all()}
    for i, first in enumerate(coders):
        for second in coders[i + 1:]:
            shared = sorted(set(by_coder[first]) & set(by_coder[second]))
            if not shared:
                continue
            for code_id, code in codes.items():
                a = [code_id in by_coder[first][answer] for answer in shared]
                b = [code_id in by_coder[second][answer] for answer in shared]
                if not any(a) and not any(b):
                    continue
                result = survey_analysis.cohen_kappa(a, b)
                rows.append({"coders": (names[first], names[second]), "code": code.label, "kappa": result.kappa,
                             "agreement": result.observed_agreement, "n": result.n})
    return rows


def findings(survey_obj: Survey | None = None) -> QuerySet[Finding]:
    queryset = Finding.objects.select_related("author", "survey").prefetch_related("evidence")
    return queryset.filter(survey=survey_obj) if survey_obj is not None else queryset


# --- typology --------------------------------------------------------------------------------------------


def _profile_sources(cluster_ids: set[int]) -> dict[int, str]:
    sources: dict[int, str] = {}
    for record in SourceRecord.objects.filter(cluster_id__in=cluster_ids).select_related("source").order_by("pk"):
        line = f", line {record.line}" if record.line else ""
        address = f" ({record.url})" if record.url else ""
        sources.setdefault(record.cluster_id or 0, f"{record.source}{line}{address}")
    return sources


def cluster_profiles(clusters: QuerySet[Cluster] | None = None) -> list[dict[str, Any]]:
    """One profile per cluster for the typology: registry fields, the social economy share of current members,
    and the latest accepted survey answers, each with where it came from."""
    queryset = clusters if clusters is not None else Cluster.objects.filter(
        publication_status=PublicationStatus.PUBLISHED)
    rows = list(queryset.values("pk", "name", "kind", "type_as_described", "description", "themes", "country_id",
                                "members_count_stated", "founded_year", "tracks_impact", "receives_public_support",
                                "management_fte"))
    ids = {row["pk"] for row in rows}
    members: dict[int, list[str]] = defaultdict(list)
    for cluster_id, kind in Membership.objects.filter(cluster_id__in=ids, until__isnull=True).values_list(
            "cluster_id", "organisation__kind"):
        members[cluster_id].append(kind)
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    for cluster_id, code, value, survey_title, response_id in Answer.objects.filter(
            response__cluster_id__in=ids, response__accepted_at__isnull=False,
            question__code__in=("vehicle-type", "se-members-present")).order_by("response__accepted_at").values_list(
            "response__cluster_id", "question__code", "value", "response__survey__title", "response_id"):
        answers[cluster_id][code] = (value, f"{survey_title}, response #{response_id}")
    sources = _profile_sources(ids)
    profiles = []
    for row in rows:
        source = sources.get(row["pk"], "registry")
        kinds = members.get(row["pk"], [])
        known = [k for k in kinds if k != "unknown"]
        profile_sources: dict[str, str] = dict.fromkeys(
            ("kind", "type_as_described", "name", "description", "themes"), source)
        profile: dict[str, Any] = {**row, "cluster_id": row["pk"], "sources": profile_sources}
        if known:
            profile["se_member_share"] = sum(k in SOCIAL_ECONOMY_KINDS for k in known) / len(known)
            profile_sources["se_member_share"] = f"registry memberships ({len(known)} current members)"
        for code, field_name in (("vehicle-type", "vehicle_type"), ("se-members-present", "se_members_present")):
            if code in answers[row["pk"]]:
                profile[field_name], profile_sources[field_name] = answers[row["pk"]][code]
        profiles.append(profile)
    return profiles


def typology_classifications(cluster_ids: set[int] | None = None) -> list[typology.Classification]:
    queryset = Cluster.objects.filter(pk__in=cluster_ids) if cluster_ids is not None else None
    return [typology.classify(p, cluster_id=p["pk"]) for p in cluster_profiles(queryset)]


def typology_overview(*, country: str = "") -> dict[str, Any]:
    """The typology page: every published cluster's rule-based type with its reasons, the secretariat's
    override beside it, counts by type and by country, examples and the rules in plain words."""
    profiles = cluster_profiles()
    if country:
        profiles = [p for p in profiles if p["country_id"] == country.upper()]
    overrides: dict[int, TypeOverride] = {}
    for override in TypeOverride.objects.select_related("decided_by").order_by("decided_at"):
        overrides[override.cluster_id] = override
    rules = {rule.code: rule for rule in typology.RULES}
    clusters = []
    for profile in profiles:
        result = typology.classify(profile, cluster_id=profile["pk"])
        found = overrides.get(profile["pk"])
        clusters.append({
            "id": profile["pk"], "name": profile["name"], "country": profile["country_id"], "kind": profile["kind"],
            "rule_type": result.type, "rule_type_label": typology.RULE_TYPES[result.type],
            "type": found.type if found else result.type,
            "fired": [{"code": code, "type": rules[code].type, "rule": rules[code].description}
                      for code in result.fired],
            "evidence": result.evidence,
            "override": {"type": found.type, "justification": found.justification,
                         "by": found.decided_by.get_username(), "at": found.decided_at.isoformat()}
            if found else None,
        })
    counts = Counter(c["type"] for c in clusters)
    by_country: dict[str, Counter[str]] = defaultdict(Counter)
    for c in clusters:
        by_country[c["country"] or "—"][c["type"]] += 1
    return {
        "rules_version": typology.RULES_VERSION,
        "n": len(clusters),
        "source": "socialclusters registry (published clusters) and accepted survey answers",
        "types": [{"code": code, "label": label, "count": counts.get(code, 0),
                   "examples": [c["name"] for c in clusters if c["type"] == code][:3]}
                  for code, label in typology.RULE_TYPES.items()],
        "by_country": [{"country": k, "counts": dict(v), "total": sum(v.values())}
                       for k, v in sorted(by_country.items())],
        "rules": [{"code": r.code, "type": r.type, "fields": list(r.fields), "rule": r.description}
                  for r in typology.RULES],
        "clusters": clusters,
    }


def data_driven_typology(*, groups: int = 4, resamples: int = 20) -> dict[str, Any]:
    """Gower distance and average-linkage clustering of published cluster profiles, with stability and a
    comparison with the rule-based types (needs at least ``groups`` + 1 profiles)."""
    profiles = cluster_profiles()
    if len(profiles) <= groups:
        return {"n": len(profiles), "groups": [], "note": "too few clusters for a data-driven typology"}
    frame = pd.DataFrame({
        "kind": [p["kind"] for p in profiles],
        "country": [p["country_id"] for p in profiles],
        "founded_year": [p["founded_year"] for p in profiles],
        "members": [p["members_count_stated"] for p in profiles],
        "se_member_share": [p.get("se_member_share") for p in profiles],
        "tracks_impact": [p["tracks_impact"] for p in profiles],
        "public_support": [p["receives_public_support"] for p in profiles],
    })
    frame = frame.loc[:, frame.notna().any()]
    categorical = [c for c in ("kind", "country", "tracks_impact", "public_support") if c in frame]
    distance = typology.gower_distance(frame, categorical=categorical)
    keep = ~pd.isna(distance).any(axis=1)
    frame, distance = frame[keep], distance[keep][:, keep]
    labels = typology.hierarchical_typology(distance, groups=groups)
    rule_types = [typology.classify(p).type for p, k in zip(profiles, keep, strict=True) if k]
    check = typology.stability(distance, groups=groups, resamples=resamples)
    return {"n": len(frame), "features": list(frame.columns),
            "groups": typology.group_profiles(frame, labels, categorical=categorical),
            "stability": check.__dict__,
            "comparison": typology.compare_with_rules(labels, rule_types)}


COMPARED = {  # characteristic → (profile field, test kind)
    "members": ("members_count_stated", "numeric"),
    "founding year": ("founded_year", "numeric"),
    "member types declared": ("member_types", "numeric"),
    "management staff (FTE)": ("management_fte", "numeric"),
    "social economy share of members": ("se_member_share", "numeric"),
    "tracks its impact": ("tracks_impact", "categorical"),
    "receives public support": ("receives_public_support", "categorical"),
}
SCALING_FEATURES = {"tracks its impact": "tracks_impact", "receives public support": "receives_public_support",
                    "website in English": "website_in_english", "dedicated management staff (0.5 FTE or more)":
                    "dedicated_staff"}


def typology_comparisons() -> dict[str, Any]:
    """Social economy against traditional clusters on each characteristic (test, effect size, each group's n),
    and how design features go with reach (members), as associations with a bootstrap interval."""
    rows = list(Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).values(
        "kind", "members_count_stated", "founded_year", "declared_member_types", "management_fte", "tracks_impact",
        "receives_public_support", "website_in_english"))
    shares = {p["pk"]: p.get("se_member_share") for p in cluster_profiles()}
    ids = list(Cluster.objects.filter(publication_status=PublicationStatus.PUBLISHED).values_list("pk", flat=True))
    frame = pd.DataFrame(rows)
    if frame.empty:
        return {"n": 0, "comparisons": [], "scaling": []}
    frame["se_member_share"] = [shares.get(pk) for pk in ids]
    frame["member_types"] = frame["declared_member_types"].map(lambda v: len(v) if v else None)
    frame["management_fte"] = pd.to_numeric(frame["management_fte"], errors="coerce")
    frame["dedicated_staff"] = frame["management_fte"].map(lambda v: None if pd.isna(v) else bool(v >= 0.5))
    for column in ("tracks_impact", "receives_public_support", "website_in_english"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    tests = typology.compare_groups(frame, group="kind", first="social_economy", second="traditional",
                                    characteristics=dict(COMPARED.values()))
    comparisons = []
    for label, (field_name, _kind) in COMPARED.items():
        result = tests[field_name]
        comparisons.append({"characteristic": label, **(result.__dict__ if result else
                                                         {"note": "not enough answers in both groups"})})
    scaling = []
    for label, field_name in SCALING_FEATURES.items():
        known = frame[frame[field_name].notna()]
        if known.empty:
            scaling.append({"feature": label, "n_with": 0, "n_without": 0})
            continue
        association = typology.scaling_associations(
            known.assign(flag=known[field_name].astype(bool)), outcome="members_count_stated", features=["flag"],
            resamples=1000)[0]
        scaling.append({"median_difference": None, "ci_low": None, "ci_high": None, **association,
                        "feature": label})
    return {"n": len(frame), "groups": {"social_economy": int((frame["kind"] == "social_economy").sum()),
                                        "traditional": int((frame["kind"] == "traditional").sum())},
            "outcome": "members (as stated by the source)", "comparisons": comparisons, "scaling": scaling,
            "caution": "Associations in observational data, not causes."}
