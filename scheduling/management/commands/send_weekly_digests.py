from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling import digest
from scheduling.weeks import IsoWeek


class Command(BaseCommand):
    help = (
        "Send (or with --dry-run, show) the weekly task emails. Sending takes the same "
        "exactly-once path as Celery beat: a person gets at most one email per ISO week."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print what each person would get; send and claim nothing.",
        )
        parser.add_argument("--week", help="ISO week, e.g. 2026-W49 (default: this week).")
        parser.add_argument("--user", help="Only this username.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            week = (
                IsoWeek.parse(options["week"])
                if options["week"]
                else IsoWeek.of(timezone.localdate())
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        user_ids = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user '{options['user']}'.")
            user_ids = [user.pk]

        if options["dry_run"]:
            digests = digest.build_digests(week, user_ids)
            for found in digests:
                message = digest.render_email(found)
                self.stdout.write(f"To: {found.email}\nSubject: {message.subject}\n")
                self.stdout.write(str(message.body))
                self.stdout.write("-" * 72)
            self.stdout.write(f"{len(digests)} digest(s) for {week} (dry run: nothing sent).")
            return
        queued = digest.digest_fan_out(week=week, user_ids=user_ids)
        self.stdout.write(f"{len(queued)} digest(s) for {week} queued for sending.")
