"""Domain signals: `cases` announces what happened; `scheduling` listens (connected in its
AppConfig.ready) and acts inside the same transaction, so an event and its consequences
commit or roll back together. Receivers get keyword arguments only."""

from django.dispatch import Signal

# case, transition (StageTransition), actor
case_stage_changed = Signal()

# surgery, actor, created (bool), previous_performed_date (date | None),
# previous_planned_date (date | None)
surgery_recorded = Signal()

# --- Rehabilitation and monitoring ------------------------------------------------------------

# flag (SafetyFlag, newly raised: once per episode), case, actor (None for the daily job)
rehab_flag_raised = Signal()

# flag (SafetyFlag, just resolved), case, actor
rehab_flag_resolved = Signal()

# complication, case, actor
complication_recorded = Signal()

# session (RehabSession), case, actor, flags (the SafetyFlags it newly raised)
rehab_session_recorded = Signal()

# plan (RehabPlan), case, actor
rehab_plan_started = Signal()

# measure (OutcomeMeasure), case, actor: a follow-up task asking for this time point's
# outcome set may be completed by it.
outcome_measure_recorded = Signal()

# setting (ProsthesisSetting), previous (ProsthesisSetting | None), case, actor
prosthesis_setting_changed = Signal()
