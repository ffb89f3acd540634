"""The real clusters of ../shared/data/clusters/ classified with their reasons: every cluster its source
describes as a PTCE comes out as a territorial social economy cluster."""

from __future__ import annotations

import csv

import pytest
from django.conf import settings

from socialclusters.analysis.typology import normalise_text
from socialclusters.registry.imports import import_clusters
from socialclusters.surveys import selectors

pytestmark = pytest.mark.django_db

CLUSTERS_FILE = "clusters/known-se-clusters.csv"


@pytest.fixture
def real_clusters():  # type: ignore[no-untyped-def]
    if settings.SHARED_DATA_DIR is None or not (settings.SHARED_DATA_DIR / CLUSTERS_FILE).exists():
        pytest.skip("the shared data folder with the known clusters is not here")
    path = settings.SHARED_DATA_DIR / CLUSTERS_FILE
    import_clusters(path)
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_real_clusters_are_classified_with_reasons(real_clusters):
    data = selectors.typology_overview()
    assert data["n"] == len(real_clusters) == 54
    by_name = {c["name"]: c for c in data["clusters"]}
    ptce = [row for row in real_clusters if "ptce" in normalise_text(row["type_as_described"])
            or "pole territorial de cooperation economique" in normalise_text(row["type_as_described"])]
    assert len(ptce) >= 20
    for row in ptce:
        cluster = by_name[row["name"]]
        assert cluster["type"] == "territorial_se", row["name"]
        assert "ptce-described" in [f["code"] for f in cluster["fired"]]
        evidence = cluster["evidence"]["type_as_described"]
        assert evidence["value"] == row["type_as_described"]
        assert evidence["source"].startswith("known-se-clusters 2026-11")  # the dataset and its line
    classified = [c for c in data["clusters"] if c["type"] != "unclassified"]
    assert all(c["fired"] for c in classified)
    counts = {t["code"]: t["count"] for t in data["types"]}
    assert sum(counts.values()) == 54
    assert counts["territorial_se"] == len(ptce)


def test_data_driven_typology_on_real_clusters(real_clusters):
    result = selectors.data_driven_typology(groups=3, resamples=5)
    assert result["n"] == 54
    assert sum(group["size"] for group in result["groups"]) == 54
    assert 0 <= result["stability"]["mean_ari"] <= 1
    assert set(result["comparison"]["crosstab"]) >= {"territorial_se"}
