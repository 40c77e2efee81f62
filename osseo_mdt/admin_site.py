"""The admin site. Its home page is the team member's dashboard; the stock list of every
record type stays at /admin/models/ (and in the sidebar). The case page and its buttons are
admin views too, so they share the admin's login, CSRF and look.

The views themselves live in `scheduling` (it may import `cases`; `cases` never imports
`scheduling`), imported here when the URLs are built.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path


class OsseoAdminSite(admin.AdminSite):
    site_header = "osseo-mdt"
    site_title = "osseo-mdt"
    index_title = "OI multidisciplinary team"
    site_url = None  # no public site to "view": the admin is the web UI

    def index(self, request: HttpRequest, extra_context: Any = None) -> TemplateResponse:
        from scheduling import dashboard

        return dashboard.dashboard_view(self, request)

    def models_index(self, request: HttpRequest) -> TemplateResponse:
        """The stock admin index: every record type the user may see."""
        return super().index(request, {"title": "All records"})

    def get_urls(self) -> list[Any]:
        from scheduling import case_page

        def view(function: Any, name: str, route: str) -> URLPattern:
            def call(request: HttpRequest, **kwargs: Any) -> HttpResponse:
                return function(self, request, **kwargs)

            return path(route, self.admin_view(call), name=name)

        # Before the model admins' URLs, whose catch-all would take cases/case/<pk>/...
        return [
            path("models/", self.admin_view(self.models_index), name="models"),
            view(case_page.overview, "case_overview", "cases/case/<int:pk>/overview/"),
            view(case_page.move, "case_move", "cases/case/<int:pk>/overview/move/"),
            view(case_page.task_action, "case_task", "cases/case/<int:pk>/overview/task/"),
            view(case_page.record_session, "case_session", "cases/case/<int:pk>/overview/session/"),
            *super().get_urls(),
        ]
