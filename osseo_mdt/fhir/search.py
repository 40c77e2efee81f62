"""FHIR search parameter values: token, reference, date and string, and the errors they raise.

Pure parsing: values in, plain values (or Django ``Q`` objects over a named field) out. A
comma inside one value means OR; a parameter repeated means AND (the caller applies each).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

DEFAULT_COUNT = 50
MAX_COUNT = 200


class FhirError(Exception):
    """An error the client sees as an OperationOutcome."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code  # http://hl7.org/fhir/issue-type
        self.diagnostics = diagnostics


def invalid(diagnostics: str) -> FhirError:
    return FhirError(400, "invalid", diagnostics)


def not_found(diagnostics: str) -> FhirError:
    return FhirError(404, "not-found", diagnostics)


def alternatives(raw: str, name: str) -> list[str]:
    values = [value.strip() for value in raw.split(",")]
    if not all(values):
        raise invalid(f"Search parameter '{name}' has an empty value.")
    return values


# --- token ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system
    code: str


def parse_tokens(raw: str, name: str) -> list[Token]:
    tokens = []
    for value in alternatives(raw, name):
        if "|" in value:
            system, code = value.split("|", 1)
            if not code:
                raise invalid(f"Search parameter '{name}' needs a code after '|': {value!r}.")
            tokens.append(Token(system or None, code))
        else:
            tokens.append(Token(None, value))
    return tokens


def codes_in(
    raw: str, name: str, allowed: tuple[str, ...] | list[str], system: str | None = None
) -> set[str]:
    """Codes from a fixed value set (e.g. a status): an unknown code is a 400 naming the
    allowed ones, since it can only be a client's mistake."""
    found = set()
    for token in parse_tokens(raw, name):
        if token.system is not None and system is not None and token.system != system:
            raise invalid(f"Search parameter '{name}' takes codes from {system}.")
        if token.code not in allowed:
            raise invalid(f"'{token.code}' is not a valid {name}; use one of {', '.join(allowed)}.")
        found.add(token.code)
    return found


# --- reference --------------------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


def parse_reference_ids(raw: str, name: str, target: str) -> list[int]:
    """``12``, ``Patient/12`` or ``https://.../fhir/r4/Patient/12`` -> [12]. An id that is not
    ours (not a number) matches nothing; a reference to another type is a 400."""
    ids = []
    for value in alternatives(raw, name):
        parts = value.split("/")
        resource_id = parts[-1]
        resource_type = parts[-2] if len(parts) > 1 else target
        if not _ID.match(resource_id) or not _TYPE.match(resource_type):
            raise invalid(f"Search parameter '{name}' takes a reference like {target}/123.")
        if resource_type != target:
            raise invalid(f"Search parameter '{name}' refers to {target}, not {resource_type}.")
        if resource_id.isdigit():
            ids.append(int(resource_id))
    return ids


# --- date -------------------------------------------------------------------------------------

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateCriterion:
    """A prefix and the range of days the value covers (2024 -> 2024-01-01..2024-12-31)."""

    prefix: str
    low: date
    high: date

    def q(self, field: str) -> Q:
        within = Q(**{f"{field}__gte": self.low, f"{field}__lte": self.high})
        return {
            "eq": within,
            "ne": ~within & Q(**{f"{field}__isnull": False}),
            "gt": Q(**{f"{field}__gt": self.high}),
            "sa": Q(**{f"{field}__gt": self.high}),
            "lt": Q(**{f"{field}__lt": self.low}),
            "eb": Q(**{f"{field}__lt": self.low}),
            "ge": Q(**{f"{field}__gte": self.low}),
            "le": Q(**{f"{field}__lte": self.high}),
        }[self.prefix]


def parse_date(raw: str, name: str) -> DateCriterion:
    """One date value (no commas: FHIR gives date parameters no OR). A time part is allowed
    and ignored: every date this API searches is a calendar date."""
    match = _DATE.match(raw.strip())
    if match is None:
        raise invalid(
            f"Search parameter '{name}' takes a date like ge2024-01-31 (prefixes "
            f"{', '.join(PREFIXES)}; precision year, month or day): got {raw!r}."
        )
    prefix = match["prefix"] or "eq"
    if prefix not in PREFIXES:
        raise invalid(f"Date prefix '{prefix}' is not supported; use one of {', '.join(PREFIXES)}.")
    year = int(match["year"])
    try:
        if match["day"]:
            low = high = date(year, int(match["month"]), int(match["day"]))
        elif match["month"]:
            month = int(match["month"])
            low = date(year, month, 1)
            high = date(year, month, calendar.monthrange(year, month)[1])
        else:
            low, high = date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        raise invalid(f"Search parameter '{name}': {raw!r} is not a calendar date.") from None
    return DateCriterion(prefix, low, high)


# --- string -----------------------------------------------------------------------------------


def string_q(raw: str, name: str, modifier: str | None, fields: list[str]) -> Q:
    """FHIR string search: case-insensitive starts-with on any of ``fields`` by default,
    ``:contains`` anywhere, ``:exact`` exact."""
    lookup = {None: "istartswith", "contains": "icontains", "exact": "exact"}[modifier]
    found = Q(pk__in=[])
    for value in alternatives(raw, name):
        for field in fields:
            found |= Q(**{f"{field}__{lookup}": value})
    return found


# --- result parameters ------------------------------------------------------------------------


def parse_count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit():
        raise invalid(f"_count must be a whole number from 0 to {MAX_COUNT}: got {raw!r}.")
    return min(int(raw), MAX_COUNT)


def parse_offset(raw: str | None) -> int:
    if raw is None:
        return 0
    if not raw.isdigit():
        raise invalid(f"_offset must be a whole number: got {raw!r}.")
    return int(raw)
