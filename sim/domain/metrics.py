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
