"""The material the benchmark's corpus and watchlists are made from, shared
by tests/bench/gen-corpus and tests/bench/gen-watchlists.

Everything comes from this repository and from Debian packages that
`tools/deps install bench` installs; nothing is downloaded:

  - the sample articles in tests/data/news/ (sentence templates);
  - the word list of `wamerican` (/usr/share/dict/words);
  - the GeoNames gazetteer that `libgeonames0` and `libgeonames-common`
    ship (GeoNames data, CC-BY 4.0, www.geonames.org): the table of the
    24,361 cities of more than 15,000 people, compiled into libgeonames as a
    GResource that `gresource` (libglib2.0-bin) extracts, and the names of
    those cities in about 190 languages, in the package's geonames.mo
    message catalogues (keyed by GeoNames id).

Both generators must agree on which names the corpus mentions: in_corpus()
decides it from a CRC of the name, so it is the same on every machine.
"""

import glob
import os
import random
import re
import struct
import subprocess
import sys
import unicodedata
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORDS = "/usr/share/dict/words"
NEWS_DIR = os.path.join(REPO, "tests", "data", "news")
GEONAMES_RESOURCE = "/com/lomiri/geonames/cities.compiled"

# The largest watchlist: cities, their regions and countries, and features
# named after the largest cities, up to this many aliases.
GAZETTEER_ALIASES = 150000

# Percentage of the gazetteer's Latin, Arabic and Cyrillic names (the
# scripts the corpus is written in) that the corpus mentions.  Names in
# other scripts (Chinese, Japanese, Hindi, Greek...) are never mentioned, so
# this is set for about half of all the names to occur.
IN_CORPUS_PERCENT = 66


def die(msg):
    sys.stderr.write("%s: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.exit(1)


def crc(text):
    return zlib.crc32(text.encode("utf-8"))


def in_corpus(text, percent=IN_CORPUS_PERCENT):
    """Whether the corpus mentions this name (or person, or word)."""
    return crc(text) % 100 < percent


def normalise(text):
    """The words of text as watchlistd compares them (DESIGN.md "Matching
    semantics"): NFKD, combining marks dropped, case-folded, split on
    everything that is not a letter or a digit.  Python's idea of a letter
    or digit is close to Unicode's L* and N*, close enough to tell whether an
    alias occurs in the corpus."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_marks())
    return tuple(WORD_RE.findall(text.casefold()))


WORD_RE = re.compile(r"[^\W_]+")
_MARKS = None


def _marks():
    """A str.translate() table that deletes combining marks (category M)."""
    global _MARKS
    if _MARKS is None:
        _MARKS = {cp: None for cp in range(0x110000)
                  if unicodedata.category(chr(cp)).startswith("M")}
    return _MARKS


def script(text):
    """The script of the first letter of text: latin, cyrillic, arabic or
    other."""
    for c in text:
        if not c.isalpha():
            continue
        o = ord(c)
        if o < 0x250 or 0x1E00 <= o < 0x1F00:
            return "latin"
        if 0x400 <= o < 0x530:
            return "cyrillic"
        if 0x600 <= o < 0x700 or 0x750 <= o < 0x780 or 0xFB50 <= o < 0xFF00:
            return "arabic"
        return "other"
    return "other"


def valid_alias(text):
    """Whether text can be written as an alias in a watchlistd INI list as
    it is: a word character, no '"' (lists have no escapes), no ';' (which
    may start a comment), no control character, no trailing '*'."""
    if not WORD_RE.search(text) or '"' in text or ";" in text:
        return False
    if text.endswith("*") or any(unicodedata.category(c) == "Cc" for c in text):
        return False
    return len(text.encode("utf-8")) <= 180


# Function words: gen-corpus keeps them in its templates, so that sentences
# stay English, and gen-watchlists does not make phrases of them.
STOPWORDS = set("""
about above after again against also among around because been before
being below between both but by came come could did does doing down during
each even ever from further have having here hers herself himself into just
like made make many more most much must near never nevertheless next none
only other ought ours ourselves over said same says should since some still
such than that their theirs them themselves then there these they this those
though through told under until upon very want were what when where which
while whom whose will with within without would year years your yours
""".split())


# --- the word list ------------------------------------------------------


def load_words():
    """The word list as (common words, proper names), in file order:
    possessives ("Aaron's") left out."""
    try:
        with open(WORDS, encoding="utf-8") as f:
            words = [w.strip() for w in f]
    except OSError as e:
        die("%s: %s (apt-get install wamerican, or: tools/deps install bench)"
            % (WORDS, e.strerror))
    words = [w for w in words if len(w) >= 2 and "'" not in w]
    common = [w for w in words if w[0].islower()]
    proper = [w for w in words if w[0].isupper() and not w.isupper()]
    return common, proper


# --- the sample articles ------------------------------------------------


def load_paragraphs():
    """The paragraphs of the sample articles (one per non-empty line), and
    their headlines."""
    paragraphs, headlines = [], []
    for path in sorted(glob.glob(os.path.join(NEWS_DIR, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            lines = [l.strip() for l in f if l.strip()]
        # 000 and 001 start with page chrome ("Watch CBS News").
        if lines and lines[0].startswith("Watch CBS"):
            lines = lines[1:]
        headlines.append(lines[0])
        paragraphs.extend(l for l in lines[1:] if len(l) > 40)
    if not paragraphs:
        die("no sample articles in %s" % NEWS_DIR)
    return paragraphs, headlines


# --- people -------------------------------------------------------------

# Given names and surnames with diacritics, mixed into the roster so that
# the corpus and the watchlists carry accented names (which watchlistd folds
# and grep, rg and Hyperscan do not).
ACCENTED_GIVEN = """José María Zoë Renée Björn Søren Jürgen Łukasz Małgorzata
Ştefan Çağlar Ömer Gülşen François Hélène Agnès Inês João Sérgio Ángel Íñigo
Dávid Tomáš Jiří Mikuláš Dőra Ferenc Åsa Øyvind Håkon Raphaël Noémie Chloé
Andrés Ramón Begoña Małek Paweł Zdeněk Ivanković Émile Ilkka Jyri Nguyễn
Thị Đức Lê Mônica Estêvão Thaïs Gaëlle Anaïs""".split()
ACCENTED_SURNAMES = """Müller Gómez Núñez Ibáñez Dvořák Šimić Kovačević
Erdoğan Özdemir Lefèvre Gödel Håkansson Wałęsa Trần Phạm Jiménez Sánchez
Rodríguez Pérez Martínez Fernández Ramírez González Hernández Gutiérrez
Schäfer Schröder Böhm Köhler Jäger Krüger Nørgaard Sørensen Lindström
Åberg Strömberg Kowalczyk Wiśniewski Wójcik Zieliński Dąbrowski Lewandowski
Horváth Szabó Tóth Kiss Varga Novák Svoboda Dvořáková Procházka Černý
Kučera Bešić Hadžić Đorđević Jovanović Petrović Nikolić Öztürk Yılmaz Şahin
Çelik Doğan Aydın Kılıç Arslan Brontë Gaïd Benaïssa Ouédraogo Sané Touré
Diéye Guèye Mbaïe Côté Bélanger Gagné Lévesque Bérubé Thériault""".split()

ROSTER_SIZE = 30000


def load_roster(proper, seed=20261121):
    """A fixed list of people, "Given Surname", made from the proper names
    of the word list and the accented names above.  The corpus mentions the
    ones in_corpus() picks; the watchlists take from both halves."""
    rng = random.Random(seed)
    given = proper[: len(proper) // 2] + ACCENTED_GIVEN * 4
    surnames = proper[len(proper) // 2 :] + ACCENTED_SURNAMES * 4
    seen, roster = set(), []
    while len(roster) < ROSTER_SIZE:
        name = "%s %s" % (given[int(rng.random() * len(given))],
                          surnames[int(rng.random() * len(surnames))])
        if name not in seen:
            seen.add(name)
            roster.append(name)
    return roster


# --- the gazetteer ------------------------------------------------------


class Place:
    """One gazetteer entry: id, kind of feature, its aliases (the first is
    the English name), coordinates and country."""

    def __init__(self, pid, aliases, lat=None, lon=None, country="", population=0):
        self.id = pid
        self.aliases = aliases
        self.lat = lat
        self.lon = lon
        self.country = country
        self.population = population


def _geonames_library():
    for path in sorted(glob.glob("/usr/lib/*/libgeonames.so.0")) + ["/usr/lib/libgeonames.so.0"]:
        if os.path.exists(path):
            return path
    return None


def _read_cities(blob):
    """Parse the cities table: a GVariant array a(sssssssudd) of (GeoNames
    id, name, admin1 code, admin1 name, country code, country name, time
    zone, population, latitude, longitude).  Elements are variable-sized, so
    the array ends with a table of their end offsets (4 bytes each here, the
    blob being larger than 64 KiB); each element starts 8-aligned."""
    n = len(blob)
    table = struct.unpack_from("<I", blob, n - 4)[0]
    ends = struct.unpack_from("<%dI" % ((n - table) // 4), blob, table)
    cities, start = [], 0
    for end in ends:
        start = (start + 7) & ~7
        rec = blob[start:end]
        fields, p = [], 0
        for _ in range(7):
            q = rec.index(b"\0", p)
            fields.append(rec[p:q].decode("utf-8"))
            p = q + 1
        p = (p + 3) & ~3
        population = struct.unpack_from("<I", rec, p)[0]
        p = (p + 4 + 7) & ~7
        lat, lon = struct.unpack_from("<dd", rec, p)
        cities.append((fields, population, lat, lon))
        start = end
    return cities


def _read_mo(path):
    """A GNU gettext .mo catalogue as {msgid: msgstr} (little-endian, as
    Debian builds them on every architecture)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, n, orig, trans = struct.unpack_from("<5I", data, 0)
    if magic != 0x950412DE:
        return {}
    out = {}
    for i in range(n):
        klen, koff = struct.unpack_from("<2I", data, orig + 8 * i)
        vlen, voff = struct.unpack_from("<2I", data, trans + 8 * i)
        key = data[koff : koff + klen].decode("utf-8", "replace")
        if key:
            out[key] = data[voff : voff + vlen].decode("utf-8", "replace")
    return out


# Features named after the largest cities, added to bring the gazetteer to
# GAZETTEER_ALIASES aliases, as a real gazetteer lists airports, ports,
# stations and districts beside the towns.
FEATURES = [
    ("airport", "%s International Airport"),
    ("port", "Port of %s"),
    ("station", "%s Central Station"),
    ("old-city", "%s Old City"),
    ("university", "University of %s"),
    ("greater", "Greater %s"),
    ("district", "%s District"),
    ("bay", "%s Bay"),
]


def load_gazetteer():
    """The gazetteer as a list of Place, GAZETTEER_ALIASES aliases in all:
    every city with its names in every language (aliases equal after
    normalisation kept once per city), then the regions and countries, then
    features of the largest cities.  Dies with the command to run when the
    packages are missing."""
    lib = _geonames_library()
    mos = sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/geonames.mo"))
    if lib is None or not mos:
        die("the GeoNames gazetteer is missing (apt-get install libgeonames0 "
            "libgeonames-common libglib2.0-bin, or: tools/deps install bench)")
    try:
        blob = subprocess.run(["gresource", "extract", lib, GEONAMES_RESOURCE],
                              check=True, stdout=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        die("gresource extract %s: %s (apt-get install libglib2.0-bin)" % (lib, e))
    cities = _read_cities(blob)

    # Names in other languages, in the order of the catalogues' names.
    others = {}
    for mo in mos:
        for gid, name in _read_mo(mo).items():
            others.setdefault(gid, []).append(name)

    places, total = [], 0
    regions, countries = {}, {}
    for fields, population, lat, lon in cities:
        gid, name, a1code, a1name, cc, country = fields[:6]
        aliases, keys = [], set()
        for alias in [name] + others.get(gid, []):
            key = normalise(alias)
            if valid_alias(alias) and key and key not in keys:
                keys.add(key)
                aliases.append(alias)
        if not aliases:
            continue
        places.append(Place("gn" + gid, aliases, lat, lon, cc, population))
        total += len(aliases)
        if a1name and valid_alias(a1name):
            regions.setdefault((cc, a1code), (a1name, cc))
        if country and valid_alias(country):
            countries.setdefault(cc, country)

    for (cc, code), (name, _) in sorted(regions.items()):
        places.append(Place("adm-%s-%s" % (cc, re.sub(r"[^A-Za-z0-9]", "", code)),
                            [name], country=cc))
        total += 1
    for cc, name in sorted(countries.items()):
        places.append(Place("country-" + cc, [name], country=cc))
        total += 1

    largest = sorted((p for p in places if p.id.startswith("gn")),
                     key=lambda p: (-p.population, p.id))
    for suffix, pattern in FEATURES:
        for city in largest:
            if total >= GAZETTEER_ALIASES:
                break
            alias = pattern % city.aliases[0]
            places.append(Place("%s-%s" % (city.id, suffix), [alias],
                                city.lat, city.lon, city.country, city.population))
            total += 1
    return places
