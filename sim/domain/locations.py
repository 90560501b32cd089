"""Where a person is (codes of the running model's ``location`` array)."""

NOT_ENTERED, HOME, HOSPITAL, SHORT_TERM, DEAD = range(5)
SPECIAL_HOUSING = 5  #: living permanently in special housing (särskilt boende), issue 14
