"""How API callers authenticate: knox tokens, checked in one query (views are in auth.py;
this module imports no views, as DRF's settings load it early)."""

from __future__ import annotations

import binascii
import functools
from hmac import compare_digest
from typing import Any

import psycopg
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
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
from osseo_mdt import data_generation


@functools.cache
def _tokens_with_user_and_roles() -> QuerySet[AuthToken]:
    """Built once per process (its subquery costs more to build than to run); each request
    filters a copy."""
    return AuthToken.objects.select_related("user").annotate(
        team_roles=access.team_roles_subquery()
    )


class _PreparedCursor(psycopg.Cursor):
    """A server-side binding cursor whose statements PostgreSQL plans once per connection
    (Django's own cursors bind on the client and are planned on every execution)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs["prepare"] = True
        return super().execute(query, params, **kwargs)


@functools.cache
def _token_sql() -> tuple[str, tuple[Any, ...], list[str], list[str]]:
    """PostgreSQL: the same query as ``_tokens_with_user_and_roles`` (the token, its user, the
    user's team roles) plus the data generation (osseo_mdt.data_generation), written out
    once so that it can be a prepared statement. Returns the SQL (token key last), the
    parameters before the key, and the token and user attribute names in column order."""
    user_model = get_user_model()
    token_table = AuthToken._meta.db_table
    user_table = user_model._meta.db_table
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    # The roles subquery as the ORM writes it for the queryset above, correlated on the
    # token's table.
    query = _tokens_with_user_and_roles().query
    compiler = query.get_compiler(DEFAULT_DB_ALIAS)
    compiler.setup_query()
    roles_sql, roles_params = compiler.compile(query.annotations["team_roles"])
    token_fields = list(AuthToken._meta.concrete_fields)
    user_fields = list(user_model._meta.concrete_fields)
    columns = [f"{quote(token_table)}.{quote(f.column)}" for f in token_fields]
    columns += [f"{quote(user_table)}.{quote(f.column)}" for f in user_fields]
    columns += [roles_sql, data_generation.GENERATION_SQL]
    user_fk = AuthToken._meta.get_field("user").column
    user_pk = user_model._meta.pk.column
    # Only quoted names from the models' metadata and the ORM's own SQL; values are bound.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(token_table)}"  # noqa: S608
        f" INNER JOIN {quote(user_table)}"
        f" ON ({quote(token_table)}.{quote(user_fk)} = {quote(user_table)}.{quote(user_pk)})"
        f" WHERE {quote(token_table)}.{quote('token_key')} = %s"
    )
    return (
        sql,
        tuple(roles_params),
        [f.attname for f in token_fields],
        [f.attname for f in user_fields],
    )


def _candidates(token_key: str) -> list[AuthToken]:
    """The tokens with this key, each with ``.user``, ``.team_roles`` (text) and
    ``.data_generation`` (text on PostgreSQL, else None)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        tokens = list(_tokens_with_user_and_roles().filter(token_key=token_key))
        for token in tokens:
            token.data_generation = None
        return tokens
    sql, params, token_names, user_names = _token_sql()
    connection.ensure_connection()
    raw = _PreparedCursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(raw) as cursor:  # type: ignore[arg-type]
        cursor.execute(sql, (*params, token_key))
        rows = cursor.fetchall()
    user_model = get_user_model()
    tokens = []
    split = len(token_names)
    for row in rows:
        token = AuthToken.from_db(DEFAULT_DB_ALIAS, token_names, row[:split])
        token.user = user_model.from_db(
            DEFAULT_DB_ALIAS, user_names, row[split : split + len(user_names)]
        )
        token.team_roles, token.data_generation = row[-2], row[-1]
        tokens.append(token)
    return tokens


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
        for auth_token in _candidates(text[: CONSTANTS.TOKEN_KEY_LENGTH]):
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
