"""Answers kept while nothing they show has changed.

The busiest reads (the task list, the case list, a case's rehab summary) are asked again and
again by integrations and by the same person within minutes; rebuilding the same JSON each
time is most of their cost. ``cached_read`` keeps the rendered answer in the ``api`` cache
(settings.CACHES, per process by default) under a key made of:

- the **data generation** the caller's token query read (osseo_mdt.data_generation): it
  changes when any transaction that wrote clinical data commits, whatever wrote it, so an
  answer is never served after something it could show has changed;
- the caller (their teams and roles are part of the data: a membership change is a write);
- the view, the full URL (path, query, host) and the negotiated media type;
- the quarter hour: answers hold local dates (overdue, today's rehab target) in each team's
  time zone, and a day begins on a quarter hour in every zone, so no answer outlives the
  date it was built on.

Only token-authenticated GETs on PostgreSQL answered 200 in JSON are kept. Session callers
(the admin, the browsable API), SQLite, other renderers and errors always go to the view.
``API_CACHE_URL=dummycache://`` turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

CACHE_ALIAS = "api"
# A day starts on a quarter hour in every time zone (offsets are whole quarter hours).
DATE_WINDOW_SECONDS = 15 * 60
HEADER = "X-Osseo-Cache"

Handler = TypeVar("Handler", bound=Callable[..., Any])


def cache_key(view: Any, request: Request) -> str | None:
    """The key of this request's answer, or None when it must not be kept."""
    generation = getattr(request.auth, "data_generation", None)
    if generation is None or request.method != "GET":
        return None
    if not isinstance(getattr(request, "accepted_renderer", None), JSONRenderer):
        return None
    window = int(time.time() // DATE_WINDOW_SECONDS)
    parts = (
        generation,
        str(request.user.pk),
        str(window),
        f"{type(view).__module__}.{type(view).__qualname__}",
        str(request.accepted_media_type),
        request.build_absolute_uri(),
    )
    return "read:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cached_read(handler: Handler) -> Handler:
    """Decorate a DRF view's GET handler: answer from the cache when the key is there, else
    run the handler and keep its rendered 200 answer."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        key = cache_key(view, request)
        if key is None:
            return handler(view, request, *args, **kwargs)
        store = caches[CACHE_ALIAS]
        kept = store.get(key)
        if kept is not None:
            content, content_type = kept
            response = HttpResponse(content, content_type=content_type)
            response[HEADER] = "hit"
            return response
        response = handler(view, request, *args, **kwargs)
        if isinstance(response, Response) and response.status_code == 200:

            def keep(rendered: Any) -> None:
                store.set(key, (rendered.content, rendered["Content-Type"]))

            response.add_post_render_callback(keep)
            response[HEADER] = "miss"
        return response

    return wrapper  # type: ignore[return-value]
