"""Inline SVG charts for the auditor pages: drawn here, so the pages need no script and no network."""

from __future__ import annotations

from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def _legend(names: list[str], x: int, y: int) -> str:
    return "".join(
        f"<rect x='{x}' y='{y + 16 * i}' width='10' height='10' fill='{PALETTE[i % len(PALETTE)]}'/>"
        f"<text x='{x + 14}' y='{y + 9 + 16 * i}' font-size='11'>{escape(name)}</text>"
        for i, name in enumerate(names)
    )


def line_chart(title: str, x_labels: list[str], series: dict[str, list[float]], width: int = 760) -> str:
    """One line per series over the x labels (e.g. checks failed per suite over runs)."""
    height, left, top, plot_w, plot_h = 260, 44, 28, width - 300, 180
    peak = max([v for values in series.values() for v in values] + [1])
    step = plot_w / max(len(x_labels) - 1, 1)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{width}' height='{height}' class='chart'>",
        f"<title>{escape(title)}</title><text x='4' y='16' font-size='13' font-weight='bold'>{escape(title)}</text>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#888'/>",
        f"<line x1='{left}' y1='{top}' x2='{left}' y2='{top + plot_h}' stroke='#888'/>",
        f"<text x='{left - 6}' y='{top + 4}' font-size='10' text-anchor='end'>{peak:g}</text>",
        f"<text x='{left - 6}' y='{top + plot_h}' font-size='10' text-anchor='end'>0</text>",
    ]
    every = max(1, len(x_labels) // 6)  # at most ~6 labels: they would overlap
    for i, label in enumerate(x_labels):
        if i % every and i != len(x_labels) - 1:
            continue
        parts.append(
            f"<text x='{left + i * step:.1f}' y='{top + plot_h + 14}' font-size='9' text-anchor='middle'>"
            f"{escape(label)}</text>"
        )
    for n, (_name, values) in enumerate(series.items()):
        points = " ".join(
            f"{left + i * step:.1f},{top + plot_h - plot_h * v / peak:.1f}" for i, v in enumerate(values)
        )
        color = PALETTE[n % len(PALETTE)]
        parts.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{points}'/>")
        for point in points.split():
            x, y = point.split(",")
            parts.append(f"<circle cx='{x}' cy='{y}' r='3' fill='{color}'/>")
    parts.append(_legend(list(series), left + plot_w + 16, top))
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_chart(
    title: str, x_labels: list[str], series: dict[str, list[float]], width: int = 760
) -> str:
    """Bars per x label, stacked by series (e.g. quarantined rows per month by reason)."""
    height, left, top, plot_w, plot_h = 250, 44, 28, width - 300, 180
    totals = [sum(values[i] for values in series.values()) for i in range(len(x_labels))]
    peak = max([*totals, 1])
    slot = plot_w / max(len(x_labels), 1)
    bar = max(slot * 0.7, 2)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{width}' height='{height}' class='chart'>",
        f"<title>{escape(title)}</title><text x='4' y='16' font-size='13' font-weight='bold'>{escape(title)}</text>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{left + plot_w}' y2='{top + plot_h}' stroke='#888'/>",
        f"<text x='{left - 6}' y='{top + 4}' font-size='10' text-anchor='end'>{peak:g}</text>",
    ]
    for i, label in enumerate(x_labels):
        base = top + plot_h
        for n, values in enumerate(series.values()):
            h = plot_h * values[i] / peak
            if h > 0:
                parts.append(
                    f"<rect x='{left + i * slot + (slot - bar) / 2:.1f}' y='{base - h:.1f}' width='{bar:.1f}' "
                    f"height='{h:.1f}' fill='{PALETTE[n % len(PALETTE)]}'><title>{escape(label)}: "
                    f"{values[i]:g}</title></rect>"
                )
                base -= h
        parts.append(
            f"<text x='{left + i * slot + slot / 2:.1f}' y='{top + plot_h + 14}' font-size='9' "
            f"text-anchor='middle'>{escape(label)}</text>"
        )
    parts.append(_legend(list(series), left + plot_w + 16, top))
    parts.append("</svg>")
    return "".join(parts)


def paired_bar_chart(title: str, rows: list[tuple[str, float, float | None]], width: int = 760) -> str:
    """Horizontal bar pairs per label: the reported figure beside the registry figure, each scaled to the
    pair's larger value (figures of different metrics are not comparable with each other)."""
    row_h, left, plot_w = 26, 300, width - 420
    height = 40 + row_h * len(rows) + 30
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' width='{width}' height='{height}' class='chart'>",
        f"<title>{escape(title)}</title><text x='4' y='16' font-size='13' font-weight='bold'>{escape(title)}</text>",
    ]
    for i, (label, reported, registry) in enumerate(rows):
        y = 32 + i * row_h
        peak = max(abs(reported), abs(registry or 0), 1e-9)
        parts.append(
            f"<text x='{left - 6}' y='{y + 14}' font-size='10' text-anchor='end'>{escape(label[:48])}</text>"
        )
        for n, value in enumerate((reported, registry)):
            if value is None:
                continue
            w = plot_w * abs(value) / peak
            parts.append(
                f"<rect x='{left}' y='{y + n * 10}' width='{w:.1f}' height='9' fill='{PALETTE[n]}'>"
                f"<title>{'reported' if n == 0 else 'registry'}: {value:g}</title></rect>"
                f"<text x='{left + w + 4:.1f}' y='{y + 8 + n * 10}' font-size='9'>{value:g}</text>"
            )
    parts.append(_legend(["reported", "registry"], 4, height - 24))
    parts.append("</svg>")
    return "".join(parts)
