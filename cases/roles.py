"""Staff roles in an OI team. A person may hold several roles in a team."""

from django.db import models


class Role(models.TextChoices):
    SURGEON = "surgeon", "Surgeon"
    PROSTHETIST = "prosthetist", "Prosthetist"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    NURSE = "nurse", "Nurse (stoma care)"
    COORDINATOR = "coordinator", "Coordinator"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    REHAB_PHYSICIAN = "rehab_physician", "Rehabilitation physician"


def group_name(role: str) -> str:
    """The Django group that carries a role's admin permissions."""
    return f"Role: {Role(role).label}"


# Admin (model) permissions each role's group gets, beyond `view` on every clinical model.
# Fine-grained rules (who may move which stage, act on which task) live in the services;
# these only decide which admin forms a role sees as editable.
ALL_ROLES = frozenset(Role.values)
WRITE_MODELS_BY_ROLE: dict[str, set[str]] = {
    Role.COORDINATOR: {
        "patient",
        "patientweight",
        "case",
        "careteammember",
        "assessment",
        "mdtdecision",
        "surgery",
        "implantcomponent",
        "implantsystem",
    },
    Role.SURGEON: {
        "patient",
        "patientweight",
        "case",
        "careteammember",
        "assessment",
        "mdtdecision",
        "surgery",
        "implantcomponent",
    },
    Role.PROSTHETIST: {"assessment"},
    Role.PHYSIOTHERAPIST: {"assessment", "patientweight"},
    Role.NURSE: {"patientweight"},
    Role.PSYCHOLOGIST: {"assessment"},
    Role.REHAB_PHYSICIAN: {"assessment", "patientweight"},
}
