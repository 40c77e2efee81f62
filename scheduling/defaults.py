"""The default task templates (shared by every team), following DOMAIN.md. Loaded by the data
migration 0003_default_task_templates and by seed_demo; a clinic tunes them in the admin
(or replaces one for its team with a team template of the same code).

Installing adds the missing codes only: a template the clinic has edited is never
overwritten.
"""

from __future__ import annotations

from typing import Any

from cases.pathway import Stage, SurgeryKind
from cases.roles import Role

from .generation import RepeatUnit, Trigger

# The outcome set a follow-up review asks for (DOMAIN.md, Outcome measures).
BASELINE_OUTCOMES = ["six_minute_walk", "timed_up_and_go", "k_level", "qtfa"]
STOMA_MAKING = [SurgeryKind.STAGE2, SurgeryKind.SINGLE_STAGE]
IMPLANTING = [SurgeryKind.STAGE1, SurgeryKind.STAGE2, SurgeryKind.SINGLE_STAGE]


def _stage(code: str, stage: Stage, role: Role, title: str, days: int, **extra: Any) -> dict:
    return {
        "code": code,
        "trigger": Trigger.STAGE_ENTERED,
        "stage": stage,
        "role": role,
        "title": title,
        "offset_days": days,
        **extra,
    }


def _follow_up(months: int) -> list[dict]:
    return [
        {
            "code": f"follow-up-{months}m-review",
            "trigger": Trigger.REHAB_MONTHS,
            "offset_months": months,
            "role": Role.SURGEON,
            "title": f"{months}-month OI review: X-ray of the implant and stoma review",
        },
        {
            "code": f"follow-up-{months}m-outcomes",
            "trigger": Trigger.REHAB_MONTHS,
            "offset_months": months,
            "role": Role.PHYSIOTHERAPIST,
            "title": f"{months}-month outcome measures: 6MWT, TUG, K-level, Q-TFA, wear hours",
            "outcome_time_point": f"month_{months}",
            "outcome_kinds": [*BASELINE_OUTCOMES, "wear_hours"],
        },
    ]


DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    _stage(
        "screening-prescreen",
        Stage.SCREENING,
        Role.COORDINATOR,
        "Pre-screen the referral: socket problems, contraindications, residual bone length",
        7,
        priority="soon",
    ),
    _stage(
        "screening-peer-contact",
        Stage.SCREENING,
        Role.COORDINATOR,
        "Offer a conversation with an existing OI user (peer contact)",
        21,
    ),
    _stage(
        "assessment-imaging",
        Stage.ASSESSMENT,
        Role.SURGEON,
        "Request X-ray and CT of the residual limb, DEXA and bloods",
        14,
    ),
    _stage(
        "assessment-socket-gait",
        Stage.ASSESSMENT,
        Role.PROSTHETIST,
        "Socket and gait assessment; record the current prosthetic components",
        28,
    ),
    _stage(
        "assessment-baseline-outcomes",
        Stage.ASSESSMENT,
        Role.PHYSIOTHERAPIST,
        "Baseline outcome measures: 6MWT, TUG, K-level, Q-TFA",
        28,
        outcome_time_point="baseline",
        outcome_kinds=BASELINE_OUTCOMES,
    ),
    _stage(
        "assessment-psychology",
        Stage.ASSESSMENT,
        Role.PSYCHOLOGIST,
        "Psychological and cognitive assessment; home situation and support",
        28,
    ),
    _stage(
        "assessment-funding",
        Stage.ASSESSMENT,
        Role.COORDINATOR,
        "Request funding / insurer approval",
        14,
    ),
    _stage(
        "mdt-review-agenda",
        Stage.MDT_REVIEW,
        Role.COORDINATOR,
        "Put the case on the next MDT meeting agenda",
        7,
        priority="soon",
        auto_complete_on="mdt_agenda",
        details="Completes by itself when the case is added to a meeting's agenda.",
    ),
    _stage(
        "awaiting-surgery-booking",
        Stage.AWAITING_SURGERY,
        Role.COORDINATOR,
        "Book the surgery date and tell the patient",
        14,
    ),
    {
        "code": "surgery-pre-assessment",
        "trigger": Trigger.SURGERY_PLANNED,
        "surgery_kinds": IMPLANTING,
        "offset_days": -14,
        "role": Role.NURSE,
        "title": "Surgery pre-assessment: anaesthetic review, bloods, MRSA screen, consent",
    },
    {
        "code": "surgery-implant-order",
        "trigger": Trigger.SURGERY_PLANNED,
        "surgery_kinds": IMPLANTING,
        "offset_days": -21,
        "role": Role.SURGEON,
        "title": "Confirm the implant components (system, size) are ordered",
    },
    {
        "code": "interstage-wound-review",
        "trigger": Trigger.SURGERY_PERFORMED,
        "surgery_kinds": [SurgeryKind.STAGE1],
        "offset_days": 14,
        "role": Role.SURGEON,
        "title": "Wound review after stage 1",
    },
    {
        "code": "stoma-care-teaching",
        "trigger": Trigger.SURGERY_PERFORMED,
        "surgery_kinds": STOMA_MAKING,
        "offset_days": 2,
        "role": Role.NURSE,
        "priority": "soon",
        "title": "Daily stoma-care teaching before discharge",
    },
    {
        "code": "training-prosthesis-fitting",
        "trigger": Trigger.SURGERY_PERFORMED,
        "surgery_kinds": STOMA_MAKING,
        "offset_days": 7,
        "role": Role.PROSTHETIST,
        "title": "Fit and align the training prosthesis",
    },
    {
        "code": "rehab-weekly-review",
        "trigger": Trigger.REHAB_DAYS,
        "offset_days": 7,
        "occurrences": 12,
        "repeat_every": 1,
        "repeat_unit": RepeatUnit.WEEKS,
        "role": Role.PHYSIOTHERAPIST,
        "title": "Weekly rehabilitation review: load, pain NRS, walking aids",
    },
    {
        "code": "rehab-definitive-prosthesis",
        "trigger": Trigger.REHAB_MONTHS,
        "offset_months": 6,
        "role": Role.PROSTHETIST,
        "title": "Review for the definitive prosthesis",
    },
    *_follow_up(3),
    *_follow_up(6),
    *_follow_up(12),
    *_follow_up(24),
    {
        "code": "follow-up-yearly-review",
        "trigger": Trigger.REHAB_MONTHS,
        "offset_months": 36,
        "occurrences": 8,
        "repeat_every": 12,
        "repeat_unit": RepeatUnit.MONTHS,
        "role": Role.SURGEON,
        "title": "Yearly OI review: X-ray, stoma, outcome measures",
    },
    _stage(
        "declined-letter",
        Stage.DECLINED,
        Role.COORDINATOR,
        "Letter to the patient and the referrer explaining the decision",
        7,
    ),
    _stage(
        "discharge-letter",
        Stage.DISCHARGED,
        Role.COORDINATOR,
        "Discharge letter to the GP and the referrer; registry entry",
        7,
    ),
]


def install(template_model: Any) -> int:
    """Add the default templates that are missing (by code). Takes the model class so the
    data migration can pass its historical model."""
    created = 0
    # A data migration's historical model may predate some fields (they are filled later).
    known = {field.name for field in template_model._meta.get_fields()}
    for spec in DEFAULT_TEMPLATES:
        fields = {k: (str(v) if hasattr(v, "label") else v) for k, v in spec.items()}
        fields["surgery_kinds"] = [str(k) for k in fields.get("surgery_kinds", [])]
        fields["outcome_kinds"] = list(fields.get("outcome_kinds", []))
        code = fields.pop("code")
        fields = {name: value for name, value in fields.items() if name in known}
        _, was_created = template_model.objects.get_or_create(team=None, code=code, defaults=fields)
        created += was_created
    return created


def install_outcome_sets(template_model: Any) -> int:
    """Give the shared default templates their outcome sets (for databases whose templates
    predate the fields); leaves templates a clinic has set alone."""
    updated = 0
    for spec in DEFAULT_TEMPLATES:
        if not spec.get("outcome_time_point"):
            continue
        updated += template_model.objects.filter(
            team=None, code=spec["code"], outcome_time_point=""
        ).update(
            outcome_time_point=spec["outcome_time_point"],
            outcome_kinds=list(spec["outcome_kinds"]),
        )
    return updated
