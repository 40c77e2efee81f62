from typing import Any

from django.core.management.base import BaseCommand

from scheduling import demo


class Command(BaseCommand):
    help = "Create (or complete) the demo team, its users and demo patients. Safe to run twice."

    def handle(self, *args: Any, **options: Any) -> None:
        demo.seed_all()
        self.stdout.write(f"Demo data ready. Logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, what in demo.demo_logins():
            self.stdout.write(f"  {username:<20} {what}")
