"""Moved to :mod:`sim.engine.model`; this name stays while other modules still import it."""

from sim.engine.model import Model

__all__ = ["Model"]
