"""Timestamps as a person reads them: the store's UTC ISO strings in the desk's zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["readable_time"]


def readable_time(moment: str | datetime | None, zone: tzinfo | None = None) -> str:
    """``2026-12-06 19:04 CET``: minutes, in ``zone`` (None: the machine's local zone), with
    the zone's abbreviation (or UTC offset); a moment without a zone is UTC, as the store's are."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    name = local.tzname() or local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {name}"
