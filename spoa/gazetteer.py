"""Where the person is: what someone says -> a configured locality, outside the area, ambiguous, or nothing.

One resolver for every place answer (the chat's and the console's answer to the place question,
the extraction's place names, the API), pure: a `Gazetteer` is data loaded once at start-up
(`load_gazetteer`, from the files config.yml's `gazetteer:` names) and `resolve(text)` does no I/O.

PROTOCOL.md SCOPE-2 (1.1): `locality` holds a configured locality id only when the place was
recognised inside that locality, another string only when the place was recognised as outside the
area, and null when the answer could not be resolved (FAILSAFE-3: the person is served).
So anything the resolver is not sure of is `ambiguous` or `unresolved`, never `outside`.

How a text is read, in order:
1. a UK postcode in it (full or outward code, spoa/postcodes.py), mapped by sector, else district;
   an outward code alone is the union of its district and sector rows (a district shared by two
   areas is ambiguous). A valid full postcode of a postcode area the gazetteer does not cover is
   outside (somewhere else in the UK);
2. place names in it, exact after normalising (case, punctuation, "&", "St"/"Saint"/"St.",
   "-on-Sea", "(District)" qualifiers), longest first, anywhere in the text, so "near Wye",
   "Tenterden, Kent", "just outside Hythe" and "she's in Deal" all read. Names that are everyday
   words ("Deal", "River", "Stone") count only written with a capital, or as the whole answer, and
   never after "the" ("by the river");
3. misspellings (rapidfuzz): the best name must score `FUZZY_THRESHOLD` or more and beat the best
   name that means something else by `FUZZY_MARGIN`. A misspelling that reads as a place outside
   is ambiguous, not outside: the person is asked "Did you mean ...?".
A name found in two localities, or both inside and outside, is ambiguous (with its candidates); a
county or region name ("Kent", "East Kent") is ambiguous between the localities it covers.
"""
from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import yaml
from rapidfuzz import fuzz, process

from spoa.postcodes import Postcode, find_postcode

INSIDE, OUTSIDE, AMBIGUOUS, UNRESOLVED = "inside", "outside", "ambiguous", "unresolved"
# ratio 0-100 over normalised names: "folkstone" ~ "folkestone" scores 95, "tenterdon" ~
# "tenterden" 89; unrelated words such as "home" or "kitchen" stay under 70.
FUZZY_THRESHOLD = 85.0
FUZZY_MARGIN = 6.0
MAX_CHARS = 500             # a place answer longer than this is read from its start
_MAX_FUZZY_WORDS = 6        # fuzzy matching is for short answers, not for stories
_MIN_FUZZY_CHARS = 4

# Place names that are also everyday words (normalised): a capital, or the whole answer.
EVERYDAY_WORDS = frozenset("""
ash bean bridge deal river stone seal worth staple ripple grain cooling well brook chart sandwich halfway loose
martin platt eccles harty temple lee grays camber rye battle ore pett crouch thong chalk greatness welling belvedere
lakeside kingsdown minster preston hartley leigh leeds capel luton hayes upton heath park green street hale dode
way weald sutton charlton denton newington goodnestone broomfield westwood hoo stoke brompton capstone
""".split())
_FILLER = frozenset("""
i im i m we were we re he hes he s she shes she s they theyre they re it its my our his her their mum mom dad mother
father wife husband son daughter nan gran grandad grandma granddad brother sister friend neighbour the person patient
is are am s m re was be been being lives live living lived stays stay staying stayed resides reside based currently
now right just at in near nr nearby close to by around outside from of on off called a an village town city area
kent uk england united kingdom centre center part bit side end postcode post code address its it s
""".split())
_LEAD_VARIANTS = (re.compile(r" on sea$"), re.compile(r" by sea$"), re.compile(r"^royal "))


@dataclass(frozen=True)
class Place:
    """One name the gazetteer knows (a place, or a postcode district or sector)."""

    name: str
    locality: str | None       # a configured locality id; None for a place outside the area
    council: str | None        # the adult social care council (outside: the person's own council)
    district: str = ""         # local authority district, or the outside area ("Medway")
    kind: str = "place"        # parish, town, village, suburb, area, postcode, ...
    aliases: tuple[str, ...] = ()   # other names it is known by ("Westgate" for Westgate-on-Sea)

    @property
    def target(self) -> str:
        """What the place means for scope: its locality, or outside with its council."""
        return self.locality or f"outside:{self.council or ''}"

    @property
    def is_area(self) -> bool:
        return self.kind == "area"


@dataclass(frozen=True)
class Resolution:
    status: str                              # inside, outside, ambiguous, unresolved
    locality: str | None = None              # inside: the configured locality id
    place: str | None = None                 # the place recognised ("Wittersham", "ME4 4TR")
    councils: tuple[str, ...] = ()           # outside: the person's own council(s), when known
    candidates: tuple[Place, ...] = ()       # ambiguous: the places it could be
    how: str | None = None                   # name, fuzzy, postcode

    @property
    def council(self) -> str | None:
        return " or ".join(self.councils) if self.councils else None

    @property
    def fact_value(self) -> str | None:
        """The contact's `locality`: the id inside, the place outside, else None (unknown)."""
        if self.status == INSIDE:
            return self.locality
        if self.status == OUTSIDE:
            return self.place
        return None


UNKNOWN = Resolution(UNRESOLVED)
# The person says they are not in the area without naming the place (the "Somewhere else"
# button when asked again): recognised as outside, by their own word.
SOMEWHERE_ELSE = "somewhere else"
_SOMEWHERE_ELSE_WORDS = frozenset({
    "somewhere else", "elsewhere", "outside kent", "not in kent", "outside of kent", "just outside kent",
    "outside the area", "out of area", "out of the area", "not kent", "another area", "a different area"})
ELSEWHERE = Resolution(OUTSIDE, place=SOMEWHERE_ELSE, how="said")
_REFUSAL = re.compile(r"\b(?:rather not|prefer not|not (?:saying|telling|going to say)|wont say|won't say|"
                      r"no comment|none of your business|mind your own|private|not telling you)\b", re.I)


def normalise(text: str) -> str:
    """Lower case ASCII words: "St. Margaret's-at-Cliffe" -> "st margarets at cliffe"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"['`\u2019]", "", text.lower()).replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join("st" if word == "saint" else word for word in words)


def name_keys(name: str) -> set[str]:
    """The normalised keys a name is found by: itself, without its "(qualifier)", without
    "-on-Sea" and "Royal"."""
    keys = {normalise(name)}
    bare = re.sub(r"\s*\([^)]*\)", "", name)
    keys.add(normalise(bare))
    for key in list(keys):
        for variant in _LEAD_VARIANTS:
            keys.add(variant.sub("", key))
    return {key for key in keys if key}


@dataclass
class Gazetteer:
    """The places and postcode districts of an area and its neighbours, indexed for `resolve`."""

    area: str
    localities: Mapping[str, str]                     # configured id -> name
    names: dict[str, tuple[Place, ...]]               # normalised key -> places
    postcodes: dict[str, tuple[Place, ...]]           # "CT1" or sector "TN14 7" -> places
    sources: tuple[str, ...] = ()
    digest: bytes = b""                               # sha256 of the data files (ruleset version)
    place_count: int = 0
    skipped: tuple[Place, ...] = ()                   # rows naming a locality config.yml doesn't have
    _fuzzy_keys: list[str] = field(default_factory=list, repr=False)
    _longest: int = 1
    _areas: frozenset[str] = frozenset()
    _spoken: list[str] = field(default_factory=list, repr=False)
    area_name: str = "the area"                       # short, for "Somewhere else (not in Kent)"

    def __post_init__(self) -> None:
        self._fuzzy_keys = sorted(key for key in self.names if key not in EVERYDAY_WORDS and len(key) >= _MIN_FUZZY_CHARS)
        self._longest = max((len(key.split()) for key in self.names), default=1)
        self._areas = frozenset(re.match(r"[A-Z]+", code).group(0) for code in self.postcodes)
        spoken = {re.sub(r"\s*\([^)]*\)", "", name).strip() for places in self.names.values() for place in places
                  if place.kind != "postcode" for name in (place.name, *place.aliases)}
        self._spoken = sorted(name for name in spoken if name)

    # -- resolving ----------------------------------------------------------------------------

    def resolve(self, text: str | None) -> Resolution:
        if not isinstance(text, str) or not text.strip():
            return UNKNOWN
        text = text[:MAX_CHARS]
        if normalise(text) in _SOMEWHERE_ELSE_WORDS:
            return ELSEWHERE
        by_postcode = self._by_postcode(find_postcode(text))
        by_name, how = self._by_name(text, fuzzy=not by_postcode)   # a postcode is not a misspelt name
        if by_postcode and by_name:
            agreed = [p for p in by_name if p.target in {q.target for q in by_postcode}]
            places, how = (agreed, how) if agreed else ([*by_postcode, *by_name], "postcode")
        elif by_postcode:
            places, how = by_postcode, "postcode"
        else:
            places = by_name
        return _decide(places, how)

    def _by_postcode(self, found: Postcode | str | None) -> list[Place]:
        if found is None:
            return []
        if isinstance(found, Postcode):
            rows = self.postcodes.get(found.sector) or self.postcodes.get(found.outward)
            if rows:
                return [_as_given(row, str(found)) for row in rows]
            if found.area not in self._areas:
                # a real postcode shape, in a part of the UK the gazetteer does not cover
                return [Place(str(found), None, None, kind="postcode")]
            return []
        sector_rows = [row for code, rows in self.postcodes.items() if code.startswith(found + " ") for row in rows]
        rows = [*self.postcodes.get(found, ()), *sector_rows]
        return [_as_given(row, found) for row in rows]

    def _by_name(self, text: str, fuzzy: bool = True) -> tuple[list[Place], str | None]:
        words = normalise(text).split()
        capitals = _capitalised_words(text)
        core = [word for word in words if word not in _FILLER]
        whole = " ".join(core)
        if " ".join(words) in self.names and " ".join(words) not in EVERYDAY_WORDS:
            return list(self.names[" ".join(words)]), "name"     # the answer is a name as it stands
        if whole in self.names and not (whole in EVERYDAY_WORDS and f"the {whole}" in " ".join(words)):
            return list(self.names[whole]), "name"
        found: list[tuple[Place, ...]] = []
        start = 0
        while start < len(words):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                key = " ".join(words[start:start + size])
                if key in self.names and self._counts(key, words, start, capitals):
                    found.append(self.names[key])
                    start += size
                    break
            else:
                start += 1
        if found:
            specific = [places for places in found if not all(p.is_area for p in places)]
            return [p for places in (specific or found) for p in places], "name"
        return self._fuzzy(core, words) if fuzzy else ([], None)

    @staticmethod
    def _counts(key: str, words: list[str], start: int, capitals: set[str]) -> bool:
        """An everyday-word name ("deal") counts written with a capital, never after "the"."""
        if key not in EVERYDAY_WORDS:
            return True
        if start > 0 and words[start - 1] == "the":
            return False
        return key in capitals

    def _fuzzy(self, core: list[str], words: list[str]) -> tuple[list[Place], str | None]:
        if not core or len(words) > _MAX_FUZZY_WORDS * 2 or len(core) > _MAX_FUZZY_WORDS:
            return [], None
        # the answer without its filler words, then each run of up to three of its words
        tries = {" ".join(core)}
        for size in (3, 2, 1):
            tries.update(" ".join(core[i:i + size]) for i in range(len(core) - size + 1))
        scored: dict[str, float] = {}
        for query in tries:
            if len(query) < _MIN_FUZZY_CHARS:
                continue
            for key, score, _ in process.extract(query, self._fuzzy_keys, scorer=fuzz.ratio,
                                                 score_cutoff=FUZZY_THRESHOLD - FUZZY_MARGIN, limit=8):
                scored[key] = max(score, scored.get(key, 0.0))
        if not scored:
            return [], None
        key = max(scored, key=lambda k: (scored[k], len(k)))
        if scored[key] < FUZZY_THRESHOLD:
            return [], None
        targets = {p.target for p in self.names[key]}
        rivals = [other for other, score in scored.items() if score > scored[key] - FUZZY_MARGIN
                  and {p.target for p in self.names[other]} != targets]
        # a rival name too close to call makes the answer ambiguous between them
        return [*self.names[key], *(p for other in rivals for p in self.names[other])], "fuzzy"

    def spoken_names(self) -> list[str]:
        """Every name and alternative name as people write it (without "(qualifiers)"), for
        finding places in free text (the extraction's phrase matcher)."""
        return self._spoken

    # -- what the dialogue offers when asking again -------------------------------------------

    def reask_options(self, resolution: Resolution) -> list[dict]:
        """Asking once more (SCOPE-2, 1.1): the candidates of an ambiguous answer, then every
        locality by name, "Somewhere else" and "I don't know" ({"value", "label", "key"})."""
        options = self.choices(resolution)
        offered = {option["value"] for option in options}
        options += [{"value": key, "label": name} for key, name in self.localities.items() if key not in offered]
        options += [{"value": SOMEWHERE_ELSE, "label": f"Somewhere else (not in {self.area_name})"},
                    {"value": "unknown", "label": "I don't know"}]
        keys = [str(n) for n in range(1, 10)] + list("ABCDFGHIJKLMOPQRSTVWXYZ")
        return [{**option, "key": "U" if option["value"] == "unknown" else "E" if option["value"] == SOMEWHERE_ELSE
                 else keys[number]} for number, option in enumerate(options)]

    def choices(self, resolution: Resolution) -> list[dict]:
        """The candidates of an ambiguous answer as options ({"value", "label"}): the place and
        the locality (or the council) it would mean."""
        options, seen = [], set()
        for place in resolution.candidates:
            if place.target in seen:
                continue
            seen.add(place.target)
            where = self.localities.get(place.locality) if place.locality else (place.district or place.council or "")
            label = place.name if not where or where in place.name else f"{place.name} ({where})"
            options.append({"value": place.locality or place.name, "label": label})
        return options


def _as_given(row: Place, code: str) -> Place:
    """A postcode row, named by the postcode as the person gave it."""
    return Place(code if row.locality is None else row.name, row.locality, row.council, row.district, "postcode")


def _capitalised_words(text: str) -> set[str]:
    """The normalised words written with a capital in `text` ("in Deal" -> {"deal"})."""
    return {normalise(word) for word in re.findall(r"[A-Z][\w'\u2019-]*", text)} | {
        normalise(" ".join(pair)) for pair in re.findall(r"([A-Z][\w'-]*)\s+([A-Z][\w'-]*)", text)}


def _decide(places: list[Place], how: str | None) -> Resolution:
    if not places:
        return UNKNOWN
    targets = list(dict.fromkeys(p.target for p in places))
    inside = [p for p in places if p.locality]
    if len(targets) == 1 and inside:
        return Resolution(INSIDE, locality=inside[0].locality, place=inside[0].name, how=how)
    if not inside and how != "fuzzy":
        councils = tuple(sorted({p.council for p in places if p.council}))
        return Resolution(OUTSIDE, place=places[0].name, councils=councils, how=how)
    # Two meanings, or a misspelling that reads as a place outside: a guess never takes a
    # person out of area, so the person is asked ("Did you mean Chatham?").
    unique = tuple({p.target: p for p in reversed(places)}.values())[::-1]
    return Resolution(AMBIGUOUS, candidates=unique, how=how)


# -- a place answer ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PlaceAnswer:
    """The answer to "What town or village is the person in now?", as the dialogue uses it."""

    value: str | None             # the `locality` fact: an id, a place outside, or None
    words: str                    # the person's own words, kept beside it for staff
    resolution: Resolution
    declined: bool = False        # "I don't know", "I'd rather not say": served, not asked again

    @property
    def ask_again(self) -> bool:
        """Unresolved or ambiguous, and the person did not decline: ask once more."""
        return self.value is None and not self.declined


def read_place_answer(config, text: str, dont_know: bool = False) -> PlaceAnswer:
    """What a place answer means. `config` is the service's spoa.config.Config (its
    `resolve_place` goes through the gazetteer); `dont_know` when the dialogue read the words as
    "I don't know" already."""
    words = " ".join(str(text or "").split())
    if dont_know or not words:
        return PlaceAnswer(None, words, UNKNOWN, declined=True)
    resolution = config.resolve_place(words)
    declined = resolution.status == UNRESOLVED and bool(_REFUSAL.search(words))
    return PlaceAnswer(resolution.fact_value, words, resolution, declined)


# -- loading ----------------------------------------------------------------------------------

class GazetteerError(ValueError):
    """The gazetteer's files are missing something, or name a locality config.yml doesn't have."""


def load_gazetteer(manifest: str | Path, localities: Mapping[str, Mapping]) -> Gazetteer:
    """The gazetteer named by `manifest` (data/places/gazetteer.yml), checked against the
    configured localities; the config's own locality names and places are added to it."""
    manifest = Path(manifest)
    try:
        meta = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        places_path = manifest.parent / meta["places"]
        postcodes_path = manifest.parent / meta["postcode_districts"]
        places_bytes, postcode_bytes = places_path.read_bytes(), postcodes_path.read_bytes()
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        raise GazetteerError(f"{manifest}: can't read the gazetteer ({error})") from error
    rows = list(_read_places(places_bytes, places_path, localities))
    rows += [Place(name, locality_id, meta.get("inside_council"), "", "configured")
             for locality_id, entry in localities.items()
             for name in [entry["name"], *entry.get("places", [])]]
    postcodes = _read_postcodes(postcode_bytes, postcodes_path, localities)
    digest = hashlib.sha256(manifest.read_bytes() + b"\0" + places_bytes + b"\0" + postcode_bytes).digest()
    return build_gazetteer(rows, postcodes, localities, area=str(meta.get("area", "")),
                           area_name=str(meta.get("area_name") or "the area"),
                           sources=tuple(source.get("name", "") for source in meta.get("sources") or []),
                           digest=digest)


def build_gazetteer(rows: Iterable[Place], postcodes: Mapping[str, Iterable[Place]],
                    localities: Mapping[str, Mapping], area: str = "", sources: tuple[str, ...] = (),
                    digest: bytes = b"", area_name: str = "the area") -> Gazetteer:
    # A row naming a locality the config doesn't have (a locality taken out of service) is left
    # out, so its places read as unknown (served), never as outside; `skipped` lists them.
    rows, skipped = _configured(rows, localities)
    postcodes = {code: places for code, places in
                 ((code, _configured(places, localities)[0]) for code, places in postcodes.items()) if places}
    names: dict[str, list[Place]] = {}
    for row in rows:
        for key in set().union(*(name_keys(name) for name in (row.name, *row.aliases))):
            names.setdefault(key, []).append(row)
    return Gazetteer(area=area, localities={key: entry["name"] for key, entry in localities.items()},
                     names={key: tuple(places) for key, places in names.items()},
                     postcodes={code: tuple(places) for code, places in postcodes.items()},
                     sources=sources, digest=digest, skipped=tuple(skipped), area_name=area_name,
                     place_count=len({(row.name, row.target) for row in rows if row.kind != "configured"}))


def _configured(places: Iterable[Place], localities: Mapping) -> tuple[list[Place], list[Place]]:
    kept, skipped = [], []
    for place in places:
        (kept if place.locality is None or place.locality in localities else skipped).append(place)
    return kept, skipped


def _read_places(data: bytes, path: Path, localities: Mapping) -> Iterable[Place]:
    for number, row in enumerate(csv.DictReader(data.decode("utf-8").splitlines()), start=2):
        locality = (row.get("locality") or "").strip() or None
        if not (row.get("name") or "").strip():
            raise GazetteerError(f"{path}:{number}: a place needs a name")
        council = (row.get("council") or "").strip() or None
        aliases = tuple(name.strip() for name in (row.get("alternative_names") or "").split(";") if name.strip())
        yield Place(row["name"].strip(), locality, council, row.get("district") or "", row.get("kind") or "place", aliases)


def _read_postcodes(data: bytes, path: Path, localities: Mapping) -> dict[str, tuple[Place, ...]]:
    from spoa.postcodes import parse_outward
    postcodes: dict[str, list[Place]] = {}
    for number, row in enumerate(csv.DictReader(data.decode("utf-8").splitlines()), start=2):
        code = " ".join((row.get("postcode") or "").upper().split())
        outward = code.split(" ")[0]
        if parse_outward(outward) is None or not re.fullmatch(r"[A-Z0-9]+( [0-9])?", code):
            raise GazetteerError(f"{path}:{number}: {code!r} is not a postcode district or sector")
        locality = (row.get("locality") or "").strip() or None
        name = localities[locality]["name"] if locality in localities else (row.get("area") or code)
        postcodes.setdefault(code, []).append(
            Place(name, locality, (row.get("council") or "").strip() or None, row.get("area", ""), "postcode"))
    return {code: tuple(rows) for code, rows in postcodes.items()}
