from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.request import Request


class IsAuthenticatedWithinScope(IsAuthenticated):
    """Signed in, and a read-only integration account may only read."""

    message = "This integration account is read-only."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        account = getattr(request.user, "service_account", None)
        return account is None or not account.read_only
