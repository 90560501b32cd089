"""The report's sections: a list of builders, each returning its HTML or saying what it lacks.

A builder takes the :class:`Context` and returns a :class:`Section`, or raises
:class:`Unavailable` naming what is missing; the report then shows "not available yet: <what>"
in the section's place. Adding a view when its issue lands is one function appended to
:data:`SECTIONS`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from sim.output.costs import enrolled_group_costs, read_priced_events
from sim.output.results import ResultsError, read_manifest, read_replications, read_summary
from sim.report import data as rd
from sim.report import figures as rf


class Unavailable(Exception):
    """A section's inputs are absent; the message says what (shown as "not available yet: ...")."""


@dataclass
class Section:
    """A built section: its anchor, title and HTML body."""

    key: str
    title: str
    body: str


@dataclass
class Context:
    """What the builders read: the results folder and optional side inputs, loaded once."""

    folder: Path
    calibration: Path | None = None
    scenario_file: Path | None = None
    figures: list[go.Figure] = field(default_factory=list)

    @cached_property
    def manifest(self) -> dict:
        """The results folder's manifest."""
        return read_manifest(self.folder)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``summary.csv``."""
        return read_summary(self.folder)

    @cached_property
    def replications(self) -> pd.DataFrame:
        """``replications.csv``."""
        return read_replications(self.folder)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log, priced (text columns stay categorical: millions of rows, a few dozen values)."""
        return read_priced_events(self.folder)

    @property
    def sim(self) -> dict:
        """The resolved ``[simulation]`` table."""
        return self.manifest["scenario"]["simulation"]

    @property
    def warmup(self) -> float:
        """Warm-up in days."""
        return float(self.sim["warmup_years"]) * rd.DAYS_PER_YEAR

    @property
    def horizon(self) -> float:
        """End of the run in days."""
        return self.warmup + float(self.sim["years"]) * rd.DAYS_PER_YEAR

    def compared(self) -> None:
        """Raise :class:`Unavailable` unless both care systems were run."""
        if set(self.manifest["paradigms"]) != {"intervention", "person"}:
            raise Unavailable("a comparison of both care systems (run `narvard compare`)")

    def figure(self, fig: go.Figure) -> str:
        """Return a placeholder for ``fig``; the builder fills it in once plotly.js is in the page."""
        self.figures.append(fig)
        return f"<!--figure:{len(self.figures) - 1}-->"


def _cell(mean, lo, hi, digits: int = 3) -> str:
    from sim.measure.report import format_value

    if pd.isna(mean):
        return ""
    ci = "" if pd.isna(lo) else f" [{format_value(lo, relative=False)}, {format_value(hi, relative=False)}]"
    return f"{format_value(mean, relative=False)}{ci}"


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, escape=True, border=0, classes="tbl", na_rep="")


# -- builders -------------------------------------------------------------------------------
def headline(ctx: Context) -> Section:
    """Both systems per 1,000 persons 65+ per year and in MSEK per year for the area."""
    ctx.compared()
    s = ctx.summary
    rows = []
    for m in rd.HEADLINE:
        r = {p: s[(s["metric"] == m) & (s["paradigm"] == p)] for p in ("intervention", "person", "difference")}
        if any(v.empty for v in r.values()):
            continue
        cells = [_cell(*v[["mean", "ci_low", "ci_high"]].iloc[0]) for v in r.values()]
        rows.append([rf.METRIC_LABELS.get(m, m), *cells])
    rates = pd.DataFrame(rows, columns=["per 1,000 persons 65+ per year", "insatsstyrning", "individstyrning",
                                        "difference (paired)"])
    costs = rd.area_costs_msek(ctx.replications, float(ctx.sim["years"]))
    wide = []
    for payer in rd.AREA_COSTS.values():
        c = costs[costs["payer"] == payer].set_index("paradigm")
        wide.append([payer] + [_cell(*c.loc[p, ["mean", "ci_low", "ci_high"]]) if p in c.index else ""
                               for p in ("intervention", "person", "difference")])
    msek = pd.DataFrame(wide, columns=["MSEK per year for the area", "insatsstyrning", "individstyrning",
                                       "difference (paired)"])
    reps = ctx.manifest["replications"]
    body = (f"<p>Means over {reps} replications with Student-t 95 % intervals; the difference is the mean of "
            "the per-replication differences on the same persons with the same health (common random "
            "numbers). Area costs are the cost per person 65+ times the mean population of the measured "
            "period.</p>" + _table(rates) + _table(msek)
            + ctx.figure(rf.relative_difference_figure(rd.relative_differences(s)))
            + ctx.figure(rf.area_cost_figure(costs[costs["paradigm"] != "difference"])))
    return Section("headline", "Headline: the two care systems compared", body)


def over_time(ctx: Context) -> Section:
    """Occupancy, delayed discharges, waits, caseloads and unmet need over the measured period."""
    ctx.compared()
    bands = rd.band(rd.weekly_series(ctx.events, ctx.warmup, ctx.horizon))
    adm = ctx.events[(ctx.events["kind"] == "admission") & (ctx.events["time"] >= ctx.warmup)]
    waited = int(((adm["duration"] - adm["quantity"]) > 1e-9).sum())
    body = (f"<p>{waited:,} of {len(adm):,} admissions in the measured period waited for a bed (both systems, "
            "all replications).</p>"
            + "<p>In four-week bins over the measured period (after the warm-up); the line is the mean over "
            "replications and the band its 95 % interval (cut at 0). Caseloads exist only under person-driven care. "
            "Unmet need is the närsjukvårdsteam's referrals that found it full.</p>"
            + ctx.figure(rf.series_figure(bands)))
    return Section("over-time", "Beds, waits and caseloads over time", body)


def one_person(ctx: Context) -> Section:
    """Show a typical person of the unstable group, 18 months under both systems."""
    ctx.compared()
    from sim.output.timeline import person_timeline, timeline_caption
    from sim.plots import timeline_figure

    try:
        rows, pid = person_timeline(ctx.folder, None, 0, 18.0, ctx.events)
    except ResultsError as exc:
        raise Unavailable(f"a typical unstable person ({exc})") from None
    caption = timeline_caption(rows, pid)
    body = (f"<p>Chosen reproducibly: among persons the närsjukvårdsteam enrolled for at least 60 days in "
            f"replication 0, the one whose cost under today's care over the window is the median "
            f"(<code>narvard timeline {html.escape(str(ctx.folder))}</code> draws the same person).</p>"
            + ctx.figure(timeline_figure(rows, pid, None, 18.0)) + f"<p class='caption'>{html.escape(caption)}</p>")
    return Section("person", "One person's 18 months under both systems", body)


def costs(ctx: Context) -> Section:
    """Costs by payer as a waterfall, with the delayed-discharge transfer shown."""
    ctx.compared()
    by = rd.costs_by_payer(ctx.events, ctx.warmup, float(ctx.sim["years"]))
    wide = by.pivot_table(index=["payer", "category"], columns="paradigm", values="msek", fill_value=0.0).reset_index()
    wide.columns.name = None
    wide["change"] = wide.get("person", 0.0) - wide.get("intervention", 0.0)
    for c in ("intervention", "person", "change"):
        wide[c] = wide[c].map(lambda x: f"{x:,.2f}")
    body = ("<p>MSEK per year for the area in the measured period, mean over replications. The teams are "
            "their fixed yearly cost. The municipality's payment for a patient ready for discharge who "
            "still holds a bed (betalningsansvar) is a transfer to the region: it is shown as its own bar; "
            "the region's bed-days include those days.</p>"
            + ctx.figure(rf.waterfall_figure(by))
            + _table(wide.rename(columns={"change": "change (person − intervention)"})))
    return Section("costs", "Who pays and who gains", body)


def calibration(ctx: Context) -> Section:
    """Show the calibration fit: reported against simulated, naive and causal."""
    if ctx.calibration is None or not (ctx.calibration / "fit.csv").is_file():
        raise Unavailable("the calibration fit (calibration/fit.csv from `narvard posterior --write-fitted`)")
    path = ctx.calibration / "fit.csv"
    try:
        fit = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise Unavailable(f"a readable {path} ({exc})") from None
    need = {"target", "reported", "band_low", "band_high", "naive_mean", "naive_ci_low", "naive_ci_high",
            "causal_mean", "causal_ci_low", "causal_ci_high"}
    if not need <= set(fit.columns):
        raise Unavailable(f"{path} with the columns {', '.join(sorted(need - set(fit.columns)))}")
    body = (f"<p>From <code>{html.escape(str(path))}</code>: each pilot's reported change, the band the "
            "calibration accepts, and the simulated change measured the pilot's way (naive before/after) and "
            "causally (the same persons over the same windows under today's care).</p>"
            + ctx.figure(rf.calibration_figure(fit.dropna(subset=["reported"]))) + _table(fit))
    return Section("calibration", "Calibration fit", body)


def validation(ctx: Context) -> Section:
    """Show today's care against published Swedish figures (``narvard validate``) and the cost concentration."""
    path = ctx.folder / "validation.csv"
    if not path.is_file():
        raise Unavailable(f"the baseline validation against Swedish figures (run `narvard validate {ctx.folder}`)")
    from sim.measure.validate import COLUMNS, format_table

    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise Unavailable(f"a readable {path} ({exc})") from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise Unavailable(f"{path} with the columns {', '.join(missing)}")
    counts = table["within_band"].value_counts()
    body = (f"<p>From <code>{html.escape(str(path))}</code>: today's care (insatsstyrning) in the model against "
            f"published Swedish statistics; {counts.get('yes', 0)} figures within their band, {counts.get('no', 0)} "
            f"outside, {counts.get('not modelled', 0)} not modelled. Model: mean [95 % interval over "
            "replications]; in band: the interval meets the band.</p>" + _table(format_table(table)))
    lorenz = ctx.folder / "lorenz.csv"
    if lorenz.is_file():
        body += ctx.figure(rf.lorenz_figure(pd.read_csv(lorenz), "Cost concentration among persons 65+ (today's care)"))
    return Section("validation", "Validation against Swedish figures", body)


def sensitivity(ctx: Context) -> Section:
    """Show which unpinned assumption moves the answer (``narvard sensitivity``: tornado, Morris, Sobol')."""
    folder = ctx.calibration / "sensitivity" if ctx.calibration is not None else None
    if folder is None or not (folder / "oat.csv").is_file():
        raise Unavailable("the sensitivity analysis (calibration/sensitivity/ from `narvard sensitivity`)")
    from sim.experiments.sensitivity.evaluate import HEADLINE
    from sim.experiments.sensitivity.plots import sobol_figure, tornado_figure

    try:
        oat = pd.read_csv(folder / "oat.csv")
        sobol = pd.read_csv(folder / "sobol.csv") if (folder / "sobol.csv").is_file() else pd.DataFrame()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise Unavailable(f"readable tables in {folder} ({exc})") from None
    units = {k: HEADLINE.get(k, ("", k)) for k in oat["output"].unique()}
    top = (oat.sort_values("swing", ascending=False).groupby("output", sort=False).head(3)
           [["output", "assumption", "low", "high", "y_low", "y_default", "y_high", "swing"]])
    body = (f"<p>From <code>{html.escape(str(folder))}</code> (its <code>README.md</code> gives the design): "
            "each assumption no calibration target pins, at the low and high of the range its source supports, "
            "the others at their default, on the same persons (common random numbers); then Sobol' indices "
            "for the few that matter. Outputs are person-driven − today's care.</p>"
            + ctx.figure(tornado_figure(oat, units)) + _table(top))
    if len(sobol):
        body += ctx.figure(sobol_figure(sobol, units))
    return Section("sensitivity", "Which assumption moves the answer", body)


#: A staffed concept's figures in the summary, by suffix of ``<concept>_...``, with their labels.
STAFFED_FIGURES = (
    ("capacity", "capacity: persons at once"), ("by_staff", "what the staff time alone allows"),
    ("caseload", "mean persons enrolled at once"), ("list", "mean persons listed"),
    ("full_share", "eligible referrals that found it full"), ("refused", "referrals and enrolments refused"),
    ("no_time", "acute home visits refused for lack of staff time"),
    ("referrals", "eligible referrals per year"), ("enrolments", "enrolments started per year"),
    ("unserved", "eligible persons not served per year"), ("wait_days", "person-days waiting per year"),
    ("wait_mean", "wait, mean (days)"), ("wait_p90", "wait, 90th percentile (days)"),
    ("wait_expired", "waits ended at the maximum wait per year"),
    ("expired", "waits ended at the maximum wait per year"),
    ("aftercare", "mean persons followed under the team's plan"),
    ("after_full", "discharges without an aftercare place"),
    ("after_nurse", "discharges without a plan for lack of home health nurse time"),
    ("after_hours", "home health nurse hours a week the plans take"),
    ("day_sek", "staff cost per enrolled person-day (SEK, the team's cost over its enrolled days)"),
)


def _group_costs(ctx: Context) -> str:
    """Table: what the persons enrolled with each team cost per enrolled person-day, team included, vs today."""
    if set(ctx.summary["paradigm"]) < {"intervention", "person"}:
        return ""
    from sim.stats import t_interval

    g = enrolled_group_costs(ctx.events, ctx.warmup, ctx.horizon)
    if g.empty:
        return ""
    years = (ctx.horizon - ctx.warmup) / rd.DAYS_PER_YEAR
    rows = []
    for prov, d in g.groupby("provider", sort=False):
        per_day = {c: (d[c] / d["enrolled_days"]).to_numpy() for c in ("today_sek", "care_sek", "team_sek")}
        total = per_day["care_sek"] + per_day["team_sek"]
        rows.append([prov, f"{d['enrolled_days'].mean() / years:,.0f}",
                     *(_cell(*t_interval(per_day[c])) for c in ("today_sek", "care_sek", "team_sek")),
                     _cell(*t_interval(total)), _cell(*t_interval(total - per_day["today_sek"]))])
    cols = ["team", "enrolled person-days a year", "today's care", "person-driven care", "team (allocated)",
            "person-driven total", "difference"]
    return ("<h3>Cost of the enrolled, SEK per enrolled person-day</h3><p>The persons enrolled with each team, "
            "over the days they were enrolled in the measured period: what their care cost under today's care "
            "(the same persons and days: common random numbers) and under person-driven care, with the team's "
            "staff cost allocated over its enrolled days (an allocation of a fixed yearly cost, not a price). "
            "Contacts count on their day, stays and routine volume pro rata; payments between payers are left "
            "out. What follows an enrolment (the närsjukvårdsteam's aftercare plan, fewer stays later) is not in "
            "these windows: the designs and the area's totals count it. Means over replications with Student-t "
            "95 % intervals.</p>"
            + _table(pd.DataFrame(rows, columns=cols)))


def staffed(ctx: Context) -> Section:
    """Staffed services: staff tables, capacity and what bound it, caseloads, lists, waits and unmet need."""
    s = ctx.summary
    person = s[s["paradigm"] == "person"]
    if person.empty:
        raise Unavailable("a run of person-driven care (`narvard compare` or `run --paradigm person`)")
    concepts = ctx.manifest["scenario"].get("concepts", {})
    parts = ["<p>Person-driven care, means over replications with Student-t 95 % intervals. A concept holds at "
             "once as many persons as its staff's planned patient hours a week allow (or its per-team cap, where "
             "lower); acute home visits draw on the rest of the week's patient hours. Shares are fractions "
             "(0.25 = 25 %); per-year figures are for the whole area.</p>"]
    shown = 0
    for name, c in concepts.items():
        if not isinstance(c, dict) or not c.get("enabled") or "staff" not in c:
            continue
        rows = []
        for suffix, label in STAFFED_FIGURES:
            r = person[person["metric"] == f"{name}_{suffix}"]
            if not r.empty:
                rows.append([label, _cell(*r[["mean", "ci_low", "ci_high"]].iloc[0]), r["unit"].iloc[0]])
        staff = pd.DataFrame([{"profession": x["profession"], "FTE per team": x["fte"],
                               "hours per week": x["hours_per_week"],
                               "working days per year": x["working_days_per_year"],
                               "SEK per FTE-year": f"{x['cost_per_fte_year']:,.0f}"} for x in c["staff"]])
        parts.append(f"<h3>{html.escape(name)}: {c.get('teams', 1)} team(s)</h3>" + _table(staff)
                     + _table(pd.DataFrame(rows, columns=["figure", "mean [95 % CI]", "unit"])))
        shown += 1
    if not shown:
        raise Unavailable("an enabled staffed service concept in the run's scenario")
    parts.append(_group_costs(ctx))
    nurses = []
    for paradigm, label in (("intervention", "today's care"), ("person", "person-driven care"),
                            ("difference", "difference (person-driven − today)")):
        row = [label]
        for metric in ("nurse_hassle_fte", "nurse_visit_fte"):
            r = s[(s["paradigm"] == paradigm) & (s["metric"] == metric)]
            row.append(_cell(*r[["mean", "ci_low", "ci_high"]].iloc[0]) if not r.empty else "")
        if any(row[1:]):
            nurses.append(row)
    if nurses:
        parts.append("<h3>Home health nurses (FTE)</h3><p>FTE lost to hassle (strulfaktorer) and FTE spent on the "
                     "demanded visits (the team's aftercare plans included): the difference row is the nurse time "
                     "team collaboration frees and the visits it buys.</p>"
                     + _table(pd.DataFrame(nurses, columns=["care", "FTE lost to hassle", "FTE of visits"])))
    return Section("staffed", "Staffed services", "".join(parts))


def uncertainty(ctx: Context) -> Section:
    """Show parameter uncertainty (``uncertainty.csv`` of ``compare --posterior``) and the calibration's posterior."""
    path = ctx.folder / "uncertainty.csv"
    post = ctx.calibration / "posterior_marginals.csv" if ctx.calibration is not None else None
    have_post = post is not None and post.is_file()
    if not path.is_file() and not have_post:
        raise Unavailable("uncertainty (uncertainty.csv from `narvard compare SCENARIO --posterior N`; the "
                          "posterior from `narvard posterior`)")
    body = ""
    if path.is_file():
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise Unavailable(f"a readable {path} ({exc})") from None
        need = {"kind", "figure", "unit", "mean", "low", "high", "stochastic_mean", "stochastic_low",
                "stochastic_high", "combined_low", "combined_high", "draws", "replications"}
        if not need <= set(table.columns):
            raise Unavailable(f"{path} with the columns {', '.join(sorted(need - set(table.columns)))}")
        n, r = (int(table["draws"].iloc[0]), int(table["replications"].iloc[0])) if len(table) else (0, 0)
        d = table[table["kind"] == "difference"]
        diff = pd.DataFrame({
            "metric": d["figure"], "unit": d["unit"],
            "stochastic only (95 % CI at the fit)": [_cell(*x) for x in zip(d["stochastic_mean"], d["stochastic_low"],
                                                                               d["stochastic_high"], strict=True)],
            "parameters only (95 % of draws)": [_cell(*x) for x in zip(d["mean"], d["low"], d["high"], strict=True)],
            "both": [_cell(*x) for x in zip(d["mean"], d["combined_low"], d["combined_high"], strict=True)]})
        rest = table[table["kind"] != "difference"]
        dec = pd.DataFrame({"figure": rest["figure"],
                            "value": [f"{m:.2f}" if u == "probability" else _cell(m, lo, hi)
                                      for m, lo, hi, u in zip(rest["mean"], rest["low"], rest["high"], rest["unit"],
                                                              strict=True)]})
        body += (f"<p>From <code>{html.escape(str(path))}</code>: {n} parameter sets drawn from the calibration's "
                 f"posterior, each run on the same {r} replications (the same persons), against the plain compare's "
                 "interval over replications at the fitted parameters. Person − intervention.</p>"
                 + _table(diff) + "<h3>Decision figures</h3>" + _table(dec))
    if have_post:
        try:
            marg = pd.read_csv(post)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise Unavailable(f"a readable {post} ({exc})") from None
        if {"parameter", "prior_low", "prior_high", "median", "q05", "q95", "shrinkage"} <= set(marg.columns):
            view = pd.DataFrame({
                "parameter": marg["parameter"],
                "prior": [f"{a:.3g}–{b:.3g}" for a, b in zip(marg["prior_low"], marg["prior_high"], strict=True)],
                "posterior median [90 %]": [f"{m:.3g} [{a:.3g}, {b:.3g}]"
                                            for m, a, b in zip(marg["median"], marg["q05"], marg["q95"], strict=True)],
                "shrinkage": marg["shrinkage"].round(2),
                "still the prior": marg.get("still_prior", pd.Series([""] * len(marg))).map(
                    {True: "yes", False: ""}).fillna(""),
                "at bound": marg.get("at_bound", pd.Series([""] * len(marg))).astype(object).fillna("")})
            body += (f"<h3>Posterior of the free parameters</h3><p>From <code>{html.escape(str(post))}</code> "
                     "(ABC-SMC, see posterior.md beside it). Shrinkage = 1 − posterior / prior variance.</p>"
                     + _table(view))
    return Section("uncertainty", "Uncertainty and sensitivity", body)


def _future(key: str, title: str, what: str, filename: str) -> Callable[[Context], Section]:
    """Build a section a later issue fills: unavailable until its file is in the results folder."""
    def build(ctx: Context) -> Section:
        path = ctx.folder / filename
        if not path.is_file():
            raise Unavailable(what)
        return Section(key, title, _table(pd.read_csv(path)))
    build.__name__ = key.replace("-", "_")
    build.__doc__ = f"{title} (from {filename} when present)."
    return build


_LINE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*=\s*(.*?)\s*(?:#\s*(.*))?$")


def scenario_assumptions(text: str) -> pd.DataFrame:
    """Each parameter of a commented scenario TOML file with its comment: ``section, parameter, value, source``.

    The comment on the line, else the comment block just above it, is the source or the reason
    for the assumption. Multi-line values are not split (the scenario files keep one per line).
    """
    rows, section, block, after_key = [], "", [], False
    for line in text.splitlines():
        s = line.strip()
        if not s:
            block, after_key = [], False
            continue
        if s.startswith("#"):
            if after_key:  # a new comment block starts: it speaks for the keys below it
                block, after_key = [], False
            block.append(s.lstrip("#").strip())
            continue
        if s.startswith("["):
            section = s.split("]")[0].strip("[] ")
            comment = s.split("#", 1)[1].strip() if "#" in s else ""
            block = [comment] if comment else []
            continue
        m = _LINE.match(line)
        if not m:
            continue
        key, value, comment = m.group(1), m.group(2), m.group(3)
        after_key = True
        if not section or value.count('"') % 2 == 1 or ("#" in value and comment is None):
            continue  # top-level keys (base files, overlays) are not parameters
        rows.append((section, key, value, comment or " ".join(block)))
    return pd.DataFrame(rows, columns=["section", "parameter", "value in the file", "source or reason"])


def _resolved(scenario: dict, section: str, key: str):
    node = scenario
    for part in [*section.split("."), *key.split(".")]:
        if not part:
            continue
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def assumptions(ctx: Context) -> Section:
    """List the scenario's parameters with their sources (the scenario file's comments)."""
    path = ctx.scenario_file
    if path is None:
        name = ctx.manifest.get("scenario_file") or ""
        path = Path(name) if name else None
    if path is None or not path.is_file():
        raise Unavailable("the commented scenario file (the manifest names none that exists here)")
    table = scenario_assumptions(path.read_text(encoding="utf-8"))
    used = []
    for r in table.itertuples(index=False):
        v = _resolved(ctx.manifest["scenario"], r.section, r.parameter)
        used.append("" if v is None else json.dumps(v, ensure_ascii=False))
    table.insert(3, "value used in this run", used)
    body = (f"<p>From <code>{html.escape(str(path))}</code>; the value used is the resolved one in the "
            "manifest (calibrated values and command-line overrides included). Every number is an "
            "assumption unless the comment names a source.</p>" + _table(table))
    return Section("assumptions", "Assumptions and their sources", body)


def methods(ctx: Context) -> Section:
    """Describe the model and the experiment, STRESS-DES style."""
    m, sim = ctx.manifest, ctx.sim
    deps = m.get("dependencies", {})
    items = [
        ("Purpose", "Compare today's intervention-driven care (insatsstyrning) with person-driven care "
                    "(individstyrning) for the same elderly, multimorbid persons of one area: use of beds, "
                    "visits and home help, waits, deaths at home and costs by payer."),
        ("Model logic", "Persons 65+ move between need strata (stable, fluctuating, unstable, palliative) in a "
                        "continuous-time Markov chain with acute deteriorations and death; the whole health "
                        "trajectory is drawn before any care runs. A care system decides what happens at each "
                        "deterioration and discharge (ED, admission, the home health nurse, the service "
                        "concepts). Beds and short-term places are queues (SimPy resources); team caseloads "
                        "are capped; routine volume accrues between state changes as expected counts."),
        ("Data and assumptions", "The scenario file; every parameter with its source or reason is in the "
                                 "assumptions table. The service concepts' effect sizes are calibrated to the "
                                 "pilots' reported figures."),
        ("Warm-up", f"{sim['warmup_years']} years, not measured (strata, queues and admission histories settle)."),
        ("Run length", f"{sim['years']} measured years after the warm-up."),
        ("Replications", f"{m['replications']}; means with Student-t 95 % intervals over replications."),
        ("Common random numbers", "Both care systems run on the same persons with the same health "
                                  "trajectories in each replication; differences are paired by replication."),
        ("Random streams", "Counter-based SplitMix64 streams: every uniform is a function of (seed, stream, "
                           "person, index), one named stream per purpose (health, care, relapse, ...), so a care "
                           "system can skip or prevent an event without shifting any other draw."),
        ("Implementation", f"Python {deps.get('python', '?')}, SimPy {deps.get('simpy', '?')}, numpy "
                           f"{deps.get('numpy', '?')}, pandas {deps.get('pandas', '?')}; executor "
                           f"{m.get('executor', '?')}."),
        ("Outputs", "An event log (one row per contact or state change, priced and booked to its payer), "
                    "per-replication metrics and the summary; every figure here is computed from them."),
    ]
    body = "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items) + "</dl>"
    return Section("methods", "Methods (STRESS-DES)", body)


def rollout(ctx: Context) -> Section:
    """Compare the rollout options year by year (from ``narvard rollout``: rollout.csv and its long tables)."""
    from sim.experiments.rollout import plots as rp

    path = ctx.folder / "rollout.csv"
    if not path.is_file():
        raise Unavailable("the rollout comparison (rollout.csv: run `narvard rollout REGION.toml --options ...`)")
    table = pd.read_csv(path)
    options = [c[: -len(" mean")] for c in table.columns if c.endswith(" mean")]
    shown = pd.DataFrame({"figure": table["figure"], "year": table["year"].map(lambda y: "" if y == 0 else int(y))})
    for o in options:
        shown[o] = [_cell(m, lo, hi) for m, lo, hi in zip(table[f"{o} mean"], table[f"{o} ci_low"],
                                                           table[f"{o} ci_high"], strict=True)]
    be = table["year"] == 0
    for o in options:
        shown.loc[be, o] = table.loc[be, f"{o} mean"].map(lambda y: "never" if pd.isna(y) else f"year {y:.0f}")
    charts = ""
    years, ledger = ctx.folder / "rollout_years.csv", ctx.folder / "ledger.csv"
    if years.is_file() and ledger.is_file():
        charts = "".join(ctx.figure(f) for f in rp.figures(pd.read_csv(years), pd.read_csv(ledger)))
    body = ("<p>The region's options side by side, by year of the rollout: each payer's money (SEK; net = "
            "saving at average cost - investment in teams and implementation support; transfers between "
            "the payers cancel in the total), beds, ED visits and living teams; means with 95 % intervals "
            "over replications, paired (every option meets the same persons and the same survival draws). "
            "Savings are not cash unless capacity is cut: the cash rows count whole beds and places closed "
            "and nurses not replaced.</p>" + _table(shown) + charts)
    return Section("rollout", "Rollout comparison", body)


#: The report, in order: (key, title, builder). Later issues append their views here.
SECTIONS: list[tuple[str, str, Callable[[Context], Section]]] = [
    ("headline", "Headline: the two care systems compared", headline),
    ("over-time", "Beds, waits and caseloads over time", over_time),
    ("person", "One person's 18 months under both systems", one_person),
    ("costs", "Who pays and who gains", costs),
    ("validation", "Validation against Swedish figures", validation),
    ("calibration", "Calibration fit", calibration),
    ("staffed", "Staffed services", staffed),
    ("uncertainty", "Uncertainty and sensitivity", uncertainty),
    ("sensitivity", "Which assumption moves the answer", sensitivity),
    ("rollout", "Rollout comparison", rollout),
    ("assumptions", "Assumptions and their sources", assumptions),
    ("methods", "Methods (STRESS-DES)", methods),
]
