"""Domain errors raised by services. The API maps each to one HTTP status
(osseo_mdt.api.errors); the admin shows their message."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = dict(extra or {})


class RuleViolation(DomainError):
    """Input that breaks a clinical or business rule (400, naming the field)."""

    status_code = 400
    code = "invalid"

    @classmethod
    def on(cls, field: str, message: str) -> RuleViolation:
        return cls(f"{field}: {message}", fields={field: [message]})


class NotPermitted(DomainError):
    """The caller's role may not do this (403)."""

    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The record's state does not allow this now (409)."""

    status_code = 409
    code = "conflict"
