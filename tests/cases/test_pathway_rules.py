"""The case pathway rules, checked against tables written out here by hand."""

import pytest

from cases.pathway import (
    CLOSED_STAGES,
    CaseFacts,
    NextStep,
    RefusalKind,
    Role,
    Stage,
    StagingPlan,
    SurgeryKind,
    TransitionRefused,
    allowed_next_stages,
    check_transition,
    is_open,
    next_steps,
    roles_allowed,
)

STAGES = [
    "referred",
    "screening",
    "assessment",
    "mdt_review",
    "awaiting_surgery",
    "stage1_surgery",
    "interstage",
    "stage2_surgery",
    "rehabilitation",
    "follow_up",
    "discharged",
    "on_hold",
    "declined",
    "withdrawn",
    "explanted",
]
OPEN = [
    "referred",
    "screening",
    "assessment",
    "mdt_review",
    "awaiting_surgery",
    "stage1_surgery",
    "interstage",
    "stage2_surgery",
    "rehabilitation",
    "follow_up",
    "on_hold",
]
ALL_ROLES = frozenset(
    {
        "surgeon",
        "prosthetist",
        "physiotherapist",
        "nurse",
        "coordinator",
        "psychologist",
        "rehab_physician",
    }
)
ALL_SURGERIES = frozenset(
    {
        "stage1",
        "stage2",
        "single_stage",
        "debridement",
        "soft_tissue_revision",
        "abutment_exchange",
        "revision",
        "removal",
    }
)

# Every move from every stage, for a two-stage case with all the evidence in hand, asked by
# someone holding every role; the case on hold left rehabilitation.
#   ok = moves, -- = not allowed, G = refused by a guard (the plan is two-stage).
TWO_STAGE_GRID = """
                  ref scr ass mdt awa s1  int s2  reh fol dis hol dec wit exp
referred          --  ok  --  --  --  --  --  --  --  --  --  ok  ok  ok  ok
screening         --  --  ok  --  --  --  --  --  --  --  --  ok  ok  ok  ok
assessment        --  --  --  ok  --  --  --  --  --  --  --  ok  ok  ok  ok
mdt_review        --  --  ok  --  ok  --  --  --  --  --  --  ok  ok  ok  ok
awaiting_surgery  --  --  --  ok  --  ok  --  --  --  --  --  ok  ok  ok  ok
stage1_surgery    --  --  --  --  --  --  ok  --  G   --  --  ok  ok  ok  ok
interstage        --  --  --  --  --  --  --  ok  --  --  --  ok  ok  ok  ok
stage2_surgery    --  --  --  --  --  --  --  --  ok  --  --  ok  ok  ok  ok
rehabilitation    --  --  --  --  --  --  --  --  --  ok  --  ok  ok  ok  ok
follow_up         --  --  --  --  --  --  --  --  ok  --  ok  ok  ok  ok  ok
discharged        --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
on_hold           --  --  --  --  --  --  --  --  ok  --  --  --  ok  ok  ok
declined          --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
withdrawn         --  --  --  --  --  --  --  --  --  --  --  --  --  --  --
explanted         --  --  ok  --  --  --  --  --  --  --  --  --  --  --  --
"""


def _parse_grid(grid: str) -> dict[tuple[str, str], str]:
    rows = grid.strip().splitlines()[1:]
    table = {}
    for row in rows:
        origin, *cells = row.split()
        assert len(cells) == len(STAGES), origin
        for to, cell in zip(STAGES, cells, strict=True):
            table[origin, to] = cell
    assert [row.split()[0] for row in rows] == STAGES
    return table


EXPECTED = _parse_grid(TWO_STAGE_GRID)

SIDE_EXIT_ROLES = {
    "on_hold": {"coordinator", "surgeon"},
    "declined": {"coordinator", "surgeon"},
    "withdrawn": {"coordinator", "surgeon"},
    "explanted": {"surgeon"},
}
ROLE_RULES: dict[tuple[str, str], set[str]] = {
    ("referred", "screening"): {"coordinator"},
    ("screening", "assessment"): {"coordinator", "surgeon"},
    ("assessment", "mdt_review"): {"coordinator", "surgeon"},
    ("mdt_review", "assessment"): {"coordinator", "surgeon"},
    ("mdt_review", "awaiting_surgery"): {"coordinator", "surgeon"},
    ("awaiting_surgery", "mdt_review"): {"coordinator", "surgeon"},
    ("awaiting_surgery", "stage1_surgery"): {"coordinator", "surgeon"},
    ("stage1_surgery", "interstage"): {"surgeon"},
    ("stage1_surgery", "rehabilitation"): {"surgeon"},
    ("interstage", "stage2_surgery"): {"coordinator", "surgeon"},
    ("stage2_surgery", "rehabilitation"): {"surgeon"},
    ("rehabilitation", "follow_up"): {"surgeon", "physiotherapist", "rehab_physician"},
    ("follow_up", "rehabilitation"): {"surgeon", "physiotherapist", "rehab_physician"},
    ("follow_up", "discharged"): {"surgeon", "rehab_physician"},
    ("on_hold", "rehabilitation"): {"coordinator", "surgeon"},
    ("explanted", "assessment"): {"coordinator", "surgeon"},
}
for _origin in OPEN:
    for _exit, _roles in SIDE_EXIT_ROLES.items():
        if (_origin, _exit) != ("on_hold", "on_hold"):
            ROLE_RULES[_origin, _exit] = _roles


def facts(
    stage: str,
    *,
    plan: str = "two_stage",
    before_hold: str | None = None,
    decision: str | None = "eligible",
    performed: frozenset[str] = ALL_SURGERIES,
) -> CaseFacts:
    if stage == "on_hold" and before_hold is None:
        before_hold = "rehabilitation"
    return CaseFacts(
        stage=stage,
        staging_plan=plan,
        stage_before_hold=before_hold,
        latest_decision_outcome=decision,
        performed_surgery_kinds=performed,
    )


def refusal(case: CaseFacts, to: str, roles: frozenset[str] = ALL_ROLES) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as caught:
        check_transition(case, to, roles)
    return caught.value


def test_the_stages_are_the_clinics_fifteen_in_pathway_order():
    assert list(Stage.values) == STAGES


def test_the_choices_carry_the_clinics_words():
    assert list(StagingPlan.values) == ["single_stage", "two_stage"]
    assert list(SurgeryKind.values) == [
        "stage1",
        "stage2",
        "single_stage",
        "debridement",
        "soft_tissue_revision",
        "abutment_exchange",
        "revision",
        "removal",
    ]
    assert set(Role.values) == ALL_ROLES
    assert Role.REHAB_PHYSICIAN.label == "Rehabilitation physician"


@pytest.mark.parametrize("stage", STAGES)
def test_it_calls_only_the_four_closed_stages_closed(stage):
    closed = {"discharged", "declined", "withdrawn", "explanted"}
    assert is_open(stage) is (stage not in closed)
    assert (stage in CLOSED_STAGES) is (stage in closed)


def test_it_calls_an_unknown_stage_not_open():
    assert is_open("limbo") is False


@pytest.mark.parametrize(("origin", "to"), list(EXPECTED))
def test_every_move_between_two_stages_is_allowed_or_refused_as_the_table_says(origin, to):
    expected = EXPECTED[origin, to]
    case = facts(origin)
    moves_here = [stage for stage in STAGES if EXPECTED[origin, stage] != "--"]
    if expected == "ok":
        check_transition(case, to, ALL_ROLES)
        return
    refused = refusal(case, to)
    assert refused.allowed == moves_here
    if expected == "G":
        assert refused.kind == RefusalKind.GUARD
        assert refused.message.startswith(f"Moving to {to} needs ")
    else:
        assert refused.kind == "not_allowed"
        assert refused.message == _not_allowed_message(origin, to)


def _not_allowed_message(origin: str, to: str) -> str:
    if origin in {"discharged", "declined", "withdrawn", "explanted"}:
        return f"A case in {origin} is closed; it cannot move to {to}."
    if origin == "on_hold" and to in OPEN and to != "on_hold":
        return f"A case on hold returns only to the stage it left (rehabilitation), not to {to}."
    return f"A case cannot move from {origin} to {to}."


@pytest.mark.parametrize("origin", STAGES)
def test_it_lists_the_moves_from_a_stage_in_pathway_order(origin):
    expected = [to for to in STAGES if EXPECTED[origin, to] != "--"]
    assert allowed_next_stages(facts(origin)) == expected


def test_it_never_moves_a_case_to_the_stage_it_is_in():
    for stage in STAGES:
        assert refusal(facts(stage), stage).kind == "not_allowed"


@pytest.mark.parametrize("stage", ["declined", "withdrawn", "discharged"])
def test_it_says_a_closed_case_is_closed(stage):
    refused = refusal(facts(stage), "assessment")
    assert refused.message == f"A case in {stage} is closed; it cannot move to assessment."
    assert refused.allowed == []


def test_it_refuses_a_name_that_is_not_a_stage():
    refused = refusal(facts("referred"), "surgery")
    assert refused.kind == "unknown_stage"
    assert refused.message == "'surgery' is not a stage."
    assert refused.allowed == ["screening", "on_hold", "declined", "withdrawn", "explanted"]


def test_it_checks_the_stage_name_before_the_role():
    assert refusal(facts("referred"), "nowhere", frozenset()).kind == "unknown_stage"


def test_it_rejects_facts_whose_current_stage_is_unknown():
    with pytest.raises(ValueError, match="limbo"):
        allowed_next_stages(facts("limbo"))


# Guards.


@pytest.mark.parametrize(
    ("decision", "latest"),
    [
        (None, "no MDT decision is recorded"),
        ("not_eligible", "the latest is 'not_eligible'"),
        ("more_information", "the latest is 'more_information'"),
    ],
)
def test_it_refuses_awaiting_surgery_without_an_eligible_decision(decision, latest):
    refused = refusal(facts("mdt_review", decision=decision), "awaiting_surgery")
    assert refused.kind == "guard"
    assert refused.message == (
        f"Moving to awaiting_surgery needs an MDT decision 'eligible'; {latest}."
    )


def test_it_moves_to_awaiting_surgery_on_an_eligible_decision():
    check_transition(facts("mdt_review", decision="eligible"), "awaiting_surgery", ALL_ROLES)


def test_it_sends_a_case_back_to_assessment_whatever_the_decision():
    check_transition(facts("mdt_review", decision="more_information"), "assessment", ALL_ROLES)


def test_it_books_stage1_surgery_from_awaiting_surgery_without_further_evidence():
    case = facts("awaiting_surgery", decision=None, performed=frozenset())
    check_transition(case, "stage1_surgery", ALL_ROLES)


def test_it_refuses_interstage_on_a_single_stage_plan():
    refused = refusal(facts("stage1_surgery", plan="single_stage"), "interstage")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to interstage needs a two_stage plan; this case's plan is 'single_stage'."
    )


def test_it_refuses_interstage_until_the_stage1_surgery_is_performed():
    performed = frozenset({"single_stage", "debridement"})
    refused = refusal(facts("stage1_surgery", performed=performed), "interstage")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to interstage needs a performed stage1 surgery; none is recorded."
    )


def test_it_names_every_missing_precondition_at_once():
    case = facts("stage1_surgery", plan="", performed=frozenset())
    refused = refusal(case, "interstage")
    assert refused.message == (
        "Moving to interstage needs a two_stage plan; this case's plan is not chosen yet. "
        "Moving to interstage needs a performed stage1 surgery; none is recorded."
    )


def test_it_moves_to_interstage_after_a_performed_stage1_surgery():
    case = facts("stage1_surgery", performed=frozenset({"stage1"}))
    check_transition(case, "interstage", frozenset({"surgeon"}))


def test_it_refuses_rehabilitation_straight_after_stage1_on_a_two_stage_plan():
    refused = refusal(facts("stage1_surgery", plan="two_stage"), "rehabilitation")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to rehabilitation needs a single_stage plan; this case's plan is 'two_stage'."
    )


def test_it_refuses_rehabilitation_until_the_single_stage_surgery_is_performed():
    case = facts("stage1_surgery", plan="single_stage", performed=frozenset({"stage1"}))
    refused = refusal(case, "rehabilitation")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to rehabilitation needs a performed single_stage surgery; none is recorded."
    )


def test_it_moves_a_single_stage_case_to_rehabilitation_after_its_surgery():
    case = facts("stage1_surgery", plan="single_stage", performed=frozenset({"single_stage"}))
    check_transition(case, "rehabilitation", frozenset({"surgeon"}))
    assert allowed_next_stages(case)[:2] == ["interstage", "rehabilitation"]


def test_it_refuses_stage2_surgery_on_a_single_stage_plan():
    refused = refusal(facts("interstage", plan="single_stage"), "stage2_surgery")
    assert refused.kind == "guard"
    assert "needs a two_stage plan" in refused.message


def test_it_refuses_rehabilitation_until_the_stage2_surgery_is_performed():
    case = facts("stage2_surgery", performed=frozenset({"stage1"}))
    refused = refusal(case, "rehabilitation")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to rehabilitation needs a performed stage2 surgery; none is recorded."
    )


@pytest.mark.parametrize("origin", OPEN)
def test_it_refuses_explanted_without_a_performed_removal(origin):
    without_removal = ALL_SURGERIES - {"removal"}
    refused = refusal(facts(origin, performed=without_removal), "explanted")
    assert refused.kind == "guard"
    assert refused.message == (
        "Moving to explanted needs a performed removal surgery; none is recorded."
    )


@pytest.mark.parametrize("origin", OPEN)
def test_it_needs_no_evidence_to_hold_decline_or_withdraw(origin):
    bare = facts(origin, plan="", decision=None, performed=frozenset())
    for exit_ in ["declined", "withdrawn"] + (["on_hold"] if origin != "on_hold" else []):
        check_transition(bare, exit_, frozenset({"coordinator"}))


def test_it_lets_an_explanted_case_re_enter_assessment():
    check_transition(facts("explanted", decision="not_eligible"), "assessment", ALL_ROLES)


# On hold.

RESUMABLE = [stage for stage in OPEN if stage != "on_hold"]


@pytest.mark.parametrize("before", RESUMABLE)
@pytest.mark.parametrize("to", STAGES)
def test_a_case_on_hold_returns_only_to_the_stage_it_left(before, to):
    case = facts("on_hold", before_hold=before, performed=frozenset({"removal"}), decision=None)
    if to in {before, "declined", "withdrawn", "explanted"}:
        check_transition(case, to, ALL_ROLES)
        return
    refused = refusal(case, to)
    assert refused.kind == "not_allowed"
    assert refused.allowed == [before, "declined", "withdrawn", "explanted"]
    if to in RESUMABLE:
        assert refused.message == (
            f"A case on hold returns only to the stage it left ({before}), not to {to}."
        )


def test_a_case_on_hold_without_a_recorded_stage_can_only_take_a_side_exit():
    case = CaseFacts(stage="on_hold", staging_plan="two_stage", stage_before_hold=None)
    assert allowed_next_stages(case) == ["declined", "withdrawn", "explanted"]
    refused = refusal(case, "assessment")
    assert refused.message == (
        "A case on hold returns only to the stage it left (not recorded), not to assessment."
    )


def test_a_case_on_hold_ignores_a_stage_before_hold_that_is_closed():
    case = facts("on_hold", before_hold="discharged")
    assert allowed_next_stages(case) == ["declined", "withdrawn", "explanted"]


# Roles.

ROLE_EDGES = sorted(ROLE_RULES)


def test_the_role_table_covers_every_move_in_the_grid():
    grid_moves = {pair for pair, cell in EXPECTED.items() if cell != "--"}
    assert set(ROLE_RULES) == grid_moves


def _evidence_for(origin: str, to: str) -> CaseFacts:
    plan = "single_stage" if (origin, to) == ("stage1_surgery", "rehabilitation") else "two_stage"
    return facts(origin, plan=plan)


@pytest.mark.parametrize(("origin", "to"), ROLE_EDGES)
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_each_move_is_made_only_by_the_roles_the_table_names(origin, to, role):
    case = _evidence_for(origin, to)
    if role in ROLE_RULES[origin, to]:
        check_transition(case, to, frozenset({role}))
        return
    refused = refusal(case, to, frozenset({role}))
    assert refused.kind == "role"
    assert refused.message.startswith("Only a ")
    assert refused.message.endswith(f" may move a case from {origin} to {to}.")
    for allowed_role in ROLE_RULES[origin, to]:
        assert Role(allowed_role).label.lower() in refused.message


@pytest.mark.parametrize(("origin", "to"), ROLE_EDGES)
def test_roles_allowed_reports_the_table(origin, to):
    before = "rehabilitation" if origin == "on_hold" else None
    assert set(roles_allowed(origin, to, before)) == ROLE_RULES[origin, to]


def test_roles_allowed_is_empty_for_a_move_that_does_not_exist():
    assert roles_allowed("referred", "discharged") == []
    assert roles_allowed("referred", "nowhere") == []


def test_it_names_the_roles_that_may_move_to_follow_up():
    refused = refusal(facts("rehabilitation"), "follow_up", frozenset({"nurse"}))
    assert refused.message == (
        "Only a surgeon, physiotherapist or rehabilitation physician may move a case "
        "from rehabilitation to follow_up."
    )


def test_it_names_a_single_role_without_a_list():
    refused = refusal(facts("referred"), "screening", frozenset({"surgeon"}))
    assert refused.message == "Only a coordinator may move a case from referred to screening."


def test_it_refuses_someone_with_no_role_at_all():
    assert refusal(facts("referred"), "screening", frozenset()).kind == "role"


def test_a_person_with_several_roles_may_use_any_of_them():
    check_transition(facts("referred"), "screening", frozenset({"nurse", "coordinator"}))


def test_it_checks_the_role_before_the_guard_so_a_stranger_learns_nothing_of_the_evidence():
    case = facts("mdt_review", decision="not_eligible")
    refused = refusal(case, "awaiting_surgery", frozenset({"nurse"}))
    assert refused.kind == "role"
    assert "decision" not in refused.message


def test_it_checks_the_move_exists_before_the_role():
    assert refusal(facts("referred"), "discharged", frozenset()).kind == "not_allowed"


# Next steps for the UI.


def test_next_steps_show_each_move_with_the_reason_it_is_not_open_yet():
    case = facts("mdt_review", decision="more_information")
    assert next_steps(case, frozenset({"coordinator"})) == [
        NextStep("assessment", True),
        NextStep(
            "awaiting_surgery",
            False,
            "Moving to awaiting_surgery needs an MDT decision 'eligible'; "
            "the latest is 'more_information'.",
            RefusalKind.GUARD,
        ),
        NextStep("on_hold", True),
        NextStep("declined", True),
        NextStep("withdrawn", True),
        NextStep(
            "explanted",
            False,
            "Only a surgeon may move a case from mdt_review to explanted.",
            RefusalKind.ROLE,
        ),
    ]


@pytest.mark.parametrize("origin", STAGES)
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_next_steps_agree_with_check_transition(origin, role):
    case = facts(origin, decision="more_information", performed=frozenset({"stage1"}))
    roles = frozenset({role})
    steps = next_steps(case, roles)
    assert [step.to for step in steps] == allowed_next_stages(case)
    for step in steps:
        if step.permitted:
            check_transition(case, step.to, roles)
        else:
            refused = refusal(case, step.to, roles)
            assert (refused.kind, refused.message) == (step.refusal_kind, step.refusal)


def test_a_closed_case_has_no_next_steps_except_re_entry_after_explantation():
    assert next_steps(facts("discharged"), ALL_ROLES) == []
    assert next_steps(facts("explanted"), frozenset({"coordinator"})) == [
        NextStep("assessment", True)
    ]


def test_a_refusal_is_an_exception_carrying_its_kind_message_and_allowed_moves():
    refused = TransitionRefused(RefusalKind.GUARD, "why", ["screening"])
    assert str(refused) == "why"
    assert (refused.kind, refused.message, refused.allowed) == ("guard", "why", ["screening"])
    assert isinstance(SurgeryKind.REMOVAL, str)


def _outcome(facts: CaseFacts, to: str) -> tuple[str, str] | None:
    try:
        check_transition(facts, to, frozenset(Role.values))
    except TransitionRefused as refused:
        return str(refused.kind), refused.message
    return None


@pytest.mark.parametrize("stage", STAGES)
def test_a_move_said_to_need_no_evidence_decides_the_same_whatever_the_evidence(
    stage: str,
) -> None:
    # A stage move reads decisions and surgeries only when needs_evidence says so: for every
    # other move, every possible evidence must give the same answer as none.
    from itertools import combinations

    from cases.pathway import DecisionOutcome, needs_evidence

    kinds = list(SurgeryKind.values)
    evidence = [
        (outcome, frozenset(chosen))
        for outcome in [None, *DecisionOutcome.values]
        for chosen in [(), *combinations(kinds, 1), tuple(kinds)]
    ]
    befores = [None, *STAGES] if stage == "on_hold" else [None]
    for plan in [*StagingPlan.values, ""]:
        for before in befores:
            bare = CaseFacts(stage=stage, staging_plan=plan, stage_before_hold=before)
            for to in [*STAGES, "nowhere"]:
                answers = {
                    _outcome(
                        CaseFacts(stage, plan, before, outcome, performed),
                        to,
                    )
                    for outcome, performed in evidence
                }
                if not needs_evidence(bare, to):
                    assert answers == {_outcome(bare, to)}, (stage, plan, before, to)
                else:
                    assert len(answers) > 1, (stage, plan, before, to)  # it does matter
