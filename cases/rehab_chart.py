"""The rehabilitation progress chart: target load line, achieved loads, pain on a second axis,
held days, flags and complications marked. Drawn server-side with matplotlib (Agg backend,
object API: no pyplot global state, safe in threaded web workers) as SVG.

Every series is an SVG group with a stable id (``target-load``, ``achieved-load``,
``pain-nrs``, ``pain-gate``, ``held-days``, ``flag-<kind>``, ``complication-<kind>``), so
that the chart can be styled, scripted and tested.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import matplotlib
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from .rehab import FlagKind
from .rehab_selectors import RehabSummary

# No display: the raster backend for anything that reaches for pyplot (we draw on a Figure).
matplotlib.use("Agg")

FLAG_COLOURS = {
    FlagKind.OVERLOAD: "#c0392b",
    FlagKind.PAIN_GATE: "#e67e22",
    FlagKind.STOMA_CONCERN: "#8e44ad",
    FlagKind.MISSED_SESSIONS: "#7f8c8d",
}
RC: Any = {
    # Text stays text (searchable, accessible); ids are stable from one render to the next.
    "svg.fonttype": "none",
    "svg.hashsalt": "osseo-mdt-rehab-chart",
    "font.size": 9,
}


def render_svg(summary: RehabSummary) -> bytes:
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(10, 4.8), layout="constrained")
        FigureCanvasSVG(figure)
        load_axis = figure.add_subplot()
        if summary.plan is None or not summary.series:
            _empty(figure, summary)
        else:
            _draw(figure, load_axis, summary)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _empty(figure: Figure, summary: RehabSummary) -> None:
    axis = figure.axes[0]
    axis.set_axis_off()
    message = (
        "No rehabilitation plan yet"
        if summary.plan is None
        else f"Rehabilitation starts on {summary.plan.start_date.isoformat()}"
    )
    axis.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, transform=axis.transAxes)
    axis.set_title(f"Rehabilitation progress: {summary.case}")


def _x(days: date | list[date]) -> Any:
    """Dates as matplotlib's day numbers."""
    return mdates.date2num(days)


def _draw(figure: Figure, load_axis: Axes, summary: RehabSummary) -> None:
    plan = summary.plan
    assert plan is not None
    series = summary.series
    days = [point.date for point in series]
    first, last = days[0], days[-1]

    (target_line,) = load_axis.plot(
        _x(days),
        [point.target_kg for point in series],
        drawstyle="steps-mid",
        color="#2c7fb8",
        linewidth=1.8,
        label="Target load (kg)",
    )
    target_line.set_gid("target-load")

    loaded = [point for point in series if point.achieved_kg is not None]
    (achieved,) = load_axis.plot(
        _x([point.date for point in loaded]),
        [float(point.achieved_kg or 0) for point in loaded],
        linestyle="none",
        marker="o",
        markersize=4.5,
        color="#238b45",
        label="Achieved load (kg)",
    )
    achieved.set_gid("achieved-load")

    held = [point.date for point in series if point.held]
    if held:
        spans = load_axis.vlines(
            _x(held), 0, 1, transform=load_axis.get_xaxis_transform(), colors="#fdd0a2", linewidth=4
        )
        spans.set_label("Held by pain gate")
        spans.set_gid("held-days")
        spans.set_zorder(0)

    pain_axis = load_axis.twinx()
    with_pain = [point for point in series if point.pain_nrs is not None]
    (pain_line,) = pain_axis.plot(
        _x([point.date for point in with_pain]),
        [int(point.pain_nrs or 0) for point in with_pain],
        color="#de2d26",
        marker=".",
        linewidth=0.9,
        alpha=0.8,
        label="Pain NRS",
    )
    pain_line.set_gid("pain-nrs")
    gate = pain_axis.axhline(
        plan.protocol.pain_gate_nrs,
        color="#de2d26",
        linestyle=":",
        linewidth=0.9,
        label=f"Pain gate (NRS {plan.protocol.pain_gate_nrs})",
    )
    gate.set_gid("pain-gate")
    pain_axis.set_ylim(0, 10.5)
    pain_axis.set_ylabel("Pain NRS (0-10)")

    for marker in summary.flag_markers:
        if not first <= marker.on <= last:
            continue
        colour = FLAG_COLOURS.get(FlagKind(marker.kind), "#333333")
        line = load_axis.axvline(_x(marker.on), color=colour, linewidth=1.2, alpha=0.9)
        line.set_gid(f"flag-{marker.kind}")
        load_axis.annotate(
            marker.title,
            xy=(_x(marker.on), 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color=colour,
        )
    for marker in summary.complication_markers:
        if not first <= marker.on <= last:
            continue
        line = load_axis.axvline(_x(marker.on), color="black", linestyle="--", linewidth=1.2)
        line.set_gid(f"complication-{marker.kind}")
        load_axis.annotate(
            marker.title,
            xy=(_x(marker.on), 0.02),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="bottom",
            ha="left",
            fontsize=7,
        )

    if first <= summary.today <= last:
        today = load_axis.axvline(_x(summary.today), color="#555555", linestyle="-.", linewidth=0.8)
        today.set_gid("today")

    weight = float(plan.body_weight_kg)
    top = max(
        [weight, *[point.achieved_kg or 0 for point in series], *[p.target_kg for p in series]]
    )
    load_axis.set_ylim(0, top * 1.1)
    load_axis.set_xlim(_x(first - timedelta(days=1)), _x(last + timedelta(days=1)))
    load_axis.set_ylabel("Axial load (kg)")
    load_axis.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    load_axis.grid(True, axis="y", alpha=0.3)
    cap = f", load cap {plan.load_cap_kg} kg" if plan.load_cap_kg is not None else ""
    load_axis.set_title(
        f"Rehabilitation progress: {summary.case}\n"
        f"{plan.protocol}, body weight {plan.body_weight_kg} kg{cap}",
        fontsize=9,
    )
    handles = [*load_axis.get_legend_handles_labels()[0], pain_line, gate]
    load_axis.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=len(handles),
        fontsize=7,
        frameon=False,
    )
