"""The workshop app (``narvard app``): a Streamlit front end on the same scenario objects as the CLI.

:mod:`sim.app.logic` holds everything the pages compute (no Streamlit in it, so it is tested
directly); :mod:`sim.app.streamlit_app` is the Streamlit script; :mod:`sim.app.command` starts it
and exports the vidigi event log.
"""
