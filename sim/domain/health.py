"""Health events of the exogenous trajectory and the acuity of a deterioration (codes)."""

ENTER, STRATUM_CHANGE, DETERIORATION, DEATH = 0, 1, 2, 3
HEALTH_KINDS = ("enter", "stratum_change", "deterioration", "death")
NEEDS_BED, NEEDS_ASSESSMENT, MINOR = 0, 1, 2
ACUITY = ("needs_bed", "needs_assessment", "minor")
