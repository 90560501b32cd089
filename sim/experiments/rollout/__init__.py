"""Rollout over a region (issue 18): areas, a schedule, teams that live or die, each payer's money by year."""
