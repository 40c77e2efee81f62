"""How API callers authenticate: knox tokens, checked in one query (views are in auth.py;
this module imports no views, as DRF's settings load it early)."""

from __future__ import annotations

import binascii
import functools
from hmac import compare_digest
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from cases import access


@functools.cache
def _tokens_with_user_and_roles() -> QuerySet[AuthToken]:
    """Built once per process (its subquery costs more to build than to run); each request
    filters a copy."""
    return AuthToken.objects.select_related("user").annotate(
        team_roles=access.team_roles_subquery()
    )


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token check (hashed, expiring, revocable tokens) in one query: the presented
    token with its user and the user's team roles (which every API view needs: they scope
    what the caller sees, cases.access).

    knox itself also reads every other token of the caller on every request, to delete the
    expired ones; a service account holding many tokens paid for that on each call. Here only
    the presented token's own expiry is checked (an expired token is deleted and refused, as
    knox does), and the daily job ``cases.sweep_expired_tokens`` deletes the rest.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        # knox's own loop, over a query that also reads the roles.
        msg = _("Invalid token.")
        text = token.decode("utf-8")
        candidates = _tokens_with_user_and_roles().filter(
            token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH]
        )
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                user, auth_token = self.validate_user(auth_token)
                access.remember(user, access.parse_team_roles(auth_token.team_roles))
                return user, auth_token
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the token above (the same as knox's)."""

    target_class = "osseo_mdt.api.authentication.TokenAuthentication"
