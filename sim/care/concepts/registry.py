"""The registry of service concepts: what the care system, switch-off, the summary and the benchmarks enumerate."""

from __future__ import annotations

from sim.care.concepts.base import Concept
from sim.config.concepts import register_section, unregister_section
from sim.domain import events

#: Registered concepts by name, in registration order.
REGISTRY: dict[str, type[Concept]] = {}
_ADDED: dict[str, list] = {}


def register(cls: type[Concept]) -> type[Concept]:
    """Register a concept class (use as a class decorator in the concept's module).

    Its scenario section becomes required and validated; its kinds, provider and details join
    the event log's vocabulary (appended: existing codes never move).
    """
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"concept {cls.__name__}: name {cls.name!r} missing or already registered")
    register_section(cls.name, cls.Params)
    visit = cls.home_visit or ()
    _ADDED[cls.name] = events.extend(kinds=(*cls.kinds, *visit[1:]), providers=(cls.provider,),
                                     details=(*cls.details, *visit[:1]))
    REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a concept again (a test's concept); its words leave the vocabulary if last added."""
    REGISTRY.pop(name, None)
    unregister_section(name)
    events.retract(_ADDED.pop(name, []))


def metrics() -> dict:
    """Every registered concept's metric declarations, by metric name, in registration order."""
    return {name: m for cls in REGISTRY.values() for name, m in cls.metrics.items()}
