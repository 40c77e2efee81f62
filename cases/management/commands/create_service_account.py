from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from cases.models import Membership, MembershipRole, ServiceAccount, Team
from cases.roles import Role


class Command(BaseCommand):
    help = (
        "Create an integration account scoped to teams (read-only unless --read-write) and "
        "print an API token for it. The token is shown once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", action="append", required=True, help="Team slug (repeat).")
        parser.add_argument("--description", default="Integration client")
        parser.add_argument("--read-write", action="store_true")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            choices=Role.values,
            help="Roles it acts with when writing (repeat).",
        )
        parser.add_argument("--token-days", type=int, default=365)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        from datetime import timedelta

        teams = list(Team.objects.filter(slug__in=options["team"]))
        if len(teams) != len(set(options["team"])):
            raise CommandError("Unknown team slug among: " + ", ".join(options["team"]))
        user, created = get_user_model().objects.get_or_create(username=options["username"])
        if created:
            user.set_unusable_password()
            user.save()
        ServiceAccount.objects.update_or_create(
            user=user,
            defaults={
                "description": options["description"],
                "read_only": not options["read_write"],
            },
        )
        roles = options["role"] or [Role.COORDINATOR]
        for team in teams:
            membership, _ = Membership.objects.get_or_create(team=team, user=user)
            for role in roles:
                MembershipRole.objects.get_or_create(membership=membership, role=role)
        _, token = AuthToken.objects.create(user, expiry=timedelta(days=options["token_days"]))
        scope = "read-write" if options["read_write"] else "read-only"
        self.stdout.write(f"{user.username} ({scope}) in {', '.join(t.slug for t in teams)}")
        self.stdout.write(f"Token (shown once): {token}")
