"""The desk's source lists: trusted and unreliable domains, read against article URLs.

An article's URL is its JSON ``url`` or its HTML canonical link (both land in
``article.url``). A listed domain covers its subdomains (``example.com`` covers
``news.example.com``); the most specific listing wins. An unreliable source is evidence
for a fabrication; a trusted one lowers an article's priority on the worklist.
This module makes every query on the ``source_list`` table, and reads the articles' URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import InputError
from pipeline.store import Store, among, utc_now

__all__ = [
    "ListedSource",
    "SourceStanding",
    "add_sources",
    "article_ids_at_domains",
    "article_urls",
    "listed_sources",
    "normalise_domain",
    "priority_steps",
    "read_domain_file",
    "remove_sources",
    "source_standing",
    "source_standings",
]


_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class SourceStanding(str, Enum):
    trusted = "trusted"
    unreliable = "unreliable"


@dataclass(frozen=True)
class ListedSource:
    domain: str
    standing: SourceStanding

    def to_record(self) -> dict[str, Any]:
        return {"domain": self.domain, "standing": self.standing.value}

    def describe(self) -> str:
        """ "source trusted: example.com" """
        return f"source {self.standing.value}: {self.domain}"


def normalise_domain(value: str) -> str | None:
    """The host of a domain or URL, lower-case, without ``www.`` or a port; None if it is none.

    The one parser of article URLs and listed domains: a malformed URL (``http://[x``) is no
    domain, never an error, so one bad URL in the store cannot stop a view that reads it."""
    value = value.strip().lower()
    try:
        host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    except ValueError:
        return None
    host = host.removeprefix("www.").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if _DOMAIN.match(host) else None


def read_domain_file(path: Path) -> list[str]:
    """One domain (or URL) a line; blank lines and ``#`` comments skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), f"cannot read ({error})") from None
    domains = []
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if line:
            if normalise_domain(line) is None:
                raise InputError(f"{path}: line {number}", f"not a domain: {line!r}")
            domains.append(line)
    return domains


def add_sources(store: Store, listings: Mapping[SourceStanding, Iterable[str]], where: str = "sources add") -> list[ListedSource]:
    """List these domains under their standing (a domain listed before changes standing);
    every one is checked before any is written."""
    listed = []
    for standing, domains in listings.items():
        for value in domains:
            domain = normalise_domain(value)
            if domain is None:
                raise InputError(where, f"not a domain: {value!r}")
            listed.append(ListedSource(domain, standing))
    if not listed:
        raise InputError(where, "give --trusted DOMAIN, --unreliable DOMAIN or --file")
    now = utc_now()
    with store.transaction():
        store.db.executemany(
            "INSERT OR REPLACE INTO source_list (domain, standing, added_at) VALUES (?, ?, ?)",
            [(s.domain, s.standing.value, now) for s in listed],
        )
    return listed


def remove_sources(store: Store, domains: Iterable[str]) -> int:
    keys = [normalise_domain(value) or value for value in domains]
    with store.transaction():
        return sum(store.db.execute("DELETE FROM source_list WHERE domain = ?", (key,)).rowcount for key in keys)


def listed_sources(store: Store) -> list[ListedSource]:
    """Every listed domain, by domain."""
    rows = store.db.execute("SELECT domain, standing FROM source_list ORDER BY domain")
    return [ListedSource(row["domain"], SourceStanding(row["standing"])) for row in rows]


def article_urls(store: Store, article_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The URL of each article (of these, or all) that has one: what ``source_standings`` reads."""
    condition, params = among("article_id", article_ids)
    rows = store.db.execute(f"SELECT article_id, url FROM article WHERE url IS NOT NULL AND {condition}", params)
    return {row["article_id"]: row["url"] for row in rows}


def source_standing(url: str | None, listed: dict[str, SourceStanding]) -> ListedSource | None:
    """The most specific listing covering the URL's host, if any."""
    host = normalise_domain(url) if url else None
    while host:
        if host in listed:
            return ListedSource(host, listed[host])
        host = host.partition(".")[2] if "." in host.partition(".")[2] else ""
    return None


def priority_steps(source: ListedSource | None) -> int:
    """How many steps an article's source lowers it on the worklist: one for a trusted source.
    An unreliable source moves nothing here: it is evidence for the verdict, shown beside it."""
    return 1 if source is not None and source.standing is SourceStanding.trusted else 0


def source_standings(store: Store, urls: Mapping[str, str | None]) -> dict[str, ListedSource]:
    """Article id -> the listing its URL falls under (articles with none are absent)."""
    listed = {source.domain: source.standing for source in listed_sources(store)}
    found = {article_id: source_standing(url, listed) for article_id, url in urls.items()} if listed else {}
    return {article_id: source for article_id, source in found.items() if source is not None}


def article_ids_at_domains(store: Store, domains: Iterable[str]) -> list[str]:
    """Articles whose URL mentions any of these domains (a superset of those at them)."""
    wanted = sorted({domain.lower() for domain in domains})
    if not wanted:
        return []
    rows = store.db.execute(
        "SELECT article_id FROM article WHERE EXISTS"
        " (SELECT 1 FROM json_each(?) WHERE instr(lower(article.url), json_each.value) > 0)",
        (json.dumps(wanted),),
    )
    return [row["article_id"] for row in rows]
