"""Global sensitivity analysis (``narvard sensitivity``): which unpinned assumption moves the answer.

One-at-a-time ranges (a tornado), Morris screening of every assumption, then Sobol indices
(first-order and total, bootstrap intervals) for the few that matter, all on common random
numbers: every design point runs the same replication seeds, so the same persons with the same
health trajectories (SALib for the designs and the analyses).
"""
