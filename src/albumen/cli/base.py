"""What every command shares: the command groups, output and the settings in force."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import typer

from albumen.config import Settings

if TYPE_CHECKING:
    from rich.console import Console

USER_ERROR = 2  # the exit status of a mistake in what was asked (a traceback is a bug)

app = typer.Typer(help="Albumen: a self-hosted photo library.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)
db_app = typer.Typer(help="Look into the database.", no_args_is_help=True)
tiers_app = typer.Typer(help="Storage tiers of originals: costs, moves.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(tiers_app, name="tiers")


@cache
def console() -> Console:
    """Where output goes (rich is imported on first use: a tenth of a second)."""
    from rich.console import Console

    return Console()


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def settings() -> Settings:
    """The settings in force, with logging set up as they say."""
    from albumen.logs import setup_logging

    found = Settings.from_environment()
    setup_logging(found.log_level, found.log_json)
    return found


def say(line: str) -> None:
    """A line of output as it is: never wrapped or coloured by the terminal's width."""
    console().print(line, soft_wrap=True, highlight=False, markup=False)


def fail(message: str, status: int = USER_ERROR) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``Exit`` to raise."""
    err_console().print(f"error: {message}", highlight=False, markup=False)
    return typer.Exit(status)


def size(count: int) -> str:
    return f"{count / 1e9:.2f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


@contextmanager
def byte_progress(what: str) -> Iterator[Callable[[int], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn(what), BarColumn(), TextColumn("{task.fields[gb]:.2f} GB"))
    with Progress(*columns, TimeElapsedColumn(), console=err_console()) as bar:
        task = bar.add_task(what, total=None, gb=0.0)

        def progress(done: int) -> None:
            bar.update(task, gb=bar.tasks[0].fields["gb"] + done / 1e9)

        yield progress
