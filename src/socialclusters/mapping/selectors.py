"""Reads of the mapping app: regional statistics as querysets and long DataFrames."""

from __future__ import annotations

import pandas as pd
from django.db.models import QuerySet

from socialclusters.mapping.models import RegionalStatistic
from socialclusters.registry.models import NUTS_VERSION


def regional_statistics(
    *,
    measure: str | None = None,
    year: int | None = None,
    dataset: str | None = None,
    nuts_version: str = NUTS_VERSION,
    level: int | None = None,
) -> QuerySet[RegionalStatistic]:
    """Statistics of one NUTS version (never mixed), optionally of one measure, year, dataset or level."""
    stats = RegionalStatistic.objects.filter(region__version=nuts_version).select_related("region", "source")
    if measure is not None:
        stats = stats.filter(measure=measure)
    if year is not None:
        stats = stats.filter(year=year)
    if dataset is not None:
        stats = stats.filter(source__name=dataset)
    if level is not None:
        stats = stats.filter(region__level=level)
    return stats


def statistics_frame(**filters: object) -> pd.DataFrame:
    """The same statistics as a long DataFrame (region, sector_code, year, measure, unit, value, flags, source)."""
    columns = ["region__code", "sector_code", "year", "measure", "unit", "value", "flags", "source__name",
               "source__version"]
    frame = pd.DataFrame.from_records(list(regional_statistics(**filters).values_list(*columns)),  # type: ignore[arg-type]
                                      columns=columns)
    return frame.rename(columns={"region__code": "region", "source__name": "source",
                                 "source__version": "source_version"})
