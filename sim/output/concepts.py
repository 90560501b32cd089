"""Service-concept figures from the event log: caseloads, list sizes, refusals.

Enrolment rows carry ``time`` = start and ``duration`` = days enrolled, so a mean caseload is
the enrolled person-days overlapping the measured period divided by its length.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CASELOADS = {
    "mobile_team_caseload": "team_enrol",
    "palliative_team_caseload": "palliative_enrol",
    "home_physician_list": "physician_list",
    "safe_discharge_caseload": "safe_discharge",
}
UNITS = {
    "mobile_team_caseload": "mean persons enrolled at once",
    "palliative_team_caseload": "mean persons enrolled at once",
    "home_physician_list": "mean persons listed",
    "safe_discharge_caseload": "mean persons in the team's period at once",
    "mobile_team_full_share": "share of eligible referrals that found the team full",
}
REFUSED = ("full", "queued")


class ConceptAccumulator:
    """Sums over event-log chunks of one replication and paradigm."""

    def __init__(self, warmup: float, horizon: float):
        self.warmup, self.horizon = warmup, horizon
        self.days = {m: 0.0 for m in CASELOADS}
        self.referrals = 0
        self.refused = 0

    def add(self, table: pa.Table) -> None:
        """Add one chunk."""
        kind = pc.cast(table["kind"], pa.string())
        detail = pc.cast(table["detail"], pa.string())
        for metric, k in CASELOADS.items():
            rows = table.filter(pc.and_(pc.equal(kind, k), pc.not_equal(detail, "full")))
            if rows.num_rows:
                t0 = rows["time"].to_numpy()
                t1 = t0 + rows["duration"].to_numpy()
                overlap = np.minimum(t1, self.horizon) - np.maximum(t0, self.warmup)
                self.days[metric] += float(np.clip(overlap, 0, None).sum())
        ref = table.filter(pc.and_(pc.equal(kind, "team_referral"),
                                   pc.greater_equal(table["time"], self.warmup)))
        if ref.num_rows:
            self.referrals += ref.num_rows
            d = pc.cast(ref["detail"], pa.string())
            self.refused += int(pc.sum(pc.is_in(d, pa.array(REFUSED))).as_py() or 0)

    def result(self) -> dict[str, float]:
        """Mean caseloads over the measured period and the share of referrals refused."""
        length = self.horizon - self.warmup
        out = {m: d / length for m, d in self.days.items()}
        out["mobile_team_full_share"] = self.refused / self.referrals if self.referrals else 0.0
        return out
