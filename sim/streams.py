"""Moved to :mod:`sim.domain.streams`; this name stays while other modules still import it."""

from sim.domain.streams import Stream, replication_seed, stream_key, uniform, uniforms

__all__ = ["Stream", "replication_seed", "stream_key", "uniform", "uniforms"]
