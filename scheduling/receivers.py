"""Listens to the domain signals of `cases` (cases/signals.py) and generates tasks in the same
transaction."""
