"""Today's care against Swedish statistics: ``narvard validate RESULTS_DIR``.

Each figure of ``calibration/baseline_targets.toml`` names a statistic computed here from a
results folder's event log, per replication, for the intervention-driven paradigm (today's
care, insatsstyrning); the table gives the mean with its Student-t 95 % interval over
replications and whether that interval meets the figure's band. Figures the model cannot
produce yet (``modelled = false``, e.g. special housing) are listed as "not modelled".

Conventions (the same as ``summary.csv`` unless said otherwise): the measured period is
``[warm-up, horizon)``; contacts and costs count in the period they start in; person-years
are the time each person is alive and present inside the period; prevalences ("on a given
day") are person-time shares, so they average over every day of the period.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.measure.report import overlaps
from sim.output.concentration import PAYER_GROUPS, TOP_SHARES, lorenz_points, top_share
from sim.stats import markdown_table, t_interval

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DEFAULT_TARGETS = Path("calibration/baseline_targets.toml")
VALIDATION_CSV, VALIDATION_MD, LORENZ_CSV = "validation.csv", "validation.md", "lorenz.csv"
COLUMNS = ["figure", "name", "unit", "published", "published_value", "band_low", "band_high", "mean", "ci_low",
           "ci_high", "within_band", "off_by", "replications", "verified", "source"]
_EVENT_COLUMNS = ["replication", "paradigm", "person", "time", "kind", "payer", "duration", "quantity",
                  "cost", "readmission", "detail"]


class ValidateError(ValueError):
    """The targets file or the results folder cannot be validated (one line, names the file)."""


class Figure(BaseModel):
    """One published figure and how the model's counterpart is computed."""

    model_config = ConfigDict(extra="forbid")

    name: str
    statistic: str
    unit: str
    definition: str
    numerator: str
    denominator: str
    population: str
    period: str
    warmup_excluded: bool
    published: float | None = None  #: the published value (None: only a range or a text)
    published_text: str
    band: tuple[float, float]
    source: str
    year: int
    verified: bool
    modelled: bool = True
    note: str = ""


class TargetsFile(BaseModel):
    """``baseline_targets.toml``: figures by id, in file order."""

    model_config = ConfigDict(extra="forbid")

    meta: dict[str, str] = {}
    figures: dict[str, Figure]


def load_baseline_targets(path: Path | str = DEFAULT_TARGETS) -> TargetsFile:
    """Read and check the targets file; a :class:`ValidateError` names the file and the field."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidateError(f"{path}: no such targets file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValidateError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ValidateError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        tf = TargetsFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValidateError(f"{path}: {problems}") from None
    for fid, f in tf.figures.items():
        if f.band[0] > f.band[1]:
            raise ValidateError(f"{path}: figures.{fid}.band: low {f.band[0]} above high {f.band[1]}")
        if f.modelled and f.statistic not in STATISTICS:
            raise ValidateError(f"{path}: figures.{fid}.statistic: unknown statistic {f.statistic!r} "
                                f"(known: {', '.join(sorted(STATISTICS))})")
    return tf


# ---------------------------------------------------------------------------------------------
# Statistics of one replication


@dataclass
class Persons:
    """Who is in the area when: arrays indexed by person id (from the population)."""

    entry_time: np.ndarray  #: day of entry
    age_at_entry: np.ndarray  #: years
    death_time: np.ndarray = field(default_factory=lambda: np.empty(0))  #: day of death (inf: alive at the end)


def _overlap(t0: np.ndarray, t1: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.minimum(t1, hi) - np.maximum(t0, lo), 0.0, None)


def _presence(persons: Persons, warmup: float, horizon: float) -> np.ndarray:
    """Days each person is present inside the measured period."""
    return _overlap(persons.entry_time, persons.death_time, warmup, horizon)


def cost_per_person(ev: pd.DataFrame, persons: Persons, warmup: float, horizon: float,
                    measured_from: float | None = None) -> pd.DataFrame:
    """Cost in SEK per person over ``warmup``-``horizon`` (days) by payer (region, municipality, total).

    One row per person present at any time in the period, zero-cost persons included; costs not
    attributed to a person (the teams' fixed yearly costs) and the delayed-discharge payment (a
    transfer between payers, not care; both its rows) are left out, as in ``summary.csv``. A row
    with a duration (an accrual over a span, a stay) counts with the share of its span inside the
    period: a window inside a longer measured run (``measured_from``, the run's warm-up end; rows
    starting before it are left out as in ``summary.csv``) gets the part of a row that began earlier.
    Over the whole measured period every row ends by the horizon, so the share is 1.
    """
    start = warmup if measured_from is None else measured_from
    present = np.flatnonzero(_presence(persons, warmup, horizon) > 0)
    m = ev[(ev["time"] >= start) & (ev["time"] < horizon) & (ev["person"] >= 0)
           & ~ev["kind"].isin(["discharge_payment", "discharge_payment_received"])]
    t0, dur = m["time"].to_numpy(), m["duration"].to_numpy()
    span = np.where(dur > 0, _overlap(t0, t0 + dur, warmup, horizon) / np.where(dur > 0, dur, 1.0),
                    (t0 >= warmup).astype(float))
    m = m.assign(cost=m["cost"].to_numpy() * span)
    out = pd.DataFrame(index=pd.Index(present, name="person"))
    for payer in ("region", "municipality"):
        s = m.loc[m["payer"] == payer].groupby("person")["cost"].sum()
        out[payer] = s.reindex(out.index, fill_value=0.0).to_numpy()
    out["total"] = out["region"] + out["municipality"]
    return out


def replication_statistics(ev: pd.DataFrame, persons: Persons, warmup: float, horizon: float) -> dict[str, float]:
    """Every statistic of one replication and paradigm from its event rows.

    ``ev``: the rows of one replication and paradigm (columns as in ``events.parquet``, strings
    not codes); ``persons``: entry, age at entry and death of every person in the run.
    """
    n = len(persons.entry_time)
    if len(persons.death_time) != n:
        death = np.full(n, np.inf)
        d = ev[ev["kind"] == "death"]
        death[d["person"].to_numpy()] = d["time"].to_numpy()
        persons = Persons(persons.entry_time, persons.age_at_entry, death)
    days = _presence(persons, warmup, horizon)
    person_days = float(days.sum())
    py = person_days / DAYS_PER_YEAR or float("nan")
    pdays = person_days or float("nan")
    m = ev[(ev["time"] >= warmup) & (ev["time"] < horizon)]
    kind = m["kind"]
    out: dict[str, float] = {"person_years": person_days / DAYS_PER_YEAR}

    adm = m[kind == "admission"]
    n_adm = len(adm)
    out["admissions_per_1000"] = n_adm / py * 1000
    out["bed_days_per_1000"] = float(adm["quantity"].sum()) / py * 1000
    done = adm[adm["detail"] != "censored"]
    out["length_of_stay_days"] = float(done["quantity"].mean()) if len(done) else float("nan")
    out["readmission_30d_share"] = float(adm["readmission"].sum()) / n_adm if n_adm else float("nan")

    ed = m[kind == "ed_visit"]
    n_ed = float(ed["quantity"].sum())
    out["ed_visits_per_1000"] = n_ed / py * 1000
    via_ed = int((adm["detail"] == "via_ed").sum())
    out["ed_admission_share"] = via_ed / n_ed if n_ed else float("nan")
    # ED visits of persons aged 80+ at the visit, per person-year lived at 80+ in the period.
    t80 = persons.entry_time + np.maximum(80.0 - persons.age_at_entry, 0.0) * DAYS_PER_YEAR
    py80 = float(_overlap(np.maximum(persons.entry_time, t80), persons.death_time, warmup, horizon).sum())
    py80 /= DAYS_PER_YEAR
    p = ed["person"].to_numpy()
    age_at_visit = persons.age_at_entry[p] + (ed["time"].to_numpy() - persons.entry_time[p]) / DAYS_PER_YEAR
    out["ed_visits_per_1000_80plus"] = (float(ed["quantity"].to_numpy()[age_at_visit >= 80.0].sum())
                                        / py80 * 1000 if py80 else float("nan"))

    deaths = m[kind == "death"]
    n_d = len(deaths)
    out["deaths_per_1000"] = n_d / py * 1000
    for place in ("hospital", "home", "short_term_care", "special_housing"):
        out[f"death_place_{place}_share"] = float((deaths["detail"] == place).sum()) / n_d if n_d else float("nan")
    out["death_place_nursing_home_share"] = (out["death_place_special_housing_share"]
                                             + out["death_place_short_term_care_share"])

    # Prevalences from accrual intervals [time, time + duration] overlapping the period.
    allev = ev[(ev["time"] < horizon) & (ev["time"] + ev["duration"] > warmup)]
    hh = allev[(allev["kind"] == "home_health_visit") & (allev["detail"] == "routine") & (allev["quantity"] > 0)]
    out["home_health_enrolled_share"] = float(
        _overlap(hh["time"].to_numpy(), (hh["time"] + hh["duration"]).to_numpy(), warmup, horizon).sum()) / pdays
    # Municipal health care in a year (the published count): enrolled at home, or living in special
    # housing, where the municipality gives every resident health care (HSL; the resident-time rows).
    mhc = allev[(allev["kind"] == "home_health_visit") & allev["detail"].isin(["routine", "special_housing"])
                & (allev["quantity"] > 0) & (allev["duration"] > 0)]
    out["home_health_year_share"] = _year_share(mhc, persons, warmup, horizon)

    hp = allev[(allev["kind"] == "home_help") & (allev["quantity"] > 0) & (allev["duration"] > 0)]
    ov = _overlap(hp["time"].to_numpy(), (hp["time"] + hp["duration"]).to_numpy(), warmup, horizon)
    per_month = (hp["quantity"] / hp["duration"]).to_numpy() * DAYS_PER_MONTH
    recipient_days = float(ov.sum())
    out["home_help_recipients_share"] = recipient_days / pdays
    out["home_help_hours_per_recipient_month"] = (float((per_month * ov).sum()) / recipient_days * 1.0
                                                  if recipient_days else float("nan"))
    out["home_help_over_80h_share"] = (float(ov[per_month > 80.0].sum()) / recipient_days
                                       if recipient_days else float("nan"))

    # Special housing: places held (special_housing_place rows: from day 0 or the grant to death or the horizon).
    sh = ev[(ev["kind"] == "special_housing_place") & (ev["time"] < horizon)]
    out["special_housing_share"] = float(
        _overlap(sh["time"].to_numpy(), (sh["time"] + sh["duration"]).to_numpy(), warmup, horizon).sum()) / pdays

    stc = m[kind == "short_term_care"]
    out["short_term_care_per_1000_on_a_day"] = float(stc["quantity"].sum()) / pdays * 1000

    ages = _age_shares(persons, warmup, horizon)
    out.update(ages)

    cost = m[m["payer"].isin(["region", "municipality"])]
    region = float(cost.loc[cost["payer"] == "region", "cost"].sum())
    muni = float(cost.loc[cost["payer"] == "municipality", "cost"].sum())
    out["cost_region_per_person"] = region / py
    out["cost_municipality_per_person"] = muni / py
    out["cost_total_per_person"] = (region + muni) / py
    hh_cost = float(cost.loc[cost["kind"] == "home_help", "cost"].sum())
    out["home_help_cost_per_person"] = hh_cost / py
    out["home_help_share_of_municipal_cost"] = hh_cost / muni if muni else float("nan")

    per_person = cost_per_person(ev, persons, warmup, horizon)
    for payer in PAYER_GROUPS:
        for s in TOP_SHARES:
            out[f"cost_top{round(100 * s)}_{payer}_share"] = top_share(per_person[payer].to_numpy(), s)
    # The same within each measured year (persons present in it), averaged over the years: the
    # published figures are for one year, and costs over several years are less concentrated.
    years = []
    y = warmup
    while y + DAYS_PER_YEAR <= horizon + 1e-9:
        years.append(cost_per_person(ev, persons, y, y + DAYS_PER_YEAR, measured_from=warmup))
        y += DAYS_PER_YEAR
    for payer in PAYER_GROUPS:
        for s in TOP_SHARES:
            shares = [top_share(c[payer].to_numpy(), s) for c in years]
            out[f"cost_top{round(100 * s)}_{payer}_share_year"] = float(np.mean(shares)) if shares else float("nan")
    return out


def _year_share(rows: pd.DataFrame, persons: Persons, warmup: float, horizon: float) -> float:
    """Mean over the measured years of: persons with such a row in the year / persons present in it."""
    shares = []
    t0 = rows["time"].to_numpy()
    t1 = t0 + rows["duration"].to_numpy()
    who = rows["person"].to_numpy()
    y = warmup
    while y + DAYS_PER_YEAR <= horizon + 1e-9:
        present = int((_overlap(persons.entry_time, persons.death_time, y, y + DAYS_PER_YEAR) > 0).sum())
        had = len(np.unique(who[_overlap(t0, t1, y, y + DAYS_PER_YEAR) > 0]))
        if present:
            shares.append(had / present)
        y += DAYS_PER_YEAR
    return float(np.mean(shares)) if shares else float("nan")


def _age_shares(persons: Persons, warmup: float, horizon: float) -> dict[str, float]:
    """Age groups among persons present at the end of each measured year (SCB counts on 31 December)."""
    counts = np.zeros(3)
    t = warmup + DAYS_PER_YEAR
    while t <= horizon + 1e-9:
        alive = (persons.entry_time <= t) & (persons.death_time > t)
        age = persons.age_at_entry[alive] + (t - persons.entry_time[alive]) / DAYS_PER_YEAR
        counts += [np.count_nonzero(age < 75), np.count_nonzero((age >= 75) & (age < 85)), np.count_nonzero(age >= 85)]
        t += DAYS_PER_YEAR
    total = counts.sum() or float("nan")
    return {"age_65_74_share": counts[0] / total, "age_75_84_share": counts[1] / total,
            "age_85plus_share": counts[2] / total}


STATISTICS = frozenset({
    "admissions_per_1000", "bed_days_per_1000", "length_of_stay_days", "readmission_30d_share",
    "ed_visits_per_1000", "ed_visits_per_1000_80plus", "ed_admission_share", "deaths_per_1000",
    "death_place_hospital_share", "death_place_home_share", "death_place_short_term_care_share",
    "death_place_special_housing_share", "death_place_nursing_home_share", "special_housing_share",
    "home_health_enrolled_share", "home_health_year_share", "home_help_recipients_share",
    "home_help_hours_per_recipient_month", "home_help_over_80h_share", "short_term_care_per_1000_on_a_day",
    "age_65_74_share", "age_75_84_share", "age_85plus_share", "cost_region_per_person",
    "cost_municipality_per_person", "cost_total_per_person", "home_help_cost_per_person",
    "home_help_share_of_municipal_cost",
    *(f"cost_top{round(100 * s)}_{p}_share" for p in PAYER_GROUPS for s in TOP_SHARES),
    *(f"cost_top{round(100 * s)}_{p}_share_year" for p in PAYER_GROUPS for s in TOP_SHARES),
})


# ---------------------------------------------------------------------------------------------
# A results folder


def _folder_inputs(results: Path, paradigm: str):
    """Events of ``paradigm``, the persons of each replication, warm-up and horizon in days."""
    from sim.config import ScenarioError
    from sim.domain.streams import replication_seed
    from sim.output.costs import read_priced_events
    from sim.output.results import ResultsError, manifest_scenario, read_manifest
    from sim.population import make_population

    try:
        manifest = read_manifest(results)
        if paradigm not in manifest["paradigms"]:
            has = ", ".join(manifest["paradigms"])
            raise ValidateError(f"{results}: holds no {paradigm!r} care system (has {has})")
        scenario = manifest_scenario(manifest, results)
        events = read_priced_events(results, columns=_EVENT_COLUMNS)
    except (ResultsError, ScenarioError) as exc:
        raise ValidateError(str(exc)) from None
    events = events[events["paradigm"].astype(str) == paradigm]
    for col in ("kind", "payer", "detail", "paradigm"):
        events[col] = events[col].astype(str)
    persons = {}
    for r in range(manifest["replications"]):
        pop = make_population(scenario, replication_seed(scenario.simulation.seed, r))
        entered = int(((events["replication"] == r) & (events["kind"] == "enter")).sum())
        if entered != pop.size:
            raise ValidateError(f"{results / 'events.parquet'}: replication {r} has {entered} persons entering, "
                                f"the manifest's scenario gives {pop.size}; was the folder written by this version?")
        persons[r] = Persons(pop.entry_time, pop.age_at_entry)
    return events, persons, scenario.warmup_days, scenario.horizon_days


def folder_statistics(results: Path | str, paradigm: str = "intervention") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per replication, every statistic (one row each); and the Lorenz points per payer (mean over replications)."""
    events, persons, warmup, horizon = _folder_inputs(Path(results), paradigm)
    rows, curves = [], []
    for r, ev in events.groupby("replication", sort=True):
        rows.append({"replication": int(r), **replication_statistics(ev, persons[int(r)], warmup, horizon)})
        per_person = cost_per_person(ev, _with_deaths(persons[int(r)], ev), warmup, horizon)
        for payer in PAYER_GROUPS:
            curves.append(lorenz_points(per_person[payer].to_numpy()).assign(payer=payer, replication=int(r)))
    lorenz = (pd.concat(curves).groupby(["payer", "population_share"], sort=False)["cost_share"].mean()
              .reset_index())
    return pd.DataFrame(rows), lorenz


def _with_deaths(persons: Persons, ev: pd.DataFrame) -> Persons:
    death = np.full(len(persons.entry_time), np.inf)
    d = ev[ev["kind"] == "death"]
    death[d["person"].to_numpy()] = d["time"].to_numpy()
    return Persons(persons.entry_time, persons.age_at_entry, death)


def validation_table(per_rep: pd.DataFrame, targets: TargetsFile) -> pd.DataFrame:
    """One row per figure: published, band, model mean with 95 % interval, within band, how far off."""
    rows = []
    for fid, f in targets.figures.items():
        row = {"figure": fid, "name": f.name, "unit": f.unit, "published": f.published_text,
               "published_value": float("nan") if f.published is None else f.published,
               "band_low": f.band[0], "band_high": f.band[1], "verified": f.verified,
               "source": f"{f.source} ({f.year})", "replications": len(per_rep)}
        if not f.modelled:
            row.update(mean=float("nan"), ci_low=float("nan"), ci_high=float("nan"),
                       within_band="not modelled", off_by=float("nan"))
        else:
            mean, lo, hi = t_interval(per_rep[f.statistic]) if len(per_rep) else (float("nan"),) * 3
            ok = overlaps(lo, hi, f.band, mean)
            row.update(mean=mean, ci_low=lo, ci_high=hi, within_band="yes" if ok else "no",
                       off_by=_off_by(mean, f.band))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _off_by(mean: float, band: tuple[float, float]) -> float:
    """Relative distance of the mean from the nearest band edge (0 inside the band)."""
    if mean != mean:
        return float("nan")
    if mean < band[0]:
        return (mean - band[0]) / abs(band[0]) if band[0] else mean - band[0]
    if mean > band[1]:
        return (mean - band[1]) / abs(band[1]) if band[1] else mean - band[1]
    return 0.0


def _fmt(x: float, unit: str) -> str:
    if x != x:
        return ""
    if "share" in unit:
        return f"{100 * x:.1f} %"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_table(table: pd.DataFrame, short: bool = False) -> pd.DataFrame:
    """Cells as printed: shares in %, levels with thousands separators.

    ``short``: for the console, the published value instead of its text, and no source.
    """
    out = []
    for r in table.itertuples(index=False):
        model = ("not modelled" if r.within_band == "not modelled" else
                 f"{_fmt(r.mean, r.unit)} [{_fmt(r.ci_low, r.unit)}, {_fmt(r.ci_high, r.unit)}]")
        off = "" if r.off_by != r.off_by or r.off_by == 0 else f"{100 * r.off_by:+.0f} %"
        published = (_fmt(r.published_value, r.unit) or "(text)") if short else r.published
        row = {"figure": r.figure, "unit": r.unit, "published": published,
               "band": f"{_fmt(r.band_low, r.unit)} … {_fmt(r.band_high, r.unit)}",
               "model (95 % CI)": model, "in band": r.within_band, "off by": off,
               "verified": "yes" if r.verified else "no"}
        if not short:
            row["source"] = r.source
        out.append(row)
    return pd.DataFrame(out)


def write_validation(table: pd.DataFrame, lorenz: pd.DataFrame, results: Path, targets_path: Path) -> list[Path]:
    """Write validation.csv, validation.md and lorenz.csv into the results folder, each atomically."""
    results = Path(results)
    csv = table.copy()
    for col in ("published_value", "band_low", "band_high", "mean", "ci_low", "ci_high", "off_by"):
        csv[col] = csv[col].map(lambda x: "" if x != x else f"{x:.6g}")
    shown = format_table(table)
    md = (f"# Today's care against Swedish statistics\n\nResults: `{results}`; targets: `{targets_path}`; "
          f"{int(table['replications'].max()) if len(table) else 0} replications, intervention-driven care. "
          "Model: mean [Student-t 95 % interval over replications]; in band: the interval meets the band; "
          "off by: the mean's distance from the nearest band edge, relative to that edge.\n\n"
          + markdown_table(list(shown.columns), shown.itertuples(index=False)))
    written = []
    for name, write in ((VALIDATION_CSV, lambda p: csv.to_csv(p, index=False, lineterminator="\n")),
                        (VALIDATION_MD, lambda p: p.write_text(md, encoding="utf-8")),
                        (LORENZ_CSV, lambda p: lorenz.to_csv(p, index=False, float_format="%.6g",
                                                             lineterminator="\n"))):
        target = results / name
        tmp = target.with_name(f".{name}.partial")
        write(tmp)
        tmp.replace(target)  # atomic: an interrupted write leaves an earlier file whole
        written.append(target)
    return written
