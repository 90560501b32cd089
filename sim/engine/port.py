"""The engine's side of the care port: what a care system may read and do, nothing more.

Implements :class:`sim.care.port.CarePort` on a running :class:`~sim.engine.model.Model`.
The person arrays are read-only views of the model's (they follow its updates), and names
(kinds, providers, details) become the event log's codes here, not in the care layer.
"""

from __future__ import annotations

from sim.domain.events import PR, D, K
from sim.domain.streams import uniforms
from sim.domain.units import DAYS_PER_YEAR


def _read_only(a):
    view = a.view()
    view.flags.writeable = False
    return view


class EnginePort:
    """The running model as a care system sees it (see :class:`sim.care.port.CarePort`).

    ``model``: the :class:`~sim.engine.model.Model` (not imported here: the model imports this).
    """

    def __init__(self, model):
        self._m = model
        self._env = model.env
        self.scenario = model.scenario
        self.stratum = _read_only(model.stratum)
        self.location = _read_only(model.location)
        self.attrs = model.attrs
        self.persons = model.pop.size
        self.horizon = model.horizon
        self.accrue = model.accrue
        self.stratum_of = model._stratum.__getitem__  # the bytearrays behind the views: Python ints
        self.location_of = model._location.__getitem__
        self.in_home_health = model.in_home_health
        self.admissions_last = model.admissions_last
        self.in_special_housing = model.in_special_housing
        self.holds_place = model.holds_place
        self.take_nurse_hours = model.take_nurse_hours

    @property
    def now(self) -> float:
        """The simulation clock (day)."""
        return self._env.now

    @property
    def nurse_coverage(self) -> float:
        """Share of the home health nurses' demanded hours available this week."""
        return self._m.nurse_coverage

    def concept_uniforms(self, person, index):
        """Uniforms of the CONCEPT stream."""
        return uniforms(self._m.concept_key, person, index)

    def book(self, p, t, kind, provider, duration, quantity, detail=""):
        """Record a contact of a concept's own staff (its cost is the staff's yearly cost)."""
        self._m.book(p, t, kind, provider, duration, quantity, D[detail])

    def note(self, p, t, kind, detail="", provider="none", duration=0.0, quantity=0.0, stratum=None):
        """Record an event that costs nothing in itself."""
        self._m.note(p, t, kind, D[detail], provider, duration, quantity, stratum)

    def staffed(self, provider, t, days):
        """Record ``days`` of a concept's staffed time from ``t`` (its fixed cost, priced after the run)."""
        m = self._m
        m.rec.record(-1, t, K["fixed_cost"], PR[provider], m.payer[provider], days,
                     days / DAYS_PER_YEAR, 0, 0)

    def later(self, delay, fn, *args):
        """Call ``fn(*args)`` after ``delay`` days."""
        self._env.timeout(delay).callbacks.append(lambda _e: fn(*args))

