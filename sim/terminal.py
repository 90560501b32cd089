"""The terminal the commands write to: the results console, the error console and the one-line failure."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

# Piped output gets a fixed width so tables do not wrap at the shell's default 80.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """Print one ``error:`` line on standard error and exit with ``code``."""
    # soft_wrap: one problem stays one line (for grep and for CI logs); escape: messages
    # quote user input, which may contain [brackets].
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)
