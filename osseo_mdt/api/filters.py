"""Query-string filtering (django-filter) for the hot lists."""

from __future__ import annotations

from typing import Any

import django_filters
from django_filters.filters import QuerySetRequestMixin


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet with its form class built once per filter set.

    django-filter builds the form class, and a form field for every filter, on every request
    (``get_form_class``, which its documentation offers for overriding); on the task list that
    was a third of the filtering time (bench/RESULTS.md). The fields depend only on the
    declared filters, so the class is kept; each request still gets its own form, which
    copies the fields (Django's forms do), so nothing is shared between requests. A filter
    set with a model-choice filter (whose choices may depend on the request) is built per
    request as before.
    """

    def get_form_class(self) -> Any:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                return form_class
            cls._form_class = form_class
        return form_class
