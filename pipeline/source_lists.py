"""The desk's source lists: trusted and unreliable domains, read against article URLs.

An article's URL is its JSON ``url`` or its HTML canonical link (both land in
``article.url``). A listed domain covers its subdomains (``example.com`` covers
``news.example.com``); the most specific listing wins. An unreliable source is evidence
for a fabrication; a trusted one lowers an article's priority on the worklist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import InputError
from .store import Store, utc_now

__all__ = [
    "ListedSource",
    "SourceStanding",
    "add_sources",
    "listed_sources",
    "normalise_domain",
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


def normalise_domain(value: str) -> str | None:
    """The host of a domain or URL, lower-case, without ``www.`` or a port; None if it is none."""
    value = value.strip().lower()
    host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
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


def add_sources(store: Store, domains: Iterable[str], standing: SourceStanding, where: str = "sources add") -> list[ListedSource]:
    """List these domains (a domain listed before changes standing); all or nothing."""
    listed = []
    for value in domains:
        domain = normalise_domain(value)
        if domain is None:
            raise InputError(where, f"not a domain: {value!r}")
        listed.append(ListedSource(domain, standing))
    if not listed:
        raise InputError(where, "no domain given")
    with store.transaction():
        store.db.executemany("INSERT OR REPLACE INTO source_list (domain, standing, added_at) VALUES (?, ?, ?)",
                             [(s.domain, s.standing.value, utc_now()) for s in listed])
    return listed


def remove_sources(store: Store, domains: Iterable[str]) -> int:
    keys = [normalise_domain(value) or value for value in domains]
    with store.transaction():
        return sum(store.db.execute("DELETE FROM source_list WHERE domain = ?", (key,)).rowcount for key in keys)


def listed_sources(store: Store) -> list[ListedSource]:
    return [ListedSource(row["domain"], SourceStanding(row["standing"]))
            for row in store.db.execute("SELECT domain, standing FROM source_list ORDER BY domain")]


def source_standing(url: str | None, listed: dict[str, SourceStanding]) -> ListedSource | None:
    """The most specific listing covering the URL's host, if any."""
    host = normalise_domain(url) if url else None
    while host:
        if host in listed:
            return ListedSource(host, listed[host])
        host = host.partition(".")[2] if "." in host.partition(".")[2] else ""
    return None


def source_standings(store: Store, urls: dict[str, str | None]) -> dict[str, ListedSource]:
    """Article id -> the listing its URL falls under (articles with none are absent)."""
    listed = {source.domain: source.standing for source in listed_sources(store)}
    found = {article_id: source_standing(url, listed) for article_id, url in urls.items()} if listed else {}
    return {article_id: source for article_id, source in found.items() if source is not None}
