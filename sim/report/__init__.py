"""The leadership report: one self-contained HTML file built from a results folder.

:mod:`sim.report.data` reads and reduces a results folder, :mod:`sim.report.figures` turns
DataFrames into plotly figures, :mod:`sim.report.sections` lists the report's sections (each
a function that builds its part or says what it still lacks), :mod:`sim.report.build` writes
the file and :mod:`sim.report.command` is ``narvard report``.
"""
