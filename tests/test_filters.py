"""osseo_mdt.api.filters.FilterSet: the form class is built once, forms are not shared."""

from __future__ import annotations

import django_filters
import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict

from osseo_mdt.api.filters import FilterSet
from scheduling.api.filters import TaskFilter
from scheduling.models import Task

pytestmark = pytest.mark.django_db


def test_the_form_class_is_built_once_and_each_filter_set_gets_its_own_form() -> None:
    first = TaskFilter(QueryDict("status=finished"), queryset=Task.objects.none())
    second = TaskFilter(
        QueryDict("status=open&due_before=2026-12-01"), queryset=Task.objects.none()
    )
    assert type(first.form) is type(second.form)
    assert first.form is not second.form
    assert first.form.fields["status"] is not second.form.fields["status"]
    assert not first.is_valid() and "status" in first.errors
    assert second.is_valid(), second.errors
    assert str(second.form.cleaned_data["due_before"]) == "2026-12-01"
    # An error on one request's form leaves the next one clean.
    third = TaskFilter(QueryDict("status=open"), queryset=Task.objects.none())
    assert third.is_valid() and not third.errors


def test_a_filter_set_with_a_model_choice_filter_builds_its_form_class_each_time() -> None:
    class ByAssignee(FilterSet):
        assignee = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.all())

        class Meta:
            model = Task
            fields: list[str] = []

    one = ByAssignee(QueryDict(""), queryset=Task.objects.none())
    two = ByAssignee(QueryDict(""), queryset=Task.objects.none())
    assert type(one.form) is not type(two.form)
