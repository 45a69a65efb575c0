"""The oversight page's body from the area overview: figures, charts and tables as HTML.

Accessible by construction (WCAG 2.2 AA): one `h2` per section under the page's `h1`;
every chart is an SVG with `role="img"`, a title and a description, and beside it a
table of the same numbers (a caption, header cells with their scope), which is the text
alternative and what a screen reader user or a keyboard user reads; colours keep a
contrast of at least 4.5:1 for text and 3:1 for bars against the white page; nothing is
conveyed by colour alone. No script, and no style attribute (the page's policy allows
only its own stylesheet): the SVG uses presentation attributes. Every value is escaped.
Each figure carries `data-figure` (and each table cell `data-value`) so a test, or a
person's own tooling, can read the numbers the page shows.
"""

from __future__ import annotations

from html import escape
from typing import Any

BAR = "#1d70b8"  # 5.2:1 on white
TEXT = "#0b0c0c"
LABELS = {
    "children_in_ap": "Children in AP today",
    "active_placements": "Active placements",
    "not_started": "Requested or offered, not started",
    "unregistered": "At unregistered providers",
    "out_of_area": "Out of area",
    "past_planned_end": "Past their planned end",
    "review_overdue": "Review overdue",
    "part_time": "Below full time",
    "open_flags": "Open out-of-education flags",
    "without_education": "Children without education",
    "under_50": "Under 50%",
    "50_to_79": "50% to 79%",
    "80_to_89": "80% to 89%",
    "90_and_over": "90% and over",
    "no_marks": "No marks returned",
    "1_to_5": "1 to 5 school days",
    "6_to_10": "6 to 10 school days",
    "11_to_20": "11 to 20 school days",
    "over_20": "Over 20 school days",
    "sixth_day_breach": "No full-time education from the sixth day",
    "missing_education": "Missing education",
    "waiting_for_place": "Waiting for a place",
    "part_time_review_overdue": "Part-time timetable past its review",
    "attendance_below_50": "Attendance under 50%",
    "attendance_below_90": "Attendance under 90%",
    "review_overdue_action": "Placement review overdue",
    "past_planned_end_action": "Placement past its planned end",
}


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def action_label(kind: str) -> str:
    return LABELS.get(f"{kind}_action") or label(kind)


def headline(figures: dict[str, int]) -> str:
    items = "".join(
        f'<div class="figure"><dt>{escape(label(k))}</dt>'
        f'<dd data-figure="{escape(k)}">{int(v)}</dd></div>'
        for k, v in figures.items()
    )
    return f'<dl class="figures">{items}</dl>'


def bar_chart(key: str, title: str, bars: list[tuple[str, int]]) -> str:
    """A horizontal bar chart of `bars` (label, value) with its table beside it."""
    width, row, left = 560, 28, 220
    top = max((v for _, v in bars), default=0) or 1
    height = row * len(bars) + 8
    shapes = []
    for i, (name, value) in enumerate(bars):
        y = 4 + i * row
        length = round((width - left - 60) * value / top)
        shapes.append(
            f'<text x="{left - 8}" y="{y + 18}" text-anchor="end" fill="{TEXT}" '
            f'font-size="14">{escape(name)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{length}" height="{row - 10}" fill="{BAR}"/>'
            f'<text x="{left + length + 6}" y="{y + 18}" fill="{TEXT}" font-size="14">'
            f"{int(value)}</text>"
        )
    summary = "; ".join(f"{name}: {int(value)}" for name, value in bars)
    chart = (
        f'<svg role="img" aria-labelledby="{key}-title {key}-desc" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(summary)}</desc>{"".join(shapes)}</svg>'
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        f'<td data-value="{key}:{escape(name)}">{int(value)}</td></tr>'
        for name, value in bars
    )
    table = (
        f'<table id="{key}-table"><caption>{escape(title)}</caption>'
        f'<thead><tr><th scope="col">Group</th><th scope="col">Count</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return f'<figure class="chart">{chart}<figcaption>{table}</figcaption></figure>'


def by_month_table(summary: dict[str, Any]) -> str:
    reasons = summary["reasons"]
    head = "".join(f'<th scope="col">{escape(label(r))}</th>' for r in reasons)
    rows = []
    for month in summary["children_by_month"]:
        cells = "".join(f"<td>{int(month['by_reason'].get(r, 0))}</td>" for r in reasons)
        rows.append(
            f'<tr><th scope="row">{escape(month["month"])}</th>{cells}'
            f'<td data-value="month:{escape(month["month"])}">{int(month["children"])}</td></tr>'
        )
    return (
        '<table id="by-month-reason"><caption>Children in AP by month and reason</caption>'
        f'<thead><tr><th scope="col">Month</th>{head}<th scope="col">All children</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def actions_table(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p>No child needs action today.</p>"
    rows = []
    for item in items:
        child_id = escape(str(item["child_id"]))
        name = escape(item.get("child_name") or "Child " + child_id[:8])
        days = item.get("school_days")
        rows.append(
            f'<tr data-child="{child_id}"><th scope="row">'
            f'<a href="/oversight/children/{child_id}">{name}</a></th>'
            f"<td>{escape(action_label(item['kind']))}</td>"
            f"<td>{escape(str(item['since']))}</td>"
            f"<td>{'' if days is None else int(days)}</td></tr>"
        )
    return (
        '<table id="needing-action"><caption>Children needing action, most urgent first'
        '</caption><thead><tr><th scope="col">Child</th><th scope="col">Why</th>'
        '<th scope="col">Since</th><th scope="col">School days without education</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def overview_body(summary: dict[str, Any]) -> str:
    """The sections of the oversight page, after its `h1`."""
    figures = summary["headline"]
    months = [(m["month"], m["children"]) for m in summary["children_by_month"]]
    reasons: dict[str, int] = {}
    if summary["children_by_month"]:
        reasons = summary["children_by_month"][-1]["by_reason"]
    use = [
        (label("active_placements"), figures["active_placements"]),
        (label("unregistered"), figures["unregistered"]),
        (label("out_of_area"), figures["out_of_area"]),
    ]
    by_reason = [(label(r), n) for r, n in sorted(reasons.items())]
    attendance = [(label(k), v) for k, v in summary["attendance_bands"].items()]
    without = [(label(k), v) for k, v in summary["days_without_education"].items()]
    return (
        f'<p class="as-of">Figures as at {escape(summary["as_of"])}, computed at '
        f"{escape(summary['computed_at'])}, over the placements and children you may see. "
        "The same figures as JSON: <code>GET /v1/oversight/overview</code>.</p>"
        f'<section aria-labelledby="h-headline"><h2 id="h-headline">Today</h2>'
        f"{headline(figures)}</section>"
        '<section aria-labelledby="h-month"><h2 id="h-month">Children in AP by month and '
        "reason</h2>"
        f"{bar_chart('months', 'Children in AP in each of the last twelve months', months)}"
        f"{bar_chart('reasons', 'Children in AP this month by reason', by_reason)}"
        f"{by_month_table(summary)}</section>"
        '<section aria-labelledby="h-attendance"><h2 id="h-attendance">Attendance over the '
        "last six weeks</h2>"
        f"{bar_chart('attendance', 'Active placements by attendance band', attendance)}"
        "</section>"
        '<section aria-labelledby="h-use"><h2 id="h-use">Unregistered and out-of-area use'
        "</h2>"
        f"{bar_chart('use', 'Active placements, unregistered and out of area', use)}"
        "</section>"
        '<section aria-labelledby="h-without"><h2 id="h-without">Days without education'
        "</h2>"
        f"{bar_chart('without', 'Open flags without education by school days', without)}"
        "</section>"
        '<section aria-labelledby="h-action"><h2 id="h-action">Children needing action</h2>'
        f"{actions_table(summary['needing_action'])}</section>"
    )


STYLE = (
    ".figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));"
    "gap:.75rem;margin:0}.figure{border-left:4px solid #1d70b8;padding:.25rem .75rem}"
    ".figure dt{font-size:.95rem}.figure dd{margin:0;font-size:2rem;font-weight:700}"
    ".chart{margin:1rem 0}.chart svg{max-width:100%;height:auto}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}caption{text-align:left;"
    "font-weight:700;padding:.25rem 0}th,td{border-bottom:1px solid #b1b4b6;"
    "padding:.3rem .6rem;text-align:left}td{font-variant-numeric:tabular-nums}"
    "a{color:#1d70b8}a:focus{outline:3px solid #ffdd00;background:#ffdd00;color:#0b0c0c}"
)
