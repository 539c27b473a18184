"""Inline SVG charts drawn on the server (no charting library)."""

from __future__ import annotations

from datetime import datetime
from html import escape

WIDTH, HEIGHT, PAD = 640, 200, 36


def line_chart(series: list[tuple[datetime, float | None]], *, label: str) -> str:
    """A polyline of (time, value) points with min/max labels; an empty frame when there is no data."""
    points = [(t.timestamp(), float(v)) for t, v in series if v is not None]
    head = (f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" '
            'fill="#0f1722" stroke="#2a3646"/>')
    if len(points) < 2:
        return head + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" fill="#8899aa" text-anchor="middle">—</text></svg>'
    t0, t1 = points[0][0], points[-1][0]
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span_t, span_v = (t1 - t0) or 1.0, (hi - lo) or 1.0
    coords = " ".join(
        f"{PAD + (t - t0) / span_t * (WIDTH - 2 * PAD):.1f},{HEIGHT - PAD - (v - lo) / span_v * (HEIGHT - 2 * PAD):.1f}"
        for t, v in points)
    return (head + f'<polyline fill="none" stroke="#4fc3f7" stroke-width="1.5" points="{coords}"/>'
            f'<text x="4" y="{PAD - 8}" fill="#8899aa" font-size="11">{hi:g}</text>'
            f'<text x="4" y="{HEIGHT - 8}" fill="#8899aa" font-size="11">{lo:g}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" fill="#8899aa" font-size="11" text-anchor="end">'
            f'{escape(label)}</text></svg>')
