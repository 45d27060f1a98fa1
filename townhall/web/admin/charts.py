"""Charts for the dashboard, drawn on the server as inline SVG: no chart library, no script.
Colours come from CSS classes (so light and dark themes restyle them); every chart has a title
and a text description for screen readers, and every bar a tooltip with its numbers."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from townhall.domain.dashboard import DayCount

SERIES = (
    ("published", "Published"),
    ("held", "Waiting"),
    ("turned_down", "Rejected or spam"),
    ("removed", "Removed or deleted"),
)


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5, 10, 20, 50...)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= value:
                return step * m
        step *= 10


def _svg(width: int, height: int, title: str, desc: str, body: list[str], cls: str) -> Markup:
    head = (
        f'<svg class="chart {cls}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (built from escaped parts)


def comments_per_day(days: Sequence[DayCount]) -> Markup:
    """Stacked bars: each day's comments by where they stand now."""
    width, height, left, bottom, top = 720, 240, 40, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max((d.total for d in days), default=0))
    slot = plot_w / max(1, len(days))
    bar = max(2.0, slot * 0.7)
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 8}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<line class="grid" x1="{left}" y1="{top}" x2="{width - 8}" y2="{top}"/>',
    ]
    every = max(1, len(days) // 7)
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        parts = ", ".join(f"{getattr(day, k)} {label.lower()}" for k, label in SERIES)
        body.append(f"<g><title>{escape(f'{day.day:%a %d %b}: {day.total} ({parts})')}</title>")
        for key, _label in SERIES:
            n = getattr(day, key)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            body.append(
                f'<rect class="s-{key}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}"/>'
            )
        body.append("</g>")
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{x + bar / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{day.day:%d %b}</text>'
            )
    total = sum(d.total for d in days)
    desc = f"{total} comments over {len(days)} days; busiest day " + (
        f"{max(days, key=lambda d: d.total).day:%d %b}" if days else "none"
    )
    return _svg(width, height, "Comments per day", desc, body, "per-day")


def shares(parts: Sequence[tuple[str, str, float]]) -> Markup:
    """One 100% bar: (css key, label, share 0-1) side by side."""
    width, height = 720, 36
    body = []
    x = 0.0
    for key, label, share in parts:
        w = width * share
        if w <= 0:
            continue
        body.append(
            f'<rect class="s-{escape(key)}" x="{x:.1f}" y="0" width="{w:.1f}" height="{height}">'
            f"<title>{escape(f'{label}: {share:.0%}')}</title></rect>"
        )
        if w > 60:
            body.append(
                f'<text class="inbar" x="{x + 6:.1f}" y="{height / 2 + 5:.1f}">'
                f"{escape(f'{share:.0%}')}</text>"
            )
        x += w
    if not body:
        body.append(f'<rect class="empty" x="0" y="0" width="{width}" height="{height}"/>')
    desc = "; ".join(f"{label} {share:.0%}" for _k, label, share in parts)
    return _svg(width, height, "Where the comments stand", desc, body, "shares")


def toxicity_histogram(bins: Sequence[int]) -> Markup:
    """Comments per toxicity band (0-0.1 ... 0.9-1)."""
    width, height, left, bottom, top = 720, 200, 40, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max(bins, default=0))
    slot = plot_w / max(1, len(bins))
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 8}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, n in enumerate(bins):
        low, high = i / len(bins), (i + 1) / len(bins)
        h = plot_h * n / peak
        x = left + i * slot + slot * 0.1
        band = "low" if high <= 0.5 else "mid" if high <= 0.7 else "high"
        body.append(
            f'<rect class="t-{band}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{slot * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{escape(f'{low:.1f}–{high:.1f}: {n} comments')}</title></rect>"
        )
        body.append(
            f'<text class="tick" x="{left + i * slot + slot / 2:.1f}" y="{height - 8}" '
            f'text-anchor="middle">{low:.1f}</text>'
        )
    desc = f"{sum(bins)} scored comments; " + ", ".join(
        f"{i / len(bins):.1f}-{(i + 1) / len(bins):.1f}: {n}" for i, n in enumerate(bins)
    )
    return _svg(width, height, "Toxicity score distribution", desc, body, "histogram")


def meter(value: int, peak: int) -> Markup:
    """A small inline bar for table rows."""
    width = 120
    w = 0 if peak <= 0 else width * value / peak
    return Markup(  # noqa: S704 (numbers only)
        f'<svg class="meter" viewBox="0 0 {width} 10" aria-hidden="true" '
        f'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="{w:.1f}" height="10"/>'
        "</svg>"
    )
