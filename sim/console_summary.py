"""The console summary of a results folder: every metric in its own unit, and which limits bound.

Reads only what ``summary.csv`` holds (means, 95 % intervals and units) and the resolved
scenario (capacities, measured years). Metrics are grouped by their unit as ``summary.csv``
states it, so a metric added to the summary is shown in the right group without a change here.
The table fits 80 columns: the two care systems show means, the paired difference its interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from sim.measure.report import format_value

#: Shown without ``--all``: what a planning group asks first, occupancy and avoidable admissions included.
DEFAULT_METRICS = (
    "bed_days", "admissions", "avoidable_admissions", "readmissions_30d", "ed_visits",
    "primary_care_visits", "home_health_visits", "home_help_hours", "short_term_care_days",
    "delayed_discharge_days", "deaths",
    "cost_region_sek", "cost_municipality_sek", "cost_total_sek",
    "bed_occupancy", "nurse_coverage", "deaths_at_home_share", "mobile_team_full_share",
    "mobile_team_caseload", "palliative_team_caseload", "home_physician_list", "safe_discharge_caseload",
    "mobile_team_referrals", "mobile_team_enrolments", "mobile_team_unserved", "mobile_team_wait_mean",
    "mobile_team_wait_p90", "home_physician_unserved", "home_physician_wait_mean", "home_physician_wait_p90",
)
WIDTH = 80
#: Utilisation from which a limit counts as reached (a full queue or list), and as near.
BOUND, NEAR = 0.95, 0.85


@dataclass(frozen=True)
class Group_:
    """A block of the table: metrics that share a unit."""

    title: str
    kind: str  #: "rate", "sek", "msek", "percent", "count"


RATE = Group_("Use of care, per 1,000 persons 65+ per year", "rate")
SEK = Group_("Costs, SEK per person 65+ per year", "sek")
MSEK = Group_("Costs for the area, MSEK per year", "msek")
PERCENT = Group_("Shares, %", "percent")
AT_ONCE = Group_("Service concepts, persons at once (mean)", "count")
STAFFED = Group_("Staffed services: capacity, referrals, waits, unmet need", "count")
COUNT = Group_("Population of the measured period, persons", "count")
OTHER = Group_("Other", "count")
ORDER = (RATE, SEK, MSEK, PERCENT, AT_ONCE, STAFFED, COUNT, OTHER)


def group_of(unit: str) -> Group_:
    """Return the display group of a metric from its unit in ``summary.csv``."""
    u = str(unit)
    if u.startswith("per 1,000"):
        return RATE
    if u.startswith("SEK per person"):
        return SEK
    if u.startswith("share") or " / " in u:
        return PERCENT
    if u.startswith("mean persons"):
        return AT_ONCE
    if u.endswith("in the area") or u.startswith(("days waited", "persons it")):
        return STAFFED
    if u in ("persons", "person-years"):
        return COUNT
    return OTHER


class UnknownMetricError(ValueError):
    """``--metrics`` named a metric the summary does not have."""


def _mean(summary: pd.DataFrame, paradigm: str, metric: str) -> float | None:
    r = summary[(summary["paradigm"] == paradigm) & (summary["metric"] == metric)]
    return None if r.empty else float(r["mean"].iloc[0])


def mean_persons(summary: pd.DataFrame, scenario: dict) -> float | None:
    """Mean persons 65+ alive in the area during the measured period (person-years / years)."""
    years = float(scenario["simulation"]["years"])
    for p in dict.fromkeys(summary["paradigm"]):
        py = _mean(summary, p, "person_years")
        if py is not None and p != "difference":
            return py / years
    return None


def _cell(x: float, kind: str, diff: bool) -> str:
    if x != x:
        return ""
    if kind == "percent":
        x = 100 * x + 0.0  # no "-0.0"
        return f"{x:+.1f}" if diff else f"{x:.1f} %"
    s = format_value(x, relative=False)
    return f"+{s}" if diff and x > 0 else s


def _ci(lo: float, hi: float, kind: str) -> str:
    if lo != lo:
        return ""
    if kind == "percent":
        return f" [{100 * lo + 0.0:+.1f}, {100 * hi + 0.0:+.1f}]"
    return f" [{format_value(lo, relative=False)}, {format_value(hi, relative=False)}]"


def select(summary: pd.DataFrame, show_all: bool = False, metrics: list[str] | None = None) -> list[str]:
    """Return the metrics to show, in the summary's order: ``metrics`` if given, all, or the default view."""
    have = list(dict.fromkeys(summary["metric"]))
    if metrics:
        unknown = [m for m in metrics if m not in have]
        if unknown:
            raise UnknownMetricError(f"--metrics: no such metric: {', '.join(unknown)} (one of: {', '.join(have)})")
        return [m for m in have if m in metrics]
    if show_all:
        return have
    return [m for m in have if m in DEFAULT_METRICS]


#: Column widths (characters) that keep the table within 80 columns with 1-space gaps.
METRIC_W, MEAN_W, CI_W = 25, 12, 23


def _group_table(g: Group_, header: bool, paradigms: list[str], paired: bool) -> Table:
    title = g.title + (" (difference in percentage points)" if g.kind == "percent" and paired else "")
    table = Table(title=title, box=box.SIMPLE_HEAD, show_header=header, show_edge=False, collapse_padding=True,
                  title_justify="left", title_style="bold")
    table.add_column("metric", no_wrap=True, width=METRIC_W, overflow="ellipsis")
    for p in paradigms:
        if paired:
            table.add_column(p[:MEAN_W], justify="right", no_wrap=True, width=MEAN_W)
        else:
            table.add_column(f"{p} (95 % CI)", justify="right", no_wrap=True, width=MEAN_W + CI_W)
    if paired:
        table.add_column("difference (95 % CI)", justify="right", no_wrap=True, width=CI_W)
    return table


def summary_tables(summary: pd.DataFrame, scenario: dict, shown: list[str]) -> list[Table]:
    """One table per unit: care systems side by side (means), the paired difference with its CI."""
    paradigms = [p for p in dict.fromkeys(summary["paradigm"]) if p != "difference"]
    paired = "difference" in set(summary["paradigm"])
    units = summary.drop_duplicates("metric").set_index("metric")["unit"]
    persons = mean_persons(summary, scenario)
    blocks: dict[Group_, list[tuple[str, float]]] = {g: [] for g in ORDER}
    for m in shown:
        g = group_of(units[m])
        blocks[g].append((m, 1.0))
        if g is SEK and persons is not None:
            blocks[MSEK].append((m, persons / 1e6))
    tables = []
    for g in ORDER:
        if not blocks[g]:
            continue
        table = _group_table(g, not tables, paradigms, paired)
        for m, scale in blocks[g]:
            cells = []
            for p in paradigms + (["difference"] if paired else []):
                r = summary[(summary["paradigm"] == p) & (summary["metric"] == m)]
                if r.empty:
                    cells.append("")
                    continue
                r = r.iloc[0]
                diff = p == "difference"
                text = _cell(r["mean"] * scale, g.kind, diff)
                if diff or not paired:
                    text += _ci(r["ci_low"] * scale, r["ci_high"] * scale, g.kind)
                cells.append(text)
            table.add_row(m, *cells)
        tables.append(table)
    return tables


@dataclass(frozen=True)
class Limit:
    """One capacity limit: the share of it in use per care system, and whether it bound."""

    name: str
    capacity: str
    use: dict[str, float]  #: care system -> share of the capacity in use (mean)
    bound: dict[str, bool]
    notes: tuple[str, ...] = ()
    text: tuple[tuple[str, str], ...] = ()  #: care system -> cell text where a share does not apply

    def cell(self, paradigm: str) -> str:
        """``68 %``, ``91 % near`` or ``100 % BOUND``."""
        if paradigm in dict(self.text):
            return dict(self.text)[paradigm]
        if paradigm not in self.use:
            return ""
        u = self.use[paradigm]
        flag = "BOUND" if self.bound[paradigm] else ("near" if u >= NEAR else "")
        return f"{100 * u:.0f} % {flag}".strip()


def limits(summary: pd.DataFrame, scenario: dict) -> list[Limit]:
    """Which capacity limits bound, from occupancy, caseloads, refusals and coverage in the summary.

    A limit is BOUND where its mean use is at least 95 % of it, where eligible persons were refused
    (the mobile team's full share), or where nurse time did not cover the demand.
    """
    paradigms = [p for p in dict.fromkeys(summary["paradigm"]) if p != "difference"]
    cap, concepts = scenario["capacity"], scenario["concepts"]
    years = float(scenario["simulation"]["years"])
    out: list[Limit] = []

    def add(name: str, capacity: str, use: dict[str, float], bound=None, notes=(), text=None) -> None:
        if use or text:
            bound = bound or {p: u >= BOUND for p, u in use.items()}
            out.append(Limit(name, capacity, use, bound, tuple(notes), tuple((text or {}).items())))

    add("beds", f"{cap['beds']:,}", {p: v for p in paradigms if (v := _mean(summary, p, "bed_occupancy")) is not None})
    stc = {}
    for p in paradigms:
        rate, py = _mean(summary, p, "short_term_care_days"), _mean(summary, p, "person_years")
        if rate is not None and py:
            # days per 1,000 person-years -> mean places in use (stays counted at their start: approximate)
            stc[p] = rate / 1000 * py / (years * 365.25) / cap["short_term_places"]
    waits = ", ".join(f"{p} {format_value(d, relative=False)}" for p in paradigms
                      if (d := _mean(summary, p, "delayed_discharge_days")))
    add("short-term places", f"{cap['short_term_places']:,}", stc,
        notes=["short-term places: use ≈ stay days / (places × days), stays counted at their start"]
        + ([f"delayed-discharge days per 1,000 per year (waits for a place or home help): {waits}"] if waits else []))
    cov = {p: v for p in paradigms if (v := _mean(summary, p, "nurse_coverage")) is not None}
    short = {p: 1 / v for p, v in cov.items() if 0 < v < 1 - 1e-9}
    add("nurse time (demand)", f"{cap['home_health_nurses_fte']:g} FTE", short, {p: True for p in short},
        ["nurse time: demanded / available hours, where the demand was not covered"] if short else [],
        {p: "covered" for p in cov if p not in short})
    hassle = {p: v for p in paradigms if (v := _mean(summary, p, "nurse_hassle_share")) is not None}
    if "intervention" in hassle and "person" in hassle and hassle["person"] < hassle["intervention"]:
        fte = (hassle["intervention"] - hassle["person"]) * cap["home_health_nurses_fte"]
        note = (f"nurse time freed by team collaboration: {fte:.1f} FTE (hassle {100 * hassle['intervention']:.0f} "
                f"% -> {100 * hassle['person']:.0f} % of {cap['home_health_nurses_fte']:g} FTE), used for visits")
        visits = {p: v for p in ("intervention", "person") if (v := _mean(summary, p, "nurse_visit_fte")) is not None}
        if len(visits) == 2:
            more = visits["person"] - visits["intervention"]
            note = (f"nurse time freed by team collaboration: {fte:.1f} FTE (hassle {100 * hassle['intervention']:.0f}"
                    f" % -> {100 * hassle['person']:.0f} % of {cap['home_health_nurses_fte']:g} FTE); FTE of "
                    f"demanded visits met {visits['intervention']:.1f} -> {visits['person']:.1f} ({more:+.1f})")
            if (_mean(summary, "person", "nurse_coverage") or 0.0) >= 1.0 - 1e-9:
                note += "; the demand is covered, the rest of the freed time is spare"
        if out and out[-1].name == "nurse time (demand)":
            last = out[-1]
            out[-1] = Limit(last.name, last.capacity, last.use, last.bound, (*last.notes, note), last.text)
    teams = (("mobile team", "mobile_team", "mobile_team_caseload", "caseload_max"),
             ("palliative team", "palliative_team", "palliative_team_caseload", "caseload_max"),
             ("safe discharge", "safe_discharge", "safe_discharge_caseload", "caseload_max"),
             ("home physician list", "home_physician", "home_physician_list", "list_max"))
    for name, key, metric, field in teams:
        c = concepts.get(key, {})
        if not c.get("enabled"):
            continue
        # The capacity the run used (recorded from the staff table) where the summary has it.
        run_cap = max((v for p in paradigms if (v := _mean(summary, p, f"{key}_capacity"))), default=None)
        staff_cap = max((v for p in paradigms if (v := _mean(summary, p, f"{key}_by_staff"))), default=None)
        cap = run_cap or (c.get(field) or 0) * c.get("teams", 1)
        if not cap:
            continue
        what = ""
        if run_cap and staff_cap:
            what = " staff" if staff_cap <= run_cap else " cap"
        use = {p: v / cap for p in paradigms if (v := _mean(summary, p, metric))}
        bound = {p: u >= BOUND for p, u in use.items()}
        notes = []
        if what == " staff":
            notes.append(f"{name}: {cap:,.0f} at once, set by the staff time ({c.get('teams', 1)} team(s))")
        elif what == " cap":
            notes.append(f"{name}: {cap:,.0f} at once, set by the per-team cap {field} (the staff time allows "
                         f"{staff_cap:,.0f})")
        if key == "mobile_team":
            full = {p: f for p in use if (f := _mean(summary, p, "mobile_team_full_share"))}
            bound.update({p: True for p in full})
            notes += [f"mobile team: {100 * f:.0f} % of eligible referrals found it full ({p})"
                      for p, f in full.items()]
            for p in use:
                unserved = _mean(summary, p, "mobile_team_unserved")
                mean_wait = _mean(summary, p, "mobile_team_wait_mean")
                if unserved:
                    notes.append(f"mobile team: {unserved:,.0f} eligible persons a year not served; mean wait "
                                 f"{mean_wait or 0:.1f} days ({p})")
                hours = _mean(summary, p, "mobile_team_after_hours")
                if hours:
                    no_nurse = _mean(summary, p, "mobile_team_after_nurse") or 0.0
                    no_place = _mean(summary, p, "mobile_team_after_full") or 0.0
                    notes.append(f"mobile team's aftercare: {hours:,.0f} home health nurse hours a week; "
                                 f"{100 * no_nurse:.0f} % of plans refused for lack of nurse time, "
                                 f"{100 * no_place:.0f} % for lack of a place ({p})")
        if key == "palliative_team":
            full = {p: f for p in use if (f := _mean(summary, p, "palliative_team_refused"))}
            bound.update({p: True for p in full})
            notes += [f"palliative team: {100 * f:.0f} % of its referrals and enrolments found it full ({p})"
                      for p, f in full.items()]
        if key == "home_physician":
            for p in use:
                if (waited := _mean(summary, p, "home_physician_unserved")) and waited >= 0.5:
                    notes.append(f"home physician: {waited:,.0f} eligible persons a year waited and were not "
                                 f"listed; mean wait {_mean(summary, p, 'home_physician_wait_mean') or 0:.1f} days "
                                 f"({p})")
        if key == "home_physician" and use and all(u < NEAR for u in use.values()):
            notes.append(f"home physician: the list stays below its capacity ({cap:,.0f}); the area share "
                         f"({c.get('area_share', '?')}) and the listing criteria bound it")
        add(name, f"{cap:,.0f}{what}", use, bound, notes)
        acute = {p: v for p in paradigms if (v := _mean(summary, p, f"{key}_no_time")) is not None
                 and v > 0}
        if acute:
            add(f"{name}: acute time", "weekly", {}, {p: True for p in acute},
                [f"{name}: {100 * v:.0f} % of acute home visits refused, the week's staff time spent ({p})"
                 for p, v in acute.items()], {p: f"{100 * v:.0f} % refused BOUND" for p, v in acute.items()})
    return out


def limits_table(items: list[Limit], paradigms: list[str]) -> Table:
    """Tabulate the limits: share of each capacity in use per care system, BOUND where it bound."""
    table = Table(title="Limits: share of each capacity in use (BOUND: reached, near: ≥ 85 %)",
                  box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, title_justify="left", title_style="bold")
    table.add_column("limit", no_wrap=True, width=METRIC_W)
    table.add_column("capacity", no_wrap=True, justify="right", width=MEAN_W)
    for p in paradigms:
        table.add_column(p, no_wrap=True, justify="right", width=MEAN_W + 2)
    for item in items:
        table.add_row(item.name, item.capacity, *(item.cell(p) for p in paradigms))
    return table


def render(summary: pd.DataFrame, scenario: dict, title: str, show_all: bool = False,
           metrics: list[str] | None = None) -> Group:
    """Build the whole console summary: metrics tables, limits table and notes."""
    shown = select(summary, show_all, metrics)
    parts: list = [Text(title, style="bold"), *summary_tables(summary, scenario, shown)]
    persons = mean_persons(summary, scenario)
    if persons is not None and any(group_of(u) is SEK for u in summary[summary["metric"].isin(shown)]["unit"]):
        parts.append(Text(f"Area MSEK per year = SEK per person × {persons:,.0f} persons 65+ (mean of the "
                          "measured period).", style="dim"))
    if metrics is None:
        items = limits(summary, scenario)
        paradigms = [p for p in dict.fromkeys(summary["paradigm"]) if p != "difference"]
        if items:
            parts.append(Text(""))
            parts.append(limits_table(items, paradigms))
            parts.extend(Text(n, style="dim") for i in items for n in i.notes)
    if not show_all and metrics is None:
        parts.append(Text("Every metric: --all; chosen ones: --metrics bed_days,bed_occupancy; "
                          "all of them in summary.csv.", style="dim"))
    return Group(*parts)


def show_summary(console: Console, summary: pd.DataFrame, scenario: dict, title: str,
                 show_all: bool = False, metrics: list[str] | None = None) -> None:
    """Print the summary at most 80 columns wide (wider terminals get the same layout)."""
    width = min(console.width, WIDTH) if console.is_terminal else WIDTH
    console.print(render(summary, scenario, title, show_all, metrics), width=width, soft_wrap=False)


#: Headline differences shown with their parameter uncertainty (all rows: uncertainty.csv).
UNCERTAINTY_SHOWN = ("bed_days", "ed_visits", "readmissions_30d", "home_help_hours", "short_term_care_days",
                     "cost_region_sek", "cost_municipality_sek", "cost_total_sek")


def _num(x: float) -> str:
    return "" if x != x else format_value(x, relative=False)


def uncertainty_group(table: pd.DataFrame) -> Group:
    """``uncertainty.csv`` for the console: headline differences with both intervals, then the decision figures."""
    n, r = int(table["draws"].iloc[0]), int(table["replications"].iloc[0])
    t = Table(box=box.SIMPLE_HEAD, title=f"person − intervention: {n} posterior draws × {r} replications, same persons",
              title_justify="left")
    for col in ("metric", "stochastic only (95 % CI)", "parameters only (95 %)", "both"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    d = table[(table["kind"] == "difference") & table["figure"].isin(UNCERTAINTY_SHOWN)]
    for x in d.itertuples():
        t.add_row(x.figure, f"{_num(x.stochastic_mean)} [{_num(x.stochastic_low)}, {_num(x.stochastic_high)}]",
                  f"{_num(x.mean)} [{_num(x.low)}, {_num(x.high)}]",
                  f"[{_num(x.combined_low)}, {_num(x.combined_high)}]")
    dec = Table(box=box.SIMPLE_HEAD, title="decision figures", title_justify="left")
    dec.add_column("figure", justify="left")
    dec.add_column("value", justify="right")
    for x in table[table["kind"] != "difference"].itertuples():
        interval = "" if x.low != x.low else f" [{_num(x.low)}, {_num(x.high)}]"
        dec.add_row(x.figure, f"{x.mean:.2f}" if x.unit == "probability" else f"{_num(x.mean)}{interval}")
    return Group(t, dec)
