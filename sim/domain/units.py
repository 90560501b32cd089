"""Units of time: the model's clock is in days."""

DAYS_PER_YEAR = 365.25
DAYS_PER_WEEK = 7.0
