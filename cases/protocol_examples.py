"""The three example rehabilitation protocols from DOMAIN.md, shared by every team and labelled
as examples: the team reviews the numbers before using them. Installed by the data migration
cases/0006 and again by seed_demo (idempotent)."""

from typing import Any

REVIEW = "Example from published protocols (DOMAIN.md): the team must review every number."

# (code, name, description, start delay days, phases)
# phase: (name, days, start % body weight, end %, sessions/day, walking aid, instructions)
EXAMPLES = [
    (
        "standard-6-week-fwb",
        "Standard: full weight bearing in 6 weeks",
        "Radboudumc-style. Day 0 is the stoma-making surgery. " + REVIEW,
        0,
        [
            ("Post-operative rest", 3, 0, 0, 0, "wheelchair", "Stoma care teaching."),
            (
                "Static axial loading",
                8,
                10,
                50,
                3,
                "static_only",
                "3 x 30 min/day on a scale; raise only while pain NRS < 5.",
            ),
            (
                "Walking at half load",
                24,
                50,
                50,
                3,
                "parallel_bars",
                "Walking in parallel bars, then with two crutches, at 50% body weight.",
            ),
            (
                "To full weight bearing",
                7,
                50,
                100,
                3,
                "two_crutches",
                "Full weight bearing with aids; wean aids while pain NRS < 5.",
            ),
        ],
    ),
    (
        "slow-12-week",
        "Slow: 12 weeks, for short residual bone or poor bone quality",
        "At most 50% body weight for the first 6 weeks, then progression. " + REVIEW,
        0,
        [
            ("Post-operative rest", 3, 0, 0, 0, "wheelchair", "Stoma care teaching."),
            ("Static axial loading", 8, 10, 50, 3, "static_only", "Raise only while NRS < 5."),
            ("Half load", 31, 50, 50, 3, "parallel_bars", "Bars, then two crutches, at 50%."),
            ("To full weight bearing", 42, 50, 100, 3, "two_crutches", "Wean aids while NRS < 5."),
        ],
    ),
    (
        "two-stage-training-prosthesis",
        "Two-stage (OPRA-style): training prosthesis after stage 2",
        "Day 0 is about 3 weeks after stage 2. Static load raised step by step with a short "
        "training prosthesis, then about 6 months of training before the definitive "
        "prosthesis. " + REVIEW,
        21,
        [
            (
                "Static loading with the short training prosthesis",
                42,
                25,
                100,
                2,
                "static_only",
                "Twice daily, raised about 10 kg a week while pain NRS < 5.",
            ),
            (
                "Walking with the training prosthesis",
                42,
                100,
                100,
                2,
                "two_crutches",
                "Two crutches; the prosthetist fits and aligns the training prosthesis.",
            ),
            (
                "Training towards the definitive prosthesis",
                180,
                100,
                100,
                1,
                "one_crutch",
                "Wean to one crutch, then none; definitive prosthesis fitted at the end.",
            ),
        ],
    ),
]


def install(RehabProtocol: Any, RehabPhase: Any) -> None:
    """Create the examples that are missing (models passed in, so a migration can use it)."""
    for code, name, description, delay, phases in EXAMPLES:
        protocol, created = RehabProtocol.objects.get_or_create(
            team=None,
            code=code,
            version=1,
            defaults={
                "name": name,
                "description": description,
                "start_delay_days": delay,
                "is_example": True,
            },
        )
        if not created:
            continue
        RehabPhase.objects.bulk_create(
            [
                RehabPhase(
                    protocol=protocol,
                    position=position,
                    name=phase_name,
                    length_days=days,
                    start_load_pct=start,
                    end_load_pct=end,
                    sessions_per_day=sessions,
                    walking_aid=aid,
                    instructions=instructions,
                )
                for position, (phase_name, days, start, end, sessions, aid, instructions) in (
                    enumerate(phases, start=1)
                )
            ]
        )
