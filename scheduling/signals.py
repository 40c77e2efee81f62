"""Signals `scheduling` sends about its own records, inside the transaction that wrote them
(scheduling/webhook_receivers.py turns them into webhook events). Keyword arguments only."""

from django.dispatch import Signal

# tasks (list[Task], newly inserted, with their case loaded), actor (None for the system)
task_created = Signal()

# tasks (list[Task], just completed, with their case loaded), actor
task_completed = Signal()
