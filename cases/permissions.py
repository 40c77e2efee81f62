"""Who may write what: one table, by record kind, of the roles that may create or change it.
Reads are open to every member of the record's team. Stage moves have their own table in
cases/pathway.py; tasks theirs in scheduling/permissions.py.

| record            | roles that may write                                           |
|-------------------|----------------------------------------------------------------|
| patient           | coordinator, surgeon, nurse                                    |
| patient weight    | every clinical role                                            |
| case, care team   | coordinator, surgeon                                           |
| implant system    | coordinator, surgeon                                           |
| assessment        | coordinator, surgeon, prosthetist, physiotherapist,            |
|                   | psychologist, rehab_physician, nurse                           |
| MDT decision      | coordinator, surgeon                                           |
| surgery           | surgeon, coordinator                                           |
| rehab protocol    | rehab_physician, physiotherapist                               |
| rehab plan        | physiotherapist, rehab_physician, surgeon                      |
| rehab session     | physiotherapist, rehab_physician                               |
| safety flag       | physiotherapist, rehab_physician, surgeon, nurse (resolve)     |
| complication      | surgeon, nurse, physiotherapist, rehab_physician, coordinator  |
| outcome measure   | every clinical role (not coordinator)                          |
| prosthesis setting| prosthetist only                                               |
"""

from __future__ import annotations

from typing import Any

from . import access
from .roles import ALL_ROLES, Role

WRITE_ROLES: dict[str, frozenset[str]] = {
    "patient": frozenset({Role.COORDINATOR, Role.SURGEON, Role.NURSE}),
    "patient_weight": ALL_ROLES,
    "case": frozenset({Role.COORDINATOR, Role.SURGEON}),
    "implant_system": frozenset({Role.COORDINATOR, Role.SURGEON}),
    "assessment": ALL_ROLES,
    "mdt_decision": frozenset({Role.COORDINATOR, Role.SURGEON}),
    "surgery": frozenset({Role.SURGEON, Role.COORDINATOR}),
    "rehab_protocol": frozenset({Role.REHAB_PHYSICIAN, Role.PHYSIOTHERAPIST}),
    "rehab_plan": frozenset({Role.PHYSIOTHERAPIST, Role.REHAB_PHYSICIAN, Role.SURGEON}),
    "rehab_session": frozenset({Role.PHYSIOTHERAPIST, Role.REHAB_PHYSICIAN}),
    "safety_flag": frozenset(
        {Role.PHYSIOTHERAPIST, Role.REHAB_PHYSICIAN, Role.SURGEON, Role.NURSE}
    ),
    "complication": frozenset(
        {Role.SURGEON, Role.NURSE, Role.PHYSIOTHERAPIST, Role.REHAB_PHYSICIAN, Role.COORDINATOR}
    ),
    "outcome_measure": ALL_ROLES - {Role.COORDINATOR},
    "prosthesis_setting": frozenset({Role.PROSTHETIST}),
}

LABELS = {
    "patient": "change patients",
    "patient_weight": "record body weight",
    "case": "change cases",
    "implant_system": "change the implant catalogue",
    "assessment": "record assessments",
    "mdt_decision": "record MDT decisions",
    "surgery": "record surgeries",
    "rehab_protocol": "change rehabilitation protocols",
    "rehab_plan": "start rehabilitation plans",
    "rehab_session": "record rehabilitation sessions",
    "safety_flag": "resolve safety flags",
    "complication": "record complications",
    "outcome_measure": "record outcome measures",
    "prosthesis_setting": "change prosthesis settings",
}


def require_write(user: Any, team_id: int, record: str) -> frozenset[str]:
    return access.require_role(user, team_id, WRITE_ROLES[record], LABELS[record])


def may_write(user: Any, team_id: int, record: str) -> bool:
    return bool(access.roles_in(user, team_id) & WRITE_ROLES[record])
