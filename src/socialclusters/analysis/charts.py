"""Static charts for reports and downloads: PNG or SVG bytes, rendered on the server with matplotlib.

Every chart carries its base (``n = …``) and its source in a footer when they are given, so a figure
copied into a report keeps what a reader needs to judge it. Output is deterministic: the same data give
the same bytes (SVG ids and metadata dates are fixed), which keeps generated reports reproducible.

The palette is colour-blind safe (Okabe–Ito) and stacked segments also differ by hatching, so a chart
printed in grey still reads.

Examples
--------
>>> svg = bar_chart(["Cooperatives", "Associations"], [12, 30], title="Organisations", n=42, fmt="svg")
>>> svg.startswith(b"<?xml")
True
>>> png = histogram([1, 2, 2, 3, 5], bins=4, title="Members", fmt="png")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # before pyplot is imported: no display on a server

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")

_RC: dict[str, Any] = {
    "svg.hashsalt": "socialclusters",  # stable element ids
    "svg.fonttype": "none",  # text stays text: searchable, and smaller
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def style() -> Any:
    """The house style (fonts, spines, stable SVG ids) as a matplotlib context manager."""
    return mpl.rc_context(_RC)  # type: ignore[arg-type]


def check_format(fmt: str) -> None:
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"fmt: expected one of {sorted(CONTENT_TYPES)}, got {fmt!r}")


def footer(figure: Figure, n: int | None, source: str | None) -> None:
    parts = []
    if n is not None:
        parts.append(f"n = {n:,}")
    if source:
        parts.append(f"Source: {source}")
    if parts:
        figure.text(0.01, 0.01, " · ".join(parts), fontsize=7.5, color="#333333", ha="left", va="bottom")


def render(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _figure(rows: int) -> tuple[Figure, Any]:
    height = min(12.0, max(2.4, 0.9 + 0.32 * rows))
    figure, axes = plt.subplots(figsize=(7.0, height))
    figure.subplots_adjust(bottom=0.18)
    return figure, axes


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    n: int | None = None,
    source: str | None = None,
    value_label: str = "",
    fmt: str = "svg",
) -> bytes:
    """Horizontal bars, one per label, in the order given, each with its value written at its end.

    Parameters
    ----------
    labels, values : sequences of the same length
    title : str
    n : int, optional
        The base the values come from, printed in the footer.
    source : str, optional
        Where the values come from, printed in the footer.
    value_label : str
        The axis label (a unit such as "organisations").
    fmt : {"svg", "png"}

    Examples
    --------
    >>> bar_chart(["A"], [1.5], title="t")[:5]
    b'<?xml'
    """
    check_format(fmt)
    if len(labels) != len(values):
        raise ValueError(f"values: expected {len(labels)} values, one per label, got {len(values)}")
    with style():
        figure, axes = _figure(len(labels))
        positions = range(len(labels))
        bars = axes.barh(list(positions), [float(v) for v in values], color=PALETTE[0])
        axes.set_yticks(list(positions), [str(label) for label in labels])
        axes.invert_yaxis()
        axes.bar_label(bars, labels=[_number(v) for v in values], padding=3, fontsize=8)
        axes.set_xlabel(value_label)
        axes.set_title(title, loc="left", fontsize=11)
        axes.margins(x=0.12)
        footer(figure, n, source)
        return render(figure, fmt)


def stacked_bar_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    n: int | None = None,
    source: str | None = None,
    percent: bool = True,
    fmt: str = "svg",
) -> bytes:
    """One horizontal bar per category, one segment per series (a Likert item's answers, for example).

    With ``percent`` each bar is scaled to 100 % of its own total; a category with no answers stays empty.

    Examples
    --------
    >>> svg = stacked_bar_chart(["Q1", "Q2"], {"agree": [3, 1], "disagree": [1, 3]}, title="Likert")
    >>> b"agree" in svg
    True
    """
    check_format(fmt)
    for name, values in series.items():
        if len(values) != len(categories):
            raise ValueError(f"series[{name!r}]: expected {len(categories)} values, got {len(values)}")
    with style():
        figure, axes = _figure(len(categories))
        totals = [sum(float(values[i]) for values in series.values()) for i in range(len(categories))]
        left = [0.0] * len(categories)
        for index, (name, values) in enumerate(series.items()):
            widths = [
                (float(v) / totals[i] * 100 if totals[i] else 0.0) if percent else float(v)
                for i, v in enumerate(values)
            ]
            axes.barh(
                list(range(len(categories))), widths, left=left, label=str(name),
                color=PALETTE[index % len(PALETTE)], hatch=HATCHES[index % len(HATCHES)], edgecolor="white",
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axes.set_yticks(list(range(len(categories))), [str(c) for c in categories])
        axes.invert_yaxis()
        axes.set_xlabel("%" if percent else "")
        if percent:
            axes.set_xlim(0, 100)
        axes.set_title(title, loc="left", fontsize=11)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(5, max(1, len(series))),
                    frameon=False, fontsize=8)
        footer(figure, n, source)
        return render(figure, fmt)


def histogram(
    values: Sequence[float],
    *,
    bins: int = 20,
    title: str,
    n: int | None = None,
    source: str | None = None,
    value_label: str = "",
    fmt: str = "svg",
) -> bytes:
    """The distribution of a numeric answer or indicator; missing values (NaN) are left out.

    Examples
    --------
    >>> histogram([1.0, float("nan"), 2.0], bins=2, title="h")[:5]
    b'<?xml'
    """
    check_format(fmt)
    if bins < 1:
        raise ValueError(f"bins: expected a positive number, got {bins}")
    clean = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    with style():
        figure, axes = _figure(8)
        axes.hist(clean, bins=bins, color=PALETTE[0], edgecolor="white")
        axes.set_xlabel(value_label)
        axes.set_ylabel("count")
        axes.set_title(title, loc="left", fontsize=11)
        footer(figure, len(clean) if n is None else n, source)
        return render(figure, fmt)


def line_chart(
    x: Sequence[Any],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    n: int | None = None,
    source: str | None = None,
    value_label: str = "",
    fmt: str = "svg",
) -> bytes:
    """One line per series over ``x`` (years, for example), each line with its own marker shape.

    Examples
    --------
    >>> line_chart([2020, 2021], {"jobs": [10, 12]}, title="Jobs")[:5]
    b'<?xml'
    """
    check_format(fmt)
    markers = ("o", "s", "^", "D", "v", "P", "X", "*")
    with style():
        figure, axes = _figure(8)
        for index, (name, values) in enumerate(series.items()):
            if len(values) != len(x):
                raise ValueError(f"series[{name!r}]: expected {len(x)} values, got {len(values)}")
            axes.plot(list(x), [float("nan") if v is None else float(v) for v in values], label=str(name),
                      color=PALETTE[index % len(PALETTE)], marker=markers[index % len(markers)])
        axes.set_ylabel(value_label)
        axes.set_title(title, loc="left", fontsize=11)
        if len(series) > 1:
            axes.legend(frameon=False, fontsize=8)
        if all(isinstance(v, int) for v in x):
            axes.set_xticks(list(x))
        footer(figure, n, source)
        return render(figure, fmt)


def _number(value: float) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
