"""``socialclusters select-members APPLICATIONS.csv --seats 15-20 [...] --out RESULT.json``: the selection
outside the web app, for analysts (``analysis.selection``, OR-Tools CP-SAT)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialclusters.analysis.selection import REQUIRED_COLUMNS, Weights, greedy_selection, select_members


def seat_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match:
        raise CommandError(f"--seats: write a range such as 15-20 or a single number, got {text!r}")
    low = int(match.group(1))
    return low, int(match.group(2) or low)


class Command(BaseCommand):
    help = (
        "Propose the best group of working-group members from a CSV of applicants (columns "
        + ", ".join(REQUIRED_COLUMNS) + ", and optionally gender, available, lock); prove it optimal with "
        "OR-Tools CP-SAT; write the group, its explanation and the greedy pick's objective as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("applications", type=Path, help="CSV file, UTF-8, one row per applicant; 'areas' "
                            "separated by ';'; 'lock' (optional) is 'in', 'out' or empty")
        parser.add_argument("--seats", default="15-20", help="group size range, e.g. 15-20 (default)")
        parser.add_argument("--max-per-country", type=int, default=None, help="most members from one country")
        parser.add_argument("--require-areas", default="", help="comma-separated areas needing a member each")
        parser.add_argument("--min-per-area", type=int, default=1, help="members needed per required area (1)")
        parser.add_argument("--require-available", action="store_true",
                            help="only applicants whose 'available' column says yes")
        parser.add_argument("--time-limit", type=float, default=30.0, help="seconds before stopping (30)")
        parser.add_argument("--weights", default="", help="e.g. score=1,area=25,stakeholder_type=20,country=10,"
                            "gender_imbalance=10 (these are the defaults)")
        parser.add_argument("--out", type=Path, required=True, help="where to write the JSON result")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["applications"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            table = pd.read_csv(path, dtype={"id": str, "country": str, "areas": str, "gender": str, "lock": str},
                                keep_default_na=False, encoding="utf-8")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise CommandError(f"{path}: cannot read it as UTF-8 CSV ({exc})") from exc
        weights = self._weights(options["weights"])
        locks = table["lock"].str.strip().str.lower() if "lock" in table.columns else pd.Series("", index=table.index)
        bad = locks[~locks.isin(["", "in", "out"])]
        if len(bad):
            raise CommandError(f"{path}: line {int(bad.index[0]) + 2}: 'lock' must be in, out or empty")
        rules: dict[str, Any] = {
            "seats": seat_range(options["seats"]),
            "required_areas": [a.strip() for a in options["require_areas"].split(",") if a.strip()],
            "min_per_area": options["min_per_area"], "max_per_country": options["max_per_country"],
            "require_available": options["require_available"],
            "locked_in": list(table["id"][locks == "in"]), "locked_out": list(table["id"][locks == "out"]),
            "weights": weights,
        }
        try:
            result = select_members(table, **rules, time_limit=options["time_limit"], relaxations=True)
            greedy = greedy_selection(table, **rules)
        except (ValueError, TypeError) as exc:
            # Rows are counted from 1 after the header; the file's line is one more.
            message = re.sub(r"row (\d+)", lambda m: f"line {int(m.group(1)) + 1}", str(exc))
            raise CommandError(f"{path}: {message}") from exc
        data = result.to_dict()
        data["greedy"] = {"status": greedy.status, "objective": greedy.objective, "selected": greedy.selected}
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        options["out"].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if result.status == "infeasible":
            raise CommandError("no group keeps every rule: " + "; ".join(result.reasons)
                               + f" (details in {options['out']})")
        state = "proven optimal" if result.status == "optimal" else f"time limit reached, gap {result.gap:.2%}"
        self.stdout.write(f"{len(result.selected)} members selected ({state}), objective {result.objective:g} "
                          f"(greedy pick: {greedy.objective:g}) in {result.seconds:.2f} s; written to {options['out']}")

    @staticmethod
    def _weights(text: str) -> Weights:
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _sep, number = part.partition("=")
            if name.strip() not in Weights.__dataclass_fields__:
                raise CommandError(f"--weights: unknown weight {name.strip()!r} (known: "
                                   + ", ".join(Weights.__dataclass_fields__) + ")")
            try:
                values[name.strip()] = float(number)
            except ValueError:
                raise CommandError(f"--weights: {name.strip()} needs a number, got {number!r}") from None
        try:
            return Weights(**values)
        except ValueError as exc:
            raise CommandError(f"--weights: {exc}") from exc
