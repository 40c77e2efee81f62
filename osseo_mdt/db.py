"""Small database helpers shared by the apps (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, CharField, F, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat


class JoinedText(Aggregate):
    """Text values joined with commas (string_agg on PostgreSQL, group_concat elsewhere; the
    order is not defined)."""

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "%(function)s(%(expressions)s, ',')"
        return self.as_sql(compiler, connection, function="STRING_AGG", template=template)


def joined_values(rows: QuerySet[Any], group_by: str, *columns: str) -> Subquery:
    """A correlated subquery giving, for each group, ``rows``' ``columns`` as one text value,
    "a:b,a:b" (columns joined with ":", rows with ","; read back with ``split_joined``). For
    short lists of ids, codes and dates read in the same query as their parent row, instead
    of a query of their own. The columns must not contain ":" or "," (ids, dates, slugs)."""
    parts: list[Any] = []
    for column in columns:
        if parts:
            parts.append(Value(":"))
        parts.append(Cast(F(column), CharField()))
    expression = Concat(*parts) if len(parts) > 1 else parts[0]
    joined = rows.order_by().values(group_by).annotate(joined=JoinedText(expression))
    return Subquery(joined.values("joined"), output_field=TextField())


def split_joined(text: str | None) -> list[list[str]]:
    """``joined_values``' text back as rows of column values."""
    return [row.split(":") for row in (text or "").split(",") if row]
