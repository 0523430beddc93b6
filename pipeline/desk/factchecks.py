"""Known fact-checks: ClaimReview read in, indexed with SQLite FTS5, matched to articles and claims.

``parse_claimreviews`` reads what fact-checkers publish: a schema.org ClaimReview object, a
list of them, a JSON-LD ``@graph``, a ``DataFeed`` whose ``dataFeedElement`` items hold them
(the shape of the public fact-check feeds), the Fact Check Tools API's ``claims`` list, and
what ``pipeline export --format claimreview`` writes. A check is keyed by its URL, so a
re-import updates it.

Matching: FTS5 retrieves the checks sharing words with the text (BM25, Porter stems), and
each candidate is scored

    score = 0.6 * terms + 0.4 * names      (terms alone when the check names nobody)

where ``terms`` is the candidate's BM25 against the text divided by its BM25 against its
own words (1.0: the text holds every word of the check), and ``names`` is the share of the
check's capitalised names the text contains. A check naming people matches nothing that
names none of them. A match needs ``score >= MATCH_THRESHOLD``; the threshold is measured
by ``bench/factcheck_matching.py`` on paraphrased and unrelated claim pairs.

This module makes every query on ``factcheck``, ``factcheck_fts`` and ``factcheck_match``;
writers hold the store's transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.inputs import JSONTooDeep, load_json
from pipeline.errors import InputError
from pipeline.text import person_names
from pipeline.desk.people import name_key
from pipeline.store import Store, StoredResult, among, utc_now

__all__ = [
    "FALSE_RATINGS",
    "MATCH_THRESHOLD",
    "FactCheck",
    "FactCheckMatch",
    "factcheck_evidence",
    "factcheck_matches",
    "import_factchecks",
    "is_debunk",
    "list_factchecks",
    "match_results",
    "match_text",
    "parse_claimreviews",
    "read_claimreview_file",
]

MATCH_THRESHOLD = 0.45
NAME_WEIGHT = 0.3
_CANDIDATES = 20
_ARTICLE_CHARS = 1200
_STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i in is it its of on or she that the
    their they this to was were will with who what when where which not no said says claim claims""".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Ratings that say a claim is wrong: evidence against an article that makes it.
FALSE_RATINGS = frozenset(
    {
        "false",
        "mostly false",
        "pants on fire",
        "fake",
        "fabricated",
        "incorrect",
        "wrong",
        "misleading",
        "hoax",
        "four pinocchios",
        "satire",
        "scam",
        "baseless",
        "no evidence",
        "unsupported",
        "altered",
        "doctored",
        "false context",
        "missing context",
        "not true",
        "untrue",
        "debunked",
        "unverified, likely fabricated",
    }
)


@dataclass(frozen=True)
class FactCheck:
    """One published ClaimReview."""

    url: str
    claim_reviewed: str
    publisher: str | None = None
    rating: str | None = None
    claimant: str | None = None
    date_published: str | None = None
    appearances: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "publisher": self.publisher,
            "rating": self.rating,
            "claim_reviewed": self.claim_reviewed,
            "claimant": self.claimant,
            "date_published": self.date_published,
            "appearances": list(self.appearances),
        }


@dataclass(frozen=True)
class FactCheckMatch:
    """A known fact-check matching an article (``target`` "article") or one of its claims
    (``target`` "claim:N", N the claim's index)."""

    article_id: str
    target: str
    url: str
    publisher: str | None
    rating: str | None
    claim_reviewed: str
    score: float

    def to_record(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "publisher": self.publisher,
            "rating": self.rating,
            "claim_reviewed": self.claim_reviewed,
            "score": round(self.score, 3),
            "target": self.target,
        }

    def describe(self) -> str:
        """ "already fact-checked: rated False by Snopes" """
        return f"already fact-checked: rated {self.rating or 'unrated'} by {self.publisher or 'an unnamed publisher'}"


def is_debunk(rating: str | None) -> bool:
    """Whether a rating says the claim is wrong."""
    return rating is not None and " ".join(rating.casefold().replace("-", " ").split()).rstrip(".!") in FALSE_RATINGS


# parsing


def parse_claimreviews(data: Any, source: str) -> list[FactCheck]:
    """Every ClaimReview in a parsed JSON document; raises InputError naming ``source`` and the item."""
    checks = [_fact_check(item, source, where) for where, item in _review_objects(data, source, "$")]
    if not checks:
        raise InputError(source, "no ClaimReview in the file")
    return checks


def read_claimreview_file(path: Path) -> list[FactCheck]:
    """A JSON, JSON-LD or JSON-lines file of ClaimReview."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"cannot read ({error})") from None
    try:
        data: Any = load_json(text)
    except JSONTooDeep as deep:
        raise InputError(str(path), f"JSON {deep.msg} (line {deep.lineno}, column {deep.colno})") from None
    except json.JSONDecodeError as whole:
        lines = [line for line in text.splitlines() if line.strip()]
        data = []
        for number, line in enumerate(lines, 1):
            try:
                data.append(load_json(line))
            except json.JSONDecodeError:
                raise InputError(
                    str(path), f"not JSON ({whole.msg} at line {whole.lineno}), nor JSON lines (line {number})"
                ) from None
    return parse_claimreviews(data, str(path))


def _review_objects(data: Any, source: str, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield from _review_objects(item, source, f"{where}[{index}]")
        return
    if not isinstance(data, dict):
        raise InputError(source, f"{where}: expected a ClaimReview object, found {type(data).__name__}")
    types = data.get("@type")
    if "ClaimReview" in (types if isinstance(types, list) else [types]):
        yield where, data
    elif "@graph" in data:
        yield from _review_objects(data["@graph"], source, f"{where}.@graph")
    elif "dataFeedElement" in data:
        for index, element in enumerate(_as_list(data["dataFeedElement"])):
            inner = element.get("item", element) if isinstance(element, dict) else element
            yield from _review_objects(inner, source, f"{where}.dataFeedElement[{index}]")
    elif isinstance(data.get("claims"), list):
        for index, claim in enumerate(data["claims"]):
            reviews = claim.get("claimReview") if isinstance(claim, dict) else None
            for review_index, review in enumerate(_as_list(reviews)):
                if not isinstance(review, dict):
                    raise InputError(source, f"{where}.claims[{index}].claimReview[{review_index}]: not an object")
                yield f"{where}.claims[{index}].claimReview[{review_index}]", {"@fact_check_tools": claim, **review}
    else:
        raise InputError(source, f"{where}: not a ClaimReview (no @type ClaimReview, @graph, dataFeedElement or claims)")


def _fact_check(item: dict[str, Any], source: str, where: str) -> FactCheck:
    if "@fact_check_tools" in item:  # the Fact Check Tools API's shape
        claim = item["@fact_check_tools"]
        text, url = claim.get("text"), item.get("url")
        publisher = _name(item.get("publisher"))
        rating, claimant, date = item.get("textualRating"), claim.get("claimant"), item.get("reviewDate")
        appearances: list[str] = []
    else:
        text, url = item.get("claimReviewed"), item.get("url")
        publisher = _name(item.get("author")) or _name(item.get("publisher"))
        rating = _rating(item.get("reviewRating"))
        reviewed = item.get("itemReviewed")
        if not isinstance(reviewed, dict):
            reviewed = {}
        claimant = _name(reviewed.get("author"))
        date = item.get("datePublished")
        appearances = [a["url"] for a in _as_list(reviewed.get("appearance")) if isinstance(a, dict) and a.get("url")]
    if not isinstance(text, str) or not text.strip():
        raise InputError(source, f"{where}: ClaimReview without claimReviewed")
    if url is not None and not isinstance(url, str):
        raise InputError(source, f"{where}: ClaimReview url is not a string")
    if not url:
        # Keyed by what it says, so the same review imported twice is still one.
        digest = hashlib.sha256(json.dumps([publisher, text.strip()]).encode()).hexdigest()[:16]
        url = f"urn:claimreview:{digest}"
    return FactCheck(
        url=url.strip(),
        claim_reviewed=" ".join(text.split()),
        publisher=publisher,
        rating=rating,
        claimant=claimant,
        date_published=date if isinstance(date, str) else None,
        appearances=tuple(appearances),
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _name(value: Any) -> str | None:
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, dict):
        value = value.get("name") or value.get("site") or value.get("url")
    return value.strip() or None if isinstance(value, str) else None


def _rating(value: Any) -> str | None:
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    if value.get("alternateName"):
        return str(value["alternateName"])
    if value.get("ratingValue") is not None:
        best = value.get("bestRating")
        return f"{value['ratingValue']}/{best}" if best is not None else str(value["ratingValue"])
    return None


# the store


def import_factchecks(store: Store, paths: Iterable[Path]) -> dict[str, int]:
    """Read every file first (one bad file imports nothing), then upsert by URL and
    re-match every stored article; returns counts of added, updated and matches."""
    checks = [check for path in paths for check in read_claimreview_file(Path(path))]
    with store.transaction():
        added = sum(_save_check(store, check) for check in checks)
        matches = _rematch(store, store.iter_results())
    return {"read": len(checks), "added": added, "updated": len(checks) - added, "matches": matches}


def _save_check(store: Store, check: FactCheck) -> bool:
    """Insert or update the check with this URL, and its FTS5 row; True when it is new."""
    row = store.db.execute("SELECT factcheck_id FROM factcheck WHERE url = ?", (check.url,)).fetchone()
    values = (
        check.publisher,
        check.claim_reviewed,
        check.rating,
        check.claimant,
        check.date_published,
        json.dumps(list(check.appearances)),
        utc_now(),
    )
    if row is None:
        factcheck_id = store.db.execute(
            """INSERT INTO factcheck (url, publisher, claim_reviewed, rating, claimant, date_published,
               appearances, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (check.url, *values),
        ).lastrowid
    else:
        factcheck_id = row["factcheck_id"]
        store.db.execute(
            """UPDATE factcheck SET publisher = ?, claim_reviewed = ?, rating = ?, claimant = ?,
               date_published = ?, appearances = ?, imported_at = ? WHERE factcheck_id = ?""",
            (*values, factcheck_id),
        )
        store.db.execute("DELETE FROM factcheck_fts WHERE rowid = ?", (factcheck_id,))
    store.db.execute("INSERT INTO factcheck_fts (rowid, claim_reviewed) VALUES (?, ?)", (factcheck_id, check.claim_reviewed))
    return row is None


def list_factchecks(store: Store) -> list[FactCheck]:
    """Every stored check, newest first."""
    return list(_stored_checks(store).values())


def _stored_checks(store: Store, ids: Iterable[int] | None = None) -> dict[int, FactCheck]:
    """Stored checks by id (of these ids, or all), newest first."""
    condition, params = among("factcheck_id", ids)
    rows = store.db.execute(f"SELECT * FROM factcheck WHERE {condition} ORDER BY date_published DESC, url", params)
    return {
        row["factcheck_id"]: FactCheck(
            url=row["url"],
            claim_reviewed=row["claim_reviewed"],
            publisher=row["publisher"],
            rating=row["rating"],
            claimant=row["claimant"],
            date_published=row["date_published"],
            appearances=tuple(json.loads(row["appearances"])),
        )
        for row in rows
    }


# matching


def _terms(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.casefold()):
        if word not in _STOPWORDS and len(word) > 1:
            seen.setdefault(word.replace("’", "'"), None)
    return list(seen)


def _fts_query(terms: list[str]) -> str:
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _names(text: str) -> set[str]:
    """Words of the text's capitalised names, less a lone capitalised word opening a sentence
    ("Drinking bleach ...")."""
    found: set[str] = set()
    for start, _, name in person_names(text):
        words = name.split()
        if len(words) == 1 and (start == 0 or text[:start].rstrip()[-1:] in '.!?:"“'):
            continue
        found.update(name_key(word) for word in words if len(word) > 1)
    return found


class _Matcher:
    """Scores texts against the stored checks; each check's own BM25 is computed once."""

    def __init__(self, store: Store):
        self.store = store
        self.own: dict[int, tuple[float, set[str]]] = {}

    def match(self, text: str) -> list[tuple[int, float]]:
        terms = _terms(text)
        if not terms:
            return []
        rows = self.store.db.execute(
            "SELECT rowid FROM factcheck_fts WHERE factcheck_fts MATCH ? ORDER BY bm25(factcheck_fts) LIMIT ?",
            (_fts_query(terms), _CANDIDATES),
        )
        candidates = [row[0] for row in rows]
        if not candidates:
            return []
        names = _names(text)
        content = [term for term in terms if term not in names]
        ranks = self._bm25(content, candidates) if content else {}
        found = []
        for rowid in candidates:
            own, check_names = self._own(rowid)
            score = _score(ranks.get(rowid, 0.0), own, check_names, names)
            if score >= MATCH_THRESHOLD:
                found.append((rowid, score))
        return found

    def _own(self, rowid: int) -> tuple[float, set[str]]:
        """The check's BM25 against its own words (names aside), and its names."""
        if rowid not in self.own:
            claim = self.store.db.execute("SELECT claim_reviewed FROM factcheck_fts WHERE rowid = ?", (rowid,)).fetchone()[0]
            names = _names(claim)
            content = [term for term in _terms(claim) if term not in names]
            own = self._bm25(content, [rowid]).get(rowid, 0.0) if content else 0.0
            self.own[rowid] = (own, names)
        return self.own[rowid]

    def _bm25(self, terms: list[str], rowids: list[int]) -> dict[int, float]:
        """BM25 of the terms' FTS5 query against each of these checks it matches."""
        condition, params = among("rowid", rowids)
        rows = self.store.db.execute(
            f"SELECT rowid, bm25(factcheck_fts) FROM factcheck_fts WHERE factcheck_fts MATCH ? AND {condition}",
            (_fts_query(terms), *params),
        )
        return {row[0]: row[1] for row in rows}


def _score(rank: float, own: float, check_names: set[str], text_names: set[str]) -> float:
    # FTS5's bm25 is negative, lower is better: rank / own is the share of the check's own score.
    terms = min(1.0, rank / own) if own < 0 else 0.0
    if not check_names:
        return terms
    names = len(check_names & text_names) / len(check_names)
    if names == 0:
        return 0.0
    return names if own == 0 else NAME_WEIGHT * names + (1 - NAME_WEIGHT) * terms


def match_text(store: Store, text: str) -> list[tuple[FactCheck, float]]:
    """The stored checks matching one text, best first."""
    found = sorted(_Matcher(store).match(text), key=lambda pair: -pair[1])
    checks = _stored_checks(store, [i for i, _ in found])
    return [(checks[i], score) for i, score in found]


def _targets(result: StoredResult) -> Iterator[tuple[str, str]]:
    article = result.article
    yield "article", " ".join(filter(None, [article.title, article.text[:_ARTICLE_CHARS]]))
    for index, claim in enumerate(result.analysis.claims):
        yield f"claim:{index}", " ".join(filter(None, [claim.event, claim.who]))


def _rematch(store: Store, results: Iterable[StoredResult]) -> int:
    """Match these articles again, replacing their stored matches; returns the number of matches."""
    matcher = _Matcher(store)
    count = 0
    for result in results:
        article_id, now = result.article.article_id, utc_now()
        found = [
            (article_id, target, factcheck_id, score, now)
            for target, text in _targets(result)
            for factcheck_id, score in matcher.match(text)
        ]
        store.db.execute("DELETE FROM factcheck_match WHERE article_id = ?", (article_id,))
        store.db.executemany(
            "INSERT OR REPLACE INTO factcheck_match (article_id, target, factcheck_id, score, matched_at) VALUES (?, ?, ?, ?, ?)",
            found,
        )
        count += len(found)
    return count


def match_results(store: Store, results: Iterable[StoredResult]) -> int:
    """Match these articles and their claims against the known checks (nothing to do
    while none is stored); returns the number of matches."""
    if store.db.execute("SELECT 1 FROM factcheck LIMIT 1").fetchone() is None:
        return 0
    with store.transaction():
        return _rematch(store, results)


def factcheck_matches(store: Store, article_ids: Iterable[str] | None = None) -> dict[str, list[FactCheckMatch]]:
    """Stored matches per article id (of these articles, or all), best first (articles without any are absent)."""
    condition, params = among("m.article_id", article_ids)
    rows = store.db.execute(
        f"""SELECT m.article_id, m.target, f.url, f.publisher, f.rating, f.claim_reviewed, m.score
            FROM factcheck_match m JOIN factcheck f ON f.factcheck_id = m.factcheck_id
            WHERE {condition} ORDER BY m.article_id, m.score DESC, f.url""",
        params,
    )
    out: dict[str, list[FactCheckMatch]] = {}
    for row in rows:
        out.setdefault(row["article_id"], []).append(FactCheckMatch(*row))
    return out


def factcheck_evidence(matches: Iterable[FactCheckMatch]) -> list[str]:
    """One line of evidence per distinct check an article matches: what the worklist cites."""
    seen: dict[str, str] = {}
    for match in matches:
        seen.setdefault(match.url, f"{match.describe()} ({match.url}): {match.claim_reviewed}")
    return list(seen.values())
