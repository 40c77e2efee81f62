"""How API callers authenticate: knox tokens, checked in one query (views are in auth.py;
this module imports no views, as DRF's settings load it early)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.models import AuthToken
from knox.signals import token_expired


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token check (hashed, expiring, revocable tokens) in one query: the presented
    token with its user.

    knox itself also reads every other token of the caller on every request, to delete the
    expired ones; a service account holding many tokens paid for that on each call. Here only
    the presented token's own expiry is checked (an expired token is deleted and refused, as
    knox does), and the daily job ``cases.sweep_expired_tokens`` deletes the rest.
    """

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
