"""The French catalogue is complete and compiled, and French pages speak French."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

# French typography writes the apostrophe as U+2019.
APOSTROPHE = "\u2019"

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"


def _entries(po: str) -> list[dict[str, object]]:
    """Each entry of a .po file: its flags, msgid and msgstr values (plural forms included)."""
    entries = []
    for block in po.strip().split("\n\n"):
        flags: set[str] = set()
        fields: dict[str, str] = {}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line):
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif current and line.startswith('"'):
                fields[current] += ast.literal_eval(line)
        if "msgid" in fields:
            entries.append({"flags": flags, **fields})
    return entries


def test_french_catalogue_has_no_empty_or_fuzzy_entry():
    entries = _entries((LOCALE / "django.po").read_text(encoding="utf-8"))
    assert len(entries) > 300
    header = entries[0]
    assert header["msgid"] == ""
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header["msgstr"]
    problems = []
    for entry in entries:
        if "fuzzy" in entry["flags"]:
            problems.append(f"fuzzy: {entry['msgid']!r}")
        translations = [value for key, value in entry.items() if key.startswith("msgstr")]
        if not translations or not all(translations):
            problems.append(f"untranslated: {entry['msgid']!r}")
        placeholders = set(re.findall(r"%\(\w+\)[sd]", str(entry["msgid"]) + str(entry.get("msgid_plural", ""))))
        problems.extend(f"unknown placeholder in {value!r}" for value in translations
                        if set(re.findall(r"%\(\w+\)[sd]", str(value))) - placeholders)
    assert problems == []


def test_the_compiled_catalogue_is_committed_and_current():
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    assert mo.exists(), "run `make messages` (compilemessages) and commit django.mo"
    assert mo.stat().st_size > 10_000
    # The .mo holds the latest translation of a string from the .po.
    assert f"Contrôles d{APOSTROPHE}admission".encode() in mo.read_bytes()
    assert f"Contrôles d{APOSTROPHE}admission" in po.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_french_page_is_in_french(client):
    response = client.get("/fr/")
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert f"Les clusters de l{APOSTROPHE}économie sociale en Europe" in page
    assert "Aller au contenu principal" in page
    assert "Social economy clusters in Europe" not in page
    login = client.get("/fr/accounts/login/")
    assert f"Nom d{APOSTROPHE}utilisateur" in login.content.decode()
    assert "Se connecter" in login.content.decode()
