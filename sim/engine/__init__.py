"""The simulation engine: the driver, hospital pathway, routine volume, nurse time, resources, recorder.

One replication of one care system on one population (:class:`Model`); the care system
decides, the engine runs what it decides and writes the event log.
"""

from sim.engine.model import Model
from sim.engine.recorder import Recorder

__all__ = ["Model", "Recorder"]
