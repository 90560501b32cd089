"""Moved to :mod:`sim.engine.recorder` (codes to :mod:`sim.domain.events`); re-exported here.

These names stay while the results, summary and measurement modules still import them here.
"""

from sim.domain.events import DETAILS, KINDS, PAYERS, PR, PROVIDERS, PY, D, K
from sim.engine.recorder import COLUMN_DOC, SCHEMA, WRITER_OPTIONS, Recorder, open_sink

__all__ = ["COLUMN_DOC", "DETAILS", "KINDS", "PAYERS", "PR", "PROVIDERS", "PY", "SCHEMA", "WRITER_OPTIONS",
           "D", "K", "Recorder", "open_sink"]
