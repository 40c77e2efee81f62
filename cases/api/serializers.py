from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import access
from cases.models import Team


class TeamRolesSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    time_zone = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())


class MeSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "teams"]
        read_only_fields = ["id", "username", "first_name", "last_name", "email", "teams"]

    @extend_schema_field(TeamRolesSerializer(many=True))
    def get_teams(self, user: Any) -> Any:
        by_team = access.roles_by_team(user)
        teams = Team.objects.filter(pk__in=by_team).order_by("name")
        return TeamRolesSerializer(
            [
                {
                    "id": t.pk,
                    "name": t.name,
                    "slug": t.slug,
                    "time_zone": t.time_zone,
                    "roles": sorted(by_team[t.pk]),
                }
                for t in teams
            ],
            many=True,
        ).data
