"""Domain signals: `cases` announces what happened; `scheduling` listens (connected in its
AppConfig.ready) and acts inside the same transaction, so an event and its consequences
commit or roll back together. Receivers get keyword arguments only."""

from django.dispatch import Signal

# case, transition (StageTransition), actor
case_stage_changed = Signal()

# surgery, actor, created (bool), previous_performed_date (date | None),
# previous_planned_date (date | None)
surgery_recorded = Signal()
