"""Units of time (the model's clock is in days) and the age at which the model's population starts."""

DAYS_PER_YEAR = 365.25
DAYS_PER_WEEK = 7.0
MINUTES_PER_HOUR = 60.0

#: Persons enter the model at this age (years): the population is persons 65+.
AGE_FLOOR_YEARS = 65.0
