"""The ``albumen`` command: serve, worker, import, users, migrate, config."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from albumen.adapters.backup import LocalBackupArchive
from albumen.adapters.db.engine import make_engine
from albumen.adapters.db.monitor import SlowQuery
from albumen.adapters.queue import run_consumers
from albumen.adapters.system import SystemClock
from albumen.app import (
    Services,
    backup_service,
    blob_stores,
    build_services,
    open_database,
    secret_key,
    start_background_work,
)
from albumen.config import Settings
from albumen.domain.durability import Problem, ScrubReport
from albumen.domain.errors import AlbumenError
from albumen.domain.jobs import Queue
from albumen.domain.search import SearchFilters, SearchOrder
from albumen.logs import setup_logging
from albumen.services.importer import Importer, ImportReport, Reader

app = typer.Typer(help="Albumen: a self-hosted photo library.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users and their API keys.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)
db_app = typer.Typer(help="Look into the database.", no_args_is_help=True)
tiers_app = typer.Typer(help="Storage tiers of originals: costs, moves.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(tiers_app, name="tiers")
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
    workers: Annotated[int | None, typer.Option(help="Overrides ALBUMEN_API_WORKERS.")] = None,
) -> None:
    """Start the web server (and, by default, the job workers inside it).

    With several API workers, each is a process of its own with its own connections; the
    schema is migrated here once, before they start, and their metrics are summed
    (prometheus_client's multiprocess mode). SIGTERM lets the requests under way finish
    (for up to ALBUMEN_SHUTDOWN_GRACE_SECONDS) and the job workers finish their task."""
    import uvicorn  # imported here: only this command needs the web stack

    settings = _settings()
    processes = workers or settings.api_workers
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
    }
    if processes == 1:
        from albumen.web import create_app

        uvicorn.run(create_app(settings), **options)
        return
    open_database(settings).dispose()
    _fresh_metrics_dir(settings)
    uvicorn.run("albumen.web:app_from_environment", factory=True, workers=processes, **options)


def _fresh_metrics_dir(settings: Settings) -> None:
    """An empty folder for the API workers' metrics files, unless one is set already."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = settings.data_dir / "run" / f"metrics-{os.getpid()}"
    shutil.rmtree(folder.parent, ignore_errors=True)  # what earlier runs left
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


@app.command()
def worker(
    workers: Annotated[int, typer.Option(help="Worker processes per queue.")] = os.cpu_count() or 1,
    queues: Annotated[
        str, typer.Option(help="The queues to work on, by name, comma-separated.")
    ] = ",".join(Queue),
) -> None:
    """Run job workers in the foreground (set ALBUMEN_RUN_WORKERS_IN_SERVER=false on serve).

    Queues: media (metadata and thumbnails), analysis (the models), upkeep (sweeps, sidecars,
    tier moves, recovery). Give the models machines of their own with ``--queues analysis``."""
    try:
        chosen = [Queue(name.strip()) for name in queues.split(",") if name.strip()]
    except ValueError as err:
        err_console.print(f"error: {err}; the queues are {', '.join(Queue)}")
        raise typer.Exit(2) from err
    services = build_services(_settings())
    start_background_work(services)
    services.engine.dispose()  # forked workers must open their own database connections
    hueys = [services.queue.hueys[queue] for queue in dict.fromkeys(chosen)]
    raise typer.Exit(run_consumers(hueys, workers, "process"))


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
def users_add(
    name: str,
    admin: Annotated[bool, typer.Option(help="May read metrics, dashboard and alerts.")] = False,
) -> None:
    """Create a user and print their first API key (shown once). The first user is an admin."""
    services = build_services(_settings())
    try:
        created = services.users.add(name, admin)
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(1) from err
    if created.user.is_admin:
        err_console.print(f"{name} is an admin")
    print(created.secret)


@users_app.command("admin")
def users_admin(
    name: str, revoke: Annotated[bool, typer.Option(help="Take the right away.")] = False
) -> None:
    """Make a user an admin (or, with --revoke, no longer one)."""
    user = build_services(_settings()).users.set_admin(name, not revoke)
    print(f"{user.name} is {'an admin' if user.is_admin else 'not an admin'}")


@users_app.command("key")
def users_key(name: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Print a new API key for an existing user."""
    print(build_services(_settings()).users.add_key(name, label).secret)


@users_app.command("passwd")
def users_passwd(
    name: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password for the web app (an argon2 hash); signs them out everywhere."""
    ended = build_services(_settings()).users.set_password(name, password)
    print(f"password set; {ended} signed-in session{'s' if ended != 1 else ''} ended")


users_app.command("password", hidden=True)(users_passwd)  # the name it had before


@app.command("migrate")
def migrate_() -> None:
    """Bring the database schema to the newest version."""
    open_database(_settings()).dispose()
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


@app.command()
def scrub(
    repair: Annotated[
        bool, typer.Option(help="Mend what can be mended (from the mirror, or by re-making).")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--json", help="Also write the full report here, as JSON.")
    ] = None,
) -> None:
    """Re-hash every blob and check the database and the store(s) against each other.

    Exits 1 when something is wrong that was not repaired.
    """
    services = build_services(_settings())
    with _byte_progress("scrubbing") as progress:
        result = services.scrub.scrub(repair=repair, progress=progress)
    _print_scrub(result)
    if report is not None:
        report.write_text(json.dumps(scrub_json(result), indent=2) + "\n")
    raise typer.Exit(1 if result.unrepaired else 0)


def scrub_json(result: ScrubReport) -> dict[str, Any]:
    return {
        "started_at": result.started_at.isoformat() + "Z",
        "seconds": round(result.seconds, 3),
        "referenced": result.referenced,
        "hashed_blobs": result.hashed_blobs,
        "hashed_bytes": result.hashed_bytes,
        "findings": [
            {
                "sha256": f.sha256,
                "store": f.store,
                "problem": f.problem.value,
                "holders": [{"photo_id": h.photo_id, "role": h.role} for h in f.holders],
                "repair": f.repair,
            }
            for f in result.findings
        ],
        "unrepaired": len(result.unrepaired),
    }


def _print_scrub(result: ScrubReport) -> None:
    rate = result.bytes_per_second * 60 / 1e9
    _say(
        f"checked {result.referenced} referenced blobs: hashed {result.hashed_blobs} copies, "
        f"{_bytes(result.hashed_bytes)} in {result.seconds:.1f} s ({rate:.2f} GB/min)"
    )
    if not result.findings:
        _say("everything is in order")
        return
    table = Table("problem", "store", "blob", "held by", "repair")
    for finding in result.findings:
        held = ", ".join(f"{h.photo_id} ({h.role})" for h in finding.holders) or "-"
        table.add_row(
            finding.problem.value,
            finding.store,
            finding.sha256[:16],
            held,
            finding.repair or "[red]not repaired[/red]",
        )
    console.print(table)
    if result.unrepaired:
        console.print(
            f"{len(result.unrepaired)} not repaired"
            + ("" if any(f.repair for f in result.findings) else " (run again with --repair)")
        )


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="The backup folder (made if missing).")],
    verify: Annotated[
        bool, typer.Option(help="Hash again the blobs earlier backups copied, not only count.")
    ] = False,
) -> None:
    """Back up the library: a consistent database copy and every blob it refers to.

    Run it again into the same folder: only new blobs are copied. Exits 1 when a blob the
    database refers to is in no store (the backup is complete otherwise, and says which).
    """
    settings = _settings()
    services = build_services(settings)
    try:
        backups = backup_service(settings, services.engine, services.blobs)
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(2) from err
    with _byte_progress("backing up") as progress:
        manifest = backups.backup(LocalBackupArchive(dest), verify=verify, progress=progress)
    _say(
        f"backup {manifest.name}: database {_bytes(manifest.database.bytes)}, "
        f"{manifest.blobs} blobs ({_bytes(manifest.blob_bytes)}), of which "
        f"{manifest.copied} new ({_bytes(manifest.copied_bytes)}), in {manifest.seconds:.1f} s"
    )
    for sha256 in manifest.missing:
        _say(f"missing from every store, not backed up: {sha256}")
    raise typer.Exit(1 if manifest.missing else 0)


@app.command("migrate-to")
def migrate_to(
    database_url: Annotated[
        str, typer.Option(help="The database to copy into, e.g. postgresql+psycopg://...")
    ],
    storage_url: Annotated[
        str, typer.Option(help="The blob store to copy into: s3://BUCKET?... or file://...")
    ],
    threads: Annotated[int, typer.Option(help="Blobs copied at once.")] = 4,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report to this file.")
    ] = None,
) -> None:
    """Copy this library (the settings' database and store) into another world, such as
    PostgreSQL and S3: every blob copied and its hash checked there, every row copied, every
    table counted on both sides. Stop the server first. Run again to resume a copy cut short."""
    from albumen.adapters.db.references import SqlBlobReferences
    from albumen.adapters.db.transfer import SqlLibraryCopy
    from albumen.services.transfer import LibraryTransfer

    settings = _settings()
    target = settings.model_copy(
        update={
            "database_url": database_url,
            "storage_url": storage_url,
            "mirror_url": "",
            "warm_storage_url": "",
            "cold_storage_url": "",
        }
    )
    source_engine, target_engine = open_database(settings), open_database(target)
    secret_key(settings, source_engine, SystemClock())  # an older version's key file, taken in
    try:
        transfer = LibraryTransfer(
            SqlLibraryCopy(source_engine, target_engine),
            SqlBlobReferences(source_engine),
            blob_stores(settings).blobs,
            blob_stores(target).blobs,
            threads,
        )
        with Progress(
            TextColumn("{task.description}"), MofNCompleteColumn(), console=err_console
        ) as bar:
            task = bar.add_task("blobs", total=None)

            def progress(what: str, done: int) -> None:
                bar.update(task, description=what, completed=done)

            report = transfer.run(progress)
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(2) from err
    finally:
        source_engine.dispose()
        target_engine.dispose()
    if json_out is not None:
        json_out.write_text(json.dumps(dataclasses.asdict(report) | {"ok": report.ok}, indent=2))
    _say(
        f"{report.blobs} blobs: {report.copied} copied ({_bytes(report.bytes_copied)}), "
        f"{report.present} already there; all verified by their SHA-256 in the target"
    )
    table = Table("table", "source rows", "target rows")
    for count in report.counts:
        table.add_row(count.table, str(count.source), str(count.target))
    console.print(table)
    problems = [f"blob not copied whole: {sha}" for sha in report.bad]
    problems += [
        f"table {c.table}: {c.source} rows, {c.target} copied"
        for c in report.counts
        if c.source != c.target
    ]
    if not report.album_counts_agree:
        problems.append("album photo counts differ")
    for line in problems:
        _say(line)
    if problems:
        raise typer.Exit(1)


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by `albumen backup`.")],
    snapshot: Annotated[
        str | None, typer.Option(help="Which backup in the folder (default: the newest).")
    ] = None,
) -> None:
    """Rebuild a working library from a backup, into an empty data dir, and verify it."""
    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    blobs = blob_stores(settings).blobs
    try:
        backups = backup_service(settings, engine, blobs)
        with _byte_progress("restoring") as progress:
            secret = None if settings.secret_key else settings.data_dir / "secret.key"
            manifest, report = backups.restore(
                LocalBackupArchive(source), snapshot, secret, progress
            )
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(2) from err
    finally:
        engine.dispose()
    services = build_services(settings)  # brings an older backup's schema up to date
    rows = services.scrub.row_counts()
    changed = {
        table: (count, rows.get(table))
        for table, count in manifest.database.rows.items()
        if rows.get(table) != count
    }
    present = services.scrub.scrub(rehash=False)  # every blob was hashed as it was copied
    _say(
        f"restored backup {manifest.name}: {report.blobs} blobs "
        f"({_bytes(report.blob_bytes)}) in {report.seconds:.1f} s"
    )
    problems = [f"not in the backup: {sha}" for sha in report.missing]
    problems += [
        f"table {t}: {had} rows in the backup, {now} now" for t, (had, now) in changed.items()
    ]
    problems += [f"{f.problem.value}: {f.sha256}" for f in present.findings]
    for line in problems:
        _say(line)
    if not problems:
        _say("verified: every row and every blob is back")
    raise typer.Exit(1 if problems else 0)


def _say(line: str) -> None:
    """A line of output as it is: never wrapped or coloured by the terminal's width."""
    console.print(line, soft_wrap=True, highlight=False, markup=False)


def _bytes(count: int) -> str:
    return f"{count / 1e9:.2f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


@app.command("rebuild-index")
def rebuild_index() -> None:
    """Recreate a lost database from the metadata sidecars beside the blobs.

    Run it where the database is gone (or empty): users with their keys and passwords,
    photos with their dates, places, cameras, thumbnails, tags and edits, and albums come
    back. Faces and likeness are found again by `albumen analyze --missing`.
    """
    services = build_services(_settings())
    try:
        with console.status("rebuilding from the sidecars"):
            report = services.sidecars.rebuild()
    except AlbumenError as err:
        err_console.print(f"error: {err.message}")
        raise typer.Exit(2) from err
    _say(
        f"rebuilt {report.users} users, {report.photos} photos and {report.albums} albums "
        f"in {report.seconds:.1f} s"
    )
    present = services.scrub.scrub(rehash=False)
    lost = [f for f in present.findings if f.problem is Problem.MISSING]
    for finding in lost:
        held = ", ".join(f"{h.photo_id} ({h.role})" for h in finding.holders)
        _say(f"missing blob {finding.sha256}: {held}")
    if not lost:
        _say("every photo's blobs are there")
    _say("next: `albumen analyze --missing` finds faces and likeness again")
    raise typer.Exit(1 if lost else 0)


@tiers_app.command("report")
def tiers_report(
    months: Annotated[int, typer.Option(help="Retrievals of this many months, this one last.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """What each user keeps in each tier, what it costs a month, and what reads cost."""
    services = build_services(_settings())
    lines = services.tiers.report(months)
    prices = services.tiers.prices
    if as_json:
        shown = {
            "prices": {t.value: dataclasses.asdict(p) for t, p in prices.items()},
            "lines": [dataclasses.asdict(line) for line in lines],
            "storage_per_month": round(sum(line.storage_per_month for line in lines), 4),
            "retrieval_cost": round(sum(line.retrieval_cost for line in lines), 4),
        }
        print(json.dumps(shown, indent=2))
        return
    table = Table("user", "tier", "photos", "GB", "$/month", "reads", "GB read", "$ reads")
    for line in lines:
        table.add_row(
            line.owner,
            line.tier.value,
            str(line.photos),
            f"{line.gigabytes:.3f}",
            f"{line.storage_per_month:.4f}",
            str(line.retrievals),
            f"{line.retrieved_gigabytes:.3f}",
            f"{line.retrieval_cost:.4f}",
        )
    console.print(table)
    _say(
        f"total: ${sum(x.storage_per_month for x in lines):.4f} a month stored, "
        f"${sum(x.retrieval_cost for x in lines):.4f} of reads over {months} month(s)"
    )
    _say(
        "prices per tier (storage $/GB-month, retrieval $/GB, expected latency): "
        + "; ".join(
            f"{t.value} {p.storage_gb_month}, {p.retrieval_gb}, {p.latency_seconds:g} s"
            for t, p in prices.items()
        )
    )


@tiers_app.command("move")
def tiers_move() -> None:
    """Move originals to the tier the lifecycle policy says now (the hourly job, at once)."""
    services = build_services(_settings())
    if not services.tiers.enabled:
        err_console.print("no warm or cold store is configured: every original stays hot")
        raise typer.Exit(2)
    with console.status("moving"):
        moved = services.tiers.run_lifecycle()
    _say(f"moved {moved} originals")


@contextmanager
def _byte_progress(what: str) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn(what), BarColumn(), TextColumn("{task.fields[gb]:.2f} GB"))
    with Progress(*columns, TimeElapsedColumn(), console=err_console) as bar:
        task = bar.add_task(what, total=None, gb=0.0)

        def progress(done: int) -> None:
            bar.update(task, gb=bar.tasks[0].fields["gb"] + done / 1e9)

        yield progress


NAMED_QUERIES: dict[str, Callable[[Services, str, str], object]] = {
    "timeline": lambda s, user, q: s.photos.timeline(user, 100, None),
    "search": lambda s, user, q: s.search.search(
        user, s.search.filters(q, SearchFilters()), SearchOrder.NEWEST, 100, None
    ),
    "buckets": lambda s, user, q: s.search.buckets(
        user, s.search.filters(q, SearchFilters()), False
    ),
    "albums": lambda s, user, q: s.albums.visible(user, with_totals=True),
    "people": lambda s, user, q: s.people.people(user),
    "trash": lambda s, user, q: s.trash.page(user, 100, None),
    "duplicates": lambda s, user, q: s.similar.duplicates(user),
}


@db_app.command("explain")
def db_explain(
    query: Annotated[str, typer.Argument(help=f"SQL, or one of: {', '.join(NAMED_QUERIES)}.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Whose data a named query reads.")] = "",
    q: Annotated[str, typer.Option(help="The search text of 'search' and 'buckets'.")] = "",
) -> None:
    """Print the plan of a query, with the indexes it uses and any full table scan.

    A named query runs the real code path (one page of the timeline, a search, ...) and
    explains every statement it sends, with its time and rows.
    """
    services = build_services(_settings())
    if query in NAMED_QUERIES:
        if not user:
            err_console.print("error: a named query needs --user")
            raise typer.Exit(2)
        owner = services.users.by_name(user).id
        with services.queries.capturing() as statements:
            NAMED_QUERIES[query](services, owner, q)
    else:
        statements = [services.queries.explain_now(services.engine, query)]
    for found in statements:
        _print_plan(found)


def _print_plan(found: SlowQuery) -> None:
    console.print(f"[bold]{found.statement}[/bold]", soft_wrap=True, highlight=False)
    if found.seconds:
        console.print(f"{found.seconds * 1000:.2f} ms, {found.rows} rows", highlight=False)
    for step in found.plan:
        console.print(f"  {step}", highlight=False, markup=False)
    console.print(f"indexes: {', '.join(found.indexes) or 'none'}", highlight=False)
    if found.full_scans:
        console.print(f"[red]full scans: {'; '.join(found.full_scans)}[/red]", highlight=False)
    console.print()


@app.command()
def loadtest(
    scenario: Annotated[str, typer.Option(help="peak_upload or global_read.")],
    users: Annotated[int, typer.Option(help="Simulated users at the peak.")] = 20,
    duration: Annotated[str, typer.Option(help="How long: 90s, 5m, 1h.")] = "60s",
    host: Annotated[
        str, typer.Option(help="A running server; without it one starts on a temporary dir.")
    ] = "",
    key: Annotated[
        list[str] | None, typer.Option(help="With --host: API keys to act as, an admin's first.")
    ] = None,
    accounts: Annotated[int, typer.Option(help="Users made on the server started here.")] = 4,
    seed_photos: Annotated[int, typer.Option(help="Photos uploaded per account first.")] = 40,
    upload_mb: Annotated[float, typer.Option(help="Size of each uploaded photo.")] = 5.0,
    photos: Annotated[
        Path | None, typer.Option(help="A folder of real JPEGs to upload (else made-up ones).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where the report goes.")] = None,
) -> None:
    """Load a server with a scenario (Locust, headless); report latency, throughput, errors,
    the cache hit ratio and a pass/fail per service-level objective."""
    from albumen.loadtest.run import LoadTest, run

    folder = out or Path("loadtest-results") / f"{scenario}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        seconds = _seconds(duration)
        result = run(
            LoadTest(scenario, users, seconds, folder, host or None, key or [], accounts,
                     seed_photos, upload_mb, photos)
        )  # fmt: skip
    except (ValueError, RuntimeError) as err:
        err_console.print(f"error: {err}")
        raise typer.Exit(2) from err
    _print_load_report(result, folder)
    failed = [v for v in result["slo"] if v["passed"] is False]
    raise typer.Exit(1 if failed else 0)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    text = duration.strip().lower()
    try:
        if text[-1:] in units:
            return max(int(float(text[:-1]) * units[text[-1]]), 1)
        return max(int(text), 1)
    except ValueError:
        raise ValueError(f"a duration is like 90s, 5m or 1h, not {duration!r}") from None


def _print_load_report(result: dict[str, Any], folder: Path) -> None:
    operations = Table(title=f"{result['scenario']}: {result['users']} users, "
                       f"{result['duration_s']} s")  # fmt: skip
    for column in ("operation", "total", "failed", "avg ms", "p50", "p95", "p99", "req/s"):
        operations.add_column(column, justify="left" if column == "operation" else "right")
    rows = [*result["operations"].values(), result["overall"]]
    for op in rows:
        operations.add_row(
            op["name"], str(op["total"]), str(op["failed"]), f"{op['avg_ms']:.1f}",
            *(f"{op[k]:g}" if op[k] is not None else "-" for k in ("p50_ms", "p95_ms", "p99_ms")),
            f"{op['rps']:.1f}",
        )  # fmt: skip
    console.print(operations)
    server = result["server"]
    ratio = server.get("cache_hit_ratio")
    console.print(f"cache hit ratio (L1): {'-' if ratio is None else f'{ratio:.1%}'}")
    if server:
        console.print(
            f"jobs still queued at the end: {server['jobs_queued_at_end']:g}, "
            f"job failures: {server['jobs_failed']:g}"
        )
    slo = Table(title="service-level objectives")
    for column in ("objective", "target", "measured", "verdict"):
        slo.add_column(column)
    for verdict in result["slo"]:
        passed = verdict["passed"]
        shown = (
            "n/a" if passed is None else ("[green]pass[/green]" if passed else "[red]FAIL[/red]")
        )
        slo.add_row(verdict["objective"], verdict["target"], verdict["measured"], shown)
    console.print(slo)
    console.print(f"report: {folder / 'report.json'}, chart: {folder / 'latency.png'}")


@config_app.command("show")
def config_show() -> None:
    """Print the settings in force, with secrets masked."""
    print(json.dumps(Settings().masked(), indent=2))


def main() -> None:
    app()
