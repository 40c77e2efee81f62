"""A case's timeline: one list of dated entries from every kind of record. `cases` supplies
its own entries; other apps (scheduling) register providers in their AppConfig.ready, so
`cases` never imports them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "transition", "surgery", "decision", "task", "appointment", ...
    at: datetime | date
    title: str
    detail: str = ""
    record_id: int | None = None
    actor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[str, str]:
        at = self.at
        day = at.date() if isinstance(at, datetime) else at
        return (day.isoformat(), at.isoformat() if isinstance(at, datetime) else "")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


# provider(case) -> that case's entries from one app (a query or two).
Provider = Callable[[Any], Iterable[TimelineEntry]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def providers() -> list[Provider]:
    return list(_providers)
