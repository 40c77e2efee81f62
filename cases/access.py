"""Who may see what: the caller's teams and roles, looked up once per request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db.models import Model, OuterRef, QuerySet, Subquery

from osseo_mdt.db import joined_values, split_joined

from .errors import NotPermitted
from .models import MembershipRole

M = TypeVar("M", bound=Model)

_CACHE_ATTR = "_osseo_roles_by_team"


def active_roles(user_id: Any) -> QuerySet[MembershipRole]:
    """The roles of a user's active memberships in active teams (``user_id`` may be an
    OuterRef)."""
    return MembershipRole.objects.filter(
        membership__user_id=user_id,
        membership__is_active=True,
        membership__team__is_active=True,
    )


def team_roles_subquery() -> Subquery:
    """The user's roles as one text value (``parse_team_roles``), for reading them in the
    same query as the user's token (osseo_mdt.api.authentication)."""
    return joined_values(
        active_roles(OuterRef("user_id")), "membership__user_id", "membership__team_id", "role"
    )


def _by_team(pairs: Iterable[tuple[Any, str]]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = {}
    for team_id, role in pairs:
        found.setdefault(int(team_id), set()).add(role)
    return {team_id: frozenset(roles) for team_id, roles in found.items()}


def parse_team_roles(joined: str | None) -> dict[int, frozenset[str]]:
    """``team_roles_subquery``'s text as {team_id: roles}."""
    return _by_team((team_id, role) for team_id, role in split_joined(joined))


def remember(user: Any, roles: dict[int, frozenset[str]]) -> None:
    """Give the user object the roles its caller has already read (the token check reads them
    with the token), so that ``roles_by_team`` does not query them again."""
    setattr(user, _CACHE_ATTR, roles)


def roles_by_team(user: Any) -> dict[int, frozenset[str]]:
    """{team_id: roles} for the user's active memberships, cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _by_team(active_roles(user.pk).values_list("membership__team_id", "role"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def team_ids(user: Any) -> list[int]:
    return sorted(roles_by_team(user))


def roles_in(user: Any, team_id: int) -> frozenset[str]:
    return roles_by_team(user).get(team_id, frozenset())


def forget(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def require_role(user: Any, team_id: int, allowed: Iterable[str], doing: str) -> frozenset[str]:
    """Raise NotPermitted unless the user holds one of `allowed` in the team."""
    allowed = frozenset(allowed)
    roles = roles_in(user, team_id)
    if not roles & allowed:
        names = ", ".join(sorted(allowed))
        raise NotPermitted(f"Only {names} may {doing}.", extra={"allowed_roles": sorted(allowed)})
    return roles


def case_records_for(model: type[M], user: Any) -> QuerySet[M]:
    """Records hanging on a case (assessments, surgeries, sessions...): those of the user's
    teams, not entered in error."""
    return model._default_manager.filter(case__team_id__in=team_ids(user), entered_in_error=False)
