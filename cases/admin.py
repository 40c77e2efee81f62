from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Membership, MembershipRole, Team


class MembershipRoleInline(admin.TabularInline):
    model = MembershipRole
    extra = 1


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role_list", "is_active"]
    list_filter = ["team", "is_active", "roles__role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    inlines = [MembershipRoleInline]

    @admin.display(description="Roles")
    def role_list(self, obj: Membership) -> str:
        return ", ".join(r.get_role_display() for r in obj.roles.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return (
            super().get_queryset(request).select_related("user", "team").prefetch_related("roles")
        )
