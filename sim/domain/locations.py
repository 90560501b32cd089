"""Where a person is (codes of the running model's ``location`` array)."""

NOT_ENTERED, HOME, HOSPITAL, SHORT_TERM, DEAD = range(5)
