"""The event log's vocabulary: kinds, providers, payers and details, with their codes.

A row of the event log stores each of these as a small integer (its index here) and the
Parquet file as a dictionary column, so the order is part of the file format: append, never
reorder. A service concept that brings new words adds them with :func:`extend` when it
registers (the lists are extended in place, so every module that imported them sees them).
"""

from __future__ import annotations

KINDS = [
    # health events (the exogenous trajectory and care-dependent relapses)
    "enter", "stratum_change", "deterioration", "death",
    # care contacts
    "ed_visit", "admission", "delayed_discharge", "short_term_care",
    "outpatient_visit", "primary_care_visit", "home_health_visit", "home_help",
    # service concepts of individstyrning
    "team_referral", "team_enrol", "team_discharge", "team_visit",
    "palliative_enrol", "palliative_visit", "physician_list", "physician_unlist", "physician_visit",
    "safe_discharge", "safe_discharge_visit", "fixed_cost",
    # nurse time (weekly)
    "nurse_demand_hours", "nurse_available_hours", "nurse_lost_hours",
    # delayed-discharge payment (law 2017:612): a transfer, municipality -> region (issue 14)
    "discharge_payment", "discharge_payment_received",
    # special housing (särskilt boende, issue 14): resident-days, the wait for a place, the place held
    "special_housing", "special_housing_wait", "special_housing_place",
    # staffed service concepts (issue 15): weekly staff time, a refusal for lack of it, waiting lists
    "staff_time", "staff_limit", "waiting", "wait_expired", "aftercare",
]
PROVIDERS = [
    "none", "hospital", "ed", "outpatient", "primary_care", "home_health", "home_help",
    "short_term_care", "mobile_team", "palliative_team", "home_physician", "safe_discharge",
    "special_housing",
]
#: Who pays (huvudman): the region (hospital, primary care) or the municipality (home care).
PAYERS = ("none", "region", "municipality")
DETAILS = [
    "", "needs_bed", "needs_assessment", "minor", "relapse", "in_care", "prevented",
    "acute", "routine", "followup", "censored", "direct", "via_ed",
    "home", "hospital", "short_term_care", "team_home", "plan_nurse", "plan_ed",
    "accepted", "full", "not_eligible", "queued", "stabilised", "time_limit", "died",
    "physician_home", "palliative_home", "safe_discharge_home",
    # special housing (issue 14)
    "special_housing", "granted",
    # staffed service concepts (issue 15)
    "capacity", "staff_capacity", "available", "enrolled", "expired", "target_length",
    # planned (elective) admissions (issue 14)
    "planned",
]
K = {name: i for i, name in enumerate(KINDS)}
PR = {name: i for i, name in enumerate(PROVIDERS)}
PY = {name: i for i, name in enumerate(PAYERS)}
D = {name: i for i, name in enumerate(DETAILS)}


def extend(kinds=(), providers=(), details=()) -> list[tuple[list[str], dict[str, int], str]]:
    """Add the words not known yet; return what was added (for :func:`retract`)."""
    added = []
    for words, codes, new in ((KINDS, K, kinds), (PROVIDERS, PR, providers), (DETAILS, D, details)):
        for w in new:
            if w not in codes:
                codes[w] = len(words)
                words.append(w)
                added.append((words, codes, w))
    return added


def retract(added: list[tuple[list[str], dict[str, int], str]]) -> None:
    """Undo :func:`extend` (a test's concept that is unregistered again); last added first."""
    for words, codes, w in reversed(added):
        if words and words[-1] == w:
            words.pop()
            del codes[w]
