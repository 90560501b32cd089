"""The data dictionary of a results folder: what each column, kind and detail of the event log means.

Built from the code's own vocabulary (:mod:`sim.domain.events` and the event schema), so a
kind or detail added there without a meaning here fails the tests instead of going unexplained.
It is written twice: into the key-value metadata of ``events.parquet`` (the file explains
itself wherever it is copied) and as ``data_dictionary.md`` beside it. Both hold nothing that
varies between runs of the same scenario (no dates, paths or versions), so results stay
byte-identical.

Warm-up rows stay in ``events.parquet`` (a person's history, a timeline, a cohort's "before"
period need them); :func:`read_measured_events` keeps them out unless asked.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.domain.events import DETAILS, KINDS, PAYERS, PROVIDERS
from sim.domain.units import DAYS_PER_YEAR
from sim.engine.recorder import COLUMN_DOC, SCHEMA

DICTIONARY_FILE = "data_dictionary.md"
#: Keys of the Parquet key-value metadata (bytes, as Parquet stores them).
META_DICTIONARY, META_WARMUP, META_HORIZON = b"narvard.data_dictionary", b"narvard.warmup_day", b"narvard.horizon_day"

#: kind -> (what the row is, what ``quantity`` counts, what ``duration`` is).
KIND_DOC: dict[str, tuple[str, str, str]] = {
    "enter": ("a person enters the area's 65+ population (at the start, turning 65 or moving in)", "none (0)", "0"),
    "stratum_change": ("the person's need stratum changes (the row's stratum is the new one)", "none (0)", "0"),
    "deterioration": ("an acute deterioration of health; detail: what it needs", "none (0)", "0"),
    "death": ("the person dies; detail: where", "none (0)", "0"),
    "ed_visit": ("a visit to the emergency department", "visits (1)", "0"),
    "admission": ("a hospital stay, from arrival to discharge", "bed-days (days in a bed)",
                  "days from arrival to discharge, a wait for a bed included"),
    "delayed_discharge": ("days in hospital after being ready for discharge (utskrivningsklar), waiting for "
                          "the provider named (short-term care or home help); not priced: the bed-days are "
                          "the admission row's", "days", "days"),
    "short_term_care": ("a stay in a short-term place (korttidsplats)", "days", "days"),
    "outpatient_visit": ("hospital outpatient visits: routine volume accrued over an interval, or one follow-up",
                         "visits (expected count over the interval for routine rows)", "days of the interval"),
    "primary_care_visit": ("primary care visits: routine volume accrued over an interval, or one acute visit",
                           "visits (expected count for routine rows)", "days of the interval"),
    "home_health_visit": ("municipal home health care nurse visits: routine volume accrued over an interval, or "
                          "one acute visit", "visits (expected count for routine rows)", "days of the interval"),
    "home_help": ("home help (hemtjänst) granted over an interval", "hours", "days of the interval"),
    "team_referral": ("a referral to the mobile närsjukvårdsteam; detail: accepted, full or queued", "none (0)", "0"),
    "team_enrol": ("an enrolment in the mobile team, written when it ends; detail: why it ended",
                   "persons (1)", "days enrolled"),
    "team_discharge": ("never written by this version: the end of an enrolment is the team_enrol row's "
                       "duration and detail (kept in the vocabulary so later codes keep their numbers)", "-", "-"),
    "team_visit": ("mobile team home visits: routine visits accrued over the enrolment, a home visit for a "
                   "deterioration, or a deterioration it prevented", "visits (expected count for routine rows; "
                   "0 for prevented)", "days of the interval"),
    "palliative_enrol": ("an enrolment with the palliative team, written when it ends; detail: why it ended, "
                         "or full (refused)", "persons (1; 0 when refused)", "days enrolled"),
    "palliative_visit": ("a palliative team home visit for a deterioration, or a deterioration it prevented",
                         "visits (1; 0 for prevented)", "0"),
    "physician_list": ("a listing with the home-care physician, written when it ends; detail: why it ended",
                       "persons (1)", "days listed"),
    "physician_unlist": ("never written by this version: the end of a listing is the physician_list row's "
                         "duration and detail (kept in the vocabulary so later codes keep their numbers)", "-", "-"),
    "physician_visit": ("home-care physician visits: routine visits accrued over the listing, a home visit for a "
                        "deterioration, or a deterioration it prevented", "visits (expected count for routine "
                        "rows; 0 for prevented)", "days of the interval"),
    "safe_discharge": ("a period with Trygg hemgång after discharge; detail: how it ended (short_term_care: "
                       "granted at discharge, went to a short-term place instead: 0 days)", "persons (1)",
                       "days in the period"),
    "safe_discharge_visit": ("Trygg hemgång home visits accrued over the period, or a deterioration it prevented",
                             "visits (expected count; 0 for prevented)", "days of the interval"),
    "fixed_cost": ("a service concept's fixed yearly cost (staff), not tied to a person (person -1)",
                   "years (1)", "days (365.25)"),
    "nurse_demand_hours": ("home health nurse hours demanded in one week", "hours", "days (7)"),
    "nurse_available_hours": ("home health nurse hours available for visits in one week", "hours", "days (7)"),
    "nurse_lost_hours": ("home health nurse hours lost to failed coordination (strulfaktorer) in one week",
                         "hours", "days (7)"),
    "discharge_payment": ("the municipality's payment to the region for delayed-discharge days after the free "
                          "days (law 2017:612), from when it starts; the provider is what the person waited "
                          "for, the payer the municipality: a transfer, not a resource", "days paid", "days paid"),
    "special_housing": ("days living in special housing (särskilt boende), accrued over an interval (split at the "
                        "warm-up end); a resident in hospital is not here", "resident-days", "days of the interval"),
    "special_housing_wait": ("a wait for a place in special housing, from the needs assessment to the place, "
                             "written when it ends; detail: granted, died or censored", "persons (1)", "days waited"),
    "special_housing_place": ("a place in special housing held, from day 0 (a resident at the start) or the grant, "
                              "written when it ends (detail: died or censored); held through hospital stays",
                              "places (1)", "days held"),
    "discharge_payment_received": ("the region's side of a discharge_payment row (same days, priced negative: "
                                   "the pair sums to zero in the total cost)", "days paid", "days paid"),
    "staff_time": ("a staffed concept's time (person -1; provider: the concept); detail available: its patient "
                   "hours of one week; acute: the part left for acute home visits; capacity / staff_capacity (at "
                   "its start): persons it may hold at once / its staff time alone allows; followup (provider "
                   "home_health): the home health nurse hours the närsjukvårdsteam's plans take that week",
                   "hours (available, acute, followup) or persons (capacity, staff_capacity)",
                   "days of the week (7), or 0"),
    "staff_limit": ("an acute home visit the concept could not make: its staff time of the week was spent "
                    "(the deterioration went today's way)", "none (0)", "0"),
    "waiting": ("a wait on a concept's waiting list, written when it ends; detail: how it ended (enrolled, "
                "expired, died, not_eligible, censored)", "none (0)", "days waited"),
    "aftercare": ("a follow-up under the närsjukvårdsteam's plan by a home health nurse after the team's discharge, "
                  "written when it ends (detail: why), or full (no place) or no_nurse_time (the nurses' week had "
                  "no spare hours): quantity 0", "persons (1; 0 when refused)",
                  "days followed"),
    "wait_expired": ("the maximum wait was reached: the person leaves the waiting list for ordinary care",
                     "none (0)", "0"),
}

DETAIL_DOC: dict[str, str] = {
    "": "none",
    "needs_bed": "deterioration that needs a hospital bed",
    "needs_assessment": "deterioration that needs a physician's assessment",
    "minor": "deterioration that primary care or the home health nurse can handle",
    "relapse": "deterioration after a discharge (care-dependent relapse)",
    "in_care": "deterioration while in hospital or short-term care",
    "prevented": "a deterioration met before it needed the ED (no contact, quantity 0)",
    "acute": "an unplanned contact",
    "routine": "planned volume accrued over the row's interval",
    "followup": "a follow-up visit after a stay",
    "censored": "still running at the end of the run (duration cut at the horizon)",
    "direct": "admitted directly, without the ED (direktinläggning)",
    "via_ed": "through the emergency department",
    "planned": "a planned (elective) admission, direct without the ED",
    "home": "at home",
    "hospital": "in hospital",
    "short_term_care": "in short-term care",
    "team_home": "treated at home by the mobile team",
    "plan_nurse": "out of hours: handled by the nurse with the team's plan",
    "plan_ed": "out of hours: sent to the ED under the team's plan",
    "hospital_at_home": "an admission of an enrolled person treated at home by the mobile team instead "
                        "(hospital at home; team_visit: its first or all visits; staff_limit: no time for it)",
    "hospital_at_home_followup": "a further team visit of a hospital-at-home episode (made if the person is at home)",
    "accepted": "referral accepted: enrolled",
    "full": "refused: the caseload or list was full",
    "not_eligible": "ended: no longer meets the criteria",
    "queued": "referral put on the waiting list (only with queue_when_full)",
    "stabilised": "ended: the person stabilised",
    "time_limit": "ended: the longest enrolment was reached",
    "died": "ended: the person died",
    "physician_home": "treated at home by the home-care physician",
    "palliative_home": "treated at home by the palliative team",
    "safe_discharge_home": "treated at home by the nurse Trygg hemgång alerts",
    "special_housing": "in special housing (särskilt boende): a death there, or a nurse or physician contact there",
    "granted": "a place in special housing was granted (the wait ended)",
    "capacity": "staff_time at the start: persons the concept may hold at once (the lower of staff time and cap)",
    "staff_capacity": "staff_time at the start: persons the concept's staff time alone allows at once",
    "available": "staff_time: the concept's patient hours of the week",
    "enrolled": "wait ended: a place was free and the person was next (highest need score; the physician: "
                "the longest wait)",
    "expired": "wait ended: the maximum wait was reached; back to ordinary care",
    "target_length": "ended: the target enrolment length was reached while someone waited",
    "no_nurse_time": "aftercare refused: the home health nurses' week had no spare hours for the plan's visits",
}


def warmup_rule(warmup_day: float, horizon_day: float) -> str:
    """State the warm-up rule of a run in words."""
    return (f"Rows with time < {warmup_day:g} (the warm-up, {warmup_day / DAYS_PER_YEAR:g} years) are kept in "
            f"events.parquet but left out of summary.csv: a metric counts a contact at its start, in "
            f"[{warmup_day:g}, {horizon_day:g}) days; bed occupancy and caseloads count only the days that "
            f"overlap that period. Sum rows with time >= {warmup_day:g} to match summary.csv, or read them with "
            "sim.output.dictionary.read_measured_events (include_warmup=False by default).")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(x: str) -> str:
        return str(x).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(esc(c) if c != "" else "" for c in r) + " |" for r in rows]) + "\n"


def data_dictionary_md(warmup_day: float, horizon_day: float) -> str:
    """Write out the data dictionary as markdown: columns, kinds with their quantity's unit, details, warm-up."""
    columns = [[f"`{f.name}`", str(f.type).replace("dictionary<values=string, indices=int8, ordered=0>", "string"),
                COLUMN_DOC.get(f.name, "")] for f in SCHEMA]
    kinds = [[f"`{k}`", *KIND_DOC[k]] for k in KINDS]
    details = [[f"`{d}`" if d else "(empty)", DETAIL_DOC[d]] for d in DETAILS]
    return (
        "# events.parquet: data dictionary\n\n"
        "One row per care contact, state change or concept event, for each replication and care system "
        "(paradigm). Times and durations are in days since the start of the run. Rows carry quantities, "
        "not costs: prices are applied after the run (`narvard reprice`, prices in SEK).\n\n"
        "## Warm-up\n\n" + warmup_rule(warmup_day, horizon_day) + "\n\n"
        "## Columns\n\n" + _md_table(["column", "type", "meaning"], columns) + "\n"
        "## Kinds\n\n" + _md_table(["kind", "what the row is", "quantity", "duration"], kinds) + "\n"
        "## Details\n\n" + _md_table(["detail", "meaning"], details) + "\n"
        f"Providers: {', '.join(PROVIDERS)}. Payers (huvudman): {', '.join(PAYERS)}.\n"
    )


def parquet_metadata(warmup_day: float, horizon_day: float) -> dict[bytes, bytes]:
    """Key-value metadata for ``events.parquet``: the dictionary and the measured window."""
    return {META_DICTIONARY: data_dictionary_md(warmup_day, horizon_day).encode(),
            META_WARMUP: json.dumps(warmup_day).encode(), META_HORIZON: json.dumps(horizon_day).encode()}


def write_dictionary(folder: Path | str, warmup_day: float, horizon_day: float) -> Path:
    """Write ``data_dictionary.md`` into a results folder (the folder's writer makes it atomic)."""
    path = Path(folder) / DICTIONARY_FILE
    path.write_text(data_dictionary_md(warmup_day, horizon_day), encoding="utf-8")
    return path


def read_measured_events(folder: Path | str, include_warmup: bool = False, columns: list[str] | None = None):
    """Read the event log of a results folder; without ``include_warmup`` only rows of the measured period.

    Sums over the returned rows match ``summary.csv``'s counting rule (a contact counts at its start).
    The rows are priced (a ``cost`` column, SEK at the run's own prices).
    """
    from sim.output.costs import read_priced_events as read_events
    from sim.output.results import read_manifest

    folder = Path(folder)
    if include_warmup:
        return read_events(folder, columns)
    sim = read_manifest(folder)["scenario"]["simulation"]
    warmup = float(sim["warmup_years"]) * DAYS_PER_YEAR
    cols = None if columns is None else list(dict.fromkeys([*columns, "time"]))
    events = read_events(folder, cols)
    events = events[events["time"] >= warmup].reset_index(drop=True)
    return events if columns is None else events[columns]
