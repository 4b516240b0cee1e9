"""The ``albumen`` command: serve, worker, import, users, migrate, config."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from albumen.adapters.db.engine import make_engine, migrate
from albumen.adapters.queue import run_consumer
from albumen.app import build_services, start_background_work
from albumen.config import Settings
from albumen.domain.errors import AlbumenError
from albumen.logs import setup_logging
from albumen.services.importer import Importer, ImportReport, Reader

app = typer.Typer(help="Albumen: a self-hosted photo library.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")
console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    settings = Settings()
    setup_logging(settings.log_level, settings.log_json)
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides ALBUMEN_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides ALBUMEN_PORT.")] = None,
) -> None:
    """Start the web server (and, by default, the job workers inside it)."""
    import uvicorn  # imported here: only this command needs the web stack

    from albumen.web import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker(
    workers: Annotated[int, typer.Option(help="Worker processes.")] = os.cpu_count() or 1,
) -> None:
    """Run job workers in the foreground (set ALBUMEN_RUN_WORKERS_IN_SERVER=false on serve)."""
    services = build_services(_settings())
    start_background_work(services)
    services.engine.dispose()  # forked workers must open their own database connections
    run_consumer(services.queue.huey, workers, "process")


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders, searched recursively.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Who the photos belong to.")],
    jobs: Annotated[int, typer.Option(help="Files stored in parallel.")] = 4,
    process: Annotated[
        bool, typer.Option(help="Also run the metadata and thumbnail jobs before returning.")
    ] = False,
) -> None:
    """Import photos from disk. Skips files already stored, so a re-run resumes."""
    services = build_services(_settings())
    try:
        owner = services.users.by_name(user)
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(2) from err
    importer = Importer(services.photos, owner.id)
    files = sorted(_discover(paths))
    report = ImportReport()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console) as bar, ThreadPoolExecutor(jobs) as pool:
        task = bar.add_task("importing", total=len(files))
        futures = {
            pool.submit(importer.import_one, f.name, f.stat().st_size, _reader(f)): f for f in files
        }
        for future in as_completed(futures):
            report.add(str(futures[future]), future.result())
            bar.advance(task)
    if process:
        with console.status("processing"):
            services.queue.run_pending()
    _print_report(report)
    raise typer.Exit(1 if report.failed else 0)


def _discover(paths: list[Path]) -> set[Path]:
    """Regular files under the paths, hidden files and folders left out."""
    found = set()
    for root in paths:
        if root.is_file():
            found.add(root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            folder = Path(dirpath)
            found.update(folder / f for f in filenames if not f.startswith("."))
    return {path for path in found if path.is_file()}


def _reader(path: Path) -> Reader:
    def read() -> Iterator[bytes]:
        with path.open("rb") as file:
            while chunk := file.read(1024 * 1024):
                yield chunk

    return read


def _print_report(report: ImportReport) -> None:
    console.print(
        f"imported {report.imported}, duplicates {report.duplicates}, "
        f"failed {len(report.failed)} ({report.megabytes:.1f} MB in {report.seconds:.1f} s)"
    )
    for path, reason in sorted(report.failed):
        console.print(f"failed: {path}: {reason}", soft_wrap=True, highlight=False)


@users_app.command("add")
def users_add(name: str) -> None:
    """Create a user and print their first API key (shown once)."""
    services = build_services(_settings())
    try:
        created = services.users.add(name)
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(1) from err
    print(created.secret)


@users_app.command("key")
def users_key(name: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Print a new API key for an existing user."""
    print(build_services(_settings()).users.add_key(name, label).secret)


@users_app.command("password")
def users_password(
    name: str, password: Annotated[str, typer.Option(prompt=True, hide_input=True)]
) -> None:
    """Set a user's password (stored as an argon2 hash)."""
    build_services(_settings()).users.set_password(name, password)
    print("password set")


@app.command("migrate")
def migrate_() -> None:
    """Bring the database schema to the newest version."""
    migrate(make_engine(_settings().effective_database_url))
    print("database is up to date")


@app.command()
def analyze(
    all_: Annotated[
        bool, typer.Option("--all", help="Every photo, also those the models already saw.")
    ] = False,
    missing: Annotated[
        bool, typer.Option("--missing", help="Photos the current models have not analysed.")
    ] = False,
) -> None:
    """Find faces, tags and likeness in photos, here and now (after a model update)."""
    if all_ == missing:
        err_console.print("error: say --all or --missing")
        raise typer.Exit(2)
    services = build_services(_settings())
    columns = (TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task("analysing", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        count = services.analysis.analyze_all(all_, progress)
    print(f"analysed {count} photos")


@app.command()
def sweep() -> None:
    """Remove unreferenced blobs older than the grace period, and expired uploads."""
    services = build_services(_settings())
    removed = services.sweep.sweep_blobs()
    expired = services.sweep.expire_uploads()
    print(f"removed {removed} unreferenced blobs and {expired} expired uploads")


@config_app.command("show")
def config_show() -> None:
    """Print the settings in force, with secrets masked."""
    print(json.dumps(Settings().masked(), indent=2))


def main() -> None:
    app()
