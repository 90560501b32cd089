"""Write the report: one self-contained HTML file, plotly.js embedded once, no network reference."""

from __future__ import annotations

import html
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import plotly.io as pio
from plotly.offline import get_plotlyjs

from sim.output.results import ResultsError
from sim.report.sections import SECTIONS, Context, Section, Unavailable

REPORT = "report.html"
GENERATOR = "narvard-sim report"
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.tbl{border-collapse:collapse;margin:1em 0;font-size:.88em}.tbl td,.tbl th{padding:.25em .6em;
border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}.tbl th{background:#f4f4f4}
.missing{color:#555;background:#f7f7f7;border-left:4px solid #999;padding:.5em 1em}
.caption{font-style:italic}dt{font-weight:600;margin-top:.6em}footer{margin-top:3em;font-size:.85em;color:#444;
border-top:1px solid #ccc;padding-top:1em}nav a{margin-right:1em}
"""


def build_sections(ctx: Context) -> list[tuple[str, str, Section | None, str]]:
    """Run every builder: ``(key, title, section or None, what is missing)``."""
    out = []
    for key, title, builder in SECTIONS:
        try:
            out.append((key, title, builder(ctx), ""))
        except Unavailable as exc:
            out.append((key, title, None, str(exc)))
    return out


def render(ctx: Context) -> str:
    """Render the whole report as one HTML string."""
    built = build_sections(ctx)
    m = ctx.manifest
    nav = "".join(f"<a href='#{k}'>{html.escape(t)}</a>" for k, t, _s, _w in built)
    parts = []
    for key, title, section, missing in built:
        if section is None:
            parts.append(f"<section id='{key}'><h2>{html.escape(title)}</h2>"
                         f"<p class='missing'>not available yet: {html.escape(missing)}</p></section>")
        else:
            parts.append(f"<section id='{key}'><h2>{html.escape(section.title)}</h2>{section.body}</section>")
    body = "\n".join(parts)
    for i, fig in enumerate(ctx.figures):
        div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"fig{i}",
                          config={"displaylogo": False, "responsive": True, "topojsonURL": ""})
        body = body.replace(f"<!--figure:{i}-->", div, 1)
    scenario = m["scenario"].get("meta", {}).get("name", "")
    footer = (f"<footer>Reproducibility: scenario <code>{html.escape(str(scenario))}</code> "
              f"(file <code>{html.escape(str(m.get('scenario_file', '')))}</code>, SHA-256 of the resolved "
              f"parameters <code>{html.escape(str(m.get('scenario_sha256', '')))}</code>), seed "
              f"<code>{m['seed']}</code>, {m['replications']} replications, narvard-sim "
              f"<code>{html.escape(str(m.get('version', '')))}</code>, command "
              f"<code>{html.escape(str(m.get('command', '')))}</code>. Re-run and byte-compare with "
              f"<code>narvard reproduce {html.escape(str(ctx.folder))}</code>. Report written "
              f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</footer>")
    title = f"narvard-sim: {scenario}, insatsstyrning and individstyrning"
    # plotly.js once, inline (what include_plotlyjs=True embeds), before any figure.
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='generator' "
            f"content='{GENERATOR}'><title>{html.escape(title)}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(title)}</h1><nav>{nav}</nav>{body}{footer}</body></html>")


def write_report(folder: Path | str, calibration: Path | None = None, scenario_file: Path | None = None) -> Path:
    """Write ``folder/report.html`` atomically; refuse to replace a file this command did not write."""
    folder = Path(folder)
    ctx = Context(folder, calibration, scenario_file)
    ctx.manifest  # noqa: B018  (a clear error before any work if this is no results folder)
    target = folder / REPORT
    if target.exists():
        head = target.read_bytes()[:400].decode("utf-8", "replace")
        if GENERATOR not in head:
            raise ResultsError(f"{target}: exists and was not written by `narvard report`; move it away first")
    text = render(ctx)
    fd, tmp = tempfile.mkstemp(prefix=".report.", suffix=".html.partial", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
