"""Declarations of service-concept metrics, computed from the event log by the measurement code.

A concept declares its metrics with these; :mod:`sim.output.concepts` computes them, so no
concept computes a statistic and no statistic is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caseload:
    """Mean persons enrolled at once: enrolment rows of ``kind`` (time = start, duration = days).

    Rows with detail ``full`` (a refusal recorded with the enrolment kind) are not enrolments.
    """

    kind: str
    unit: str


@dataclass(frozen=True)
class RefusedShare:
    """Share of ``kind`` rows in the measured period whose detail is one of ``refused``."""

    kind: str
    refused: tuple[str, ...]
    unit: str


@dataclass(frozen=True)
class StaffFigure:
    """A staffed concept's figure written at its start: a ``staff_time`` row of ``detail`` (its quantity).

    ``capacity`` (persons it may hold at once) or ``staff_capacity`` (what its staff time alone allows).
    """

    provider: str
    detail: str
    unit: str


@dataclass(frozen=True)
class StaffLimitShare:
    """Share of acute home visits refused for lack of staff time in the measured period.

    ``staff_limit`` rows of ``provider`` over those plus its visit rows of ``visit_kind`` with ``home_detail``.
    """

    provider: str
    visit_kind: str
    home_detail: str
    unit: str


@dataclass(frozen=True)
class PerYear:
    """Rows of ``kind`` of ``provider`` (detail one of ``details`` if given) in the measured period, per year."""

    kind: str
    provider: str
    details: tuple[str, ...]
    unit: str


@dataclass(frozen=True)
class Unserved:
    """Persons per year with an eligible referral in the measured period who were not enrolled by its end.

    Referrals are ``referral_kind`` rows of ``provider``; served means an ``enrol_kind`` row
    starting at or after the person's first such referral.
    """

    referral_kind: str
    enrol_kind: str
    provider: str
    unit: str


@dataclass(frozen=True)
class WeeklyHours:
    """Mean hours a week over the measured period: the quantity of ``kind`` rows of ``provider`` with ``detail``.

    Each row holds the hours of its ``duration`` days (a week's demand); rows overlapping the
    period count pro rata.
    """

    kind: str
    provider: str
    detail: str
    unit: str


@dataclass(frozen=True)
class Waiting:
    """Waits on a waiting list: ``waiting`` rows of ``provider`` (time = start, duration = days waited).

    ``stat``: ``person_days`` (days waited inside the measured period, per year), ``mean`` or
    ``p90`` (days, over the waits that started in the measured period).
    """

    provider: str
    stat: str
    unit: str
