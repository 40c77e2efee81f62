"""Views outside the API: the calendar feed."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import calendar, selectors, services
from .models import CalendarFeed


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """`/calendar/<token>.ics`. The token is the only credential (calendar apps cannot log
    in), so a wrong or revoked one is a plain 404 that says nothing more."""
    feed = (
        CalendarFeed.objects.filter(
            token_hash=services.calendar_token_hash(token),
            revoked_at__isnull=True,
            user__is_active=True,
        )
        .select_related("user")
        .first()
    )
    if feed is None:
        raise Http404
    now = timezone.now()
    # Calendar apps poll often: note the use at most once an hour (one conditional UPDATE).
    CalendarFeed.objects.filter(pk=feed.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(hours=1))
    ).update(last_used_at=now)
    body = calendar.build(feed.user, selectors.calendar_items(feed.user))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oi-mdt.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
