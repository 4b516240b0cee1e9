"""``albumen scrub``, ``backup``, ``restore``, ``migrate-to`` and ``rebuild-index``: keeping
every byte, and moving it."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from albumen.cli.base import app, byte_progress, console, err_console, say, settings, size
from albumen.config import Secret, Settings

if TYPE_CHECKING:
    from albumen.domain.durability import ScrubReport


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
    from albumen.app.root import build

    built = build(settings())
    with byte_progress("scrubbing") as progress:
        result = built.services.scrub.scrub(repair=repair, progress=progress)
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
    from rich.table import Table

    rate = result.bytes_per_second * 60 / 1e9
    say(
        f"checked {result.referenced} referenced blobs: hashed {result.hashed_blobs} copies, "
        f"{size(result.hashed_bytes)} in {result.seconds:.1f} s ({rate:.2f} GB/min)"
    )
    if not result.findings:
        say("everything is in order")
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
    console().print(table)
    if result.unrepaired:
        console().print(
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
    from albumen.adapters.backup import LocalBackupArchive
    from albumen.app.root import build
    from albumen.app.services import backup_service

    config = settings()
    built = build(config)
    infrastructure = built.infrastructure
    backups = backup_service(config, infrastructure.engine, infrastructure.stores.blobs)
    with byte_progress("backing up") as progress:
        manifest = backups.backup(LocalBackupArchive(dest), verify=verify, progress=progress)
    say(
        f"backup {manifest.name}: database {size(manifest.database.bytes)}, "
        f"{manifest.blobs} blobs ({size(manifest.blob_bytes)}), of which "
        f"{manifest.copied} new ({size(manifest.copied_bytes)}), in {manifest.seconds:.1f} s"
    )
    for sha256 in manifest.missing:
        say(f"missing from every store, not backed up: {sha256}")
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
    from rich.progress import MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from albumen.adapters.db.references import SqlBlobReferences
    from albumen.adapters.db.transfer import SqlLibraryCopy
    from albumen.adapters.system import SystemClock
    from albumen.app.infrastructure import blob_stores, open_database
    from albumen.app.services import secret_key
    from albumen.services.transfer import LibraryTransfer

    config = settings()
    target = config.model_copy(
        update={
            "database_url": Secret(database_url),
            "storage_url": Secret(storage_url),
            "mirror_url": Secret(""),
            "warm_storage_url": Secret(""),
            "cold_storage_url": Secret(""),
        }
    )
    source_engine, target_engine = open_database(config), open_database(target)
    secret_key(config, source_engine, SystemClock())  # an older version's key file, taken in
    try:
        transfer = LibraryTransfer(
            SqlLibraryCopy(source_engine, target_engine),
            SqlBlobReferences(source_engine),
            blob_stores(config).blobs,
            blob_stores(target).blobs,
            threads,
        )
        with Progress(
            TextColumn("{task.description}"), MofNCompleteColumn(), console=err_console()
        ) as bar:
            task = bar.add_task("blobs", total=None)

            def progress(what: str, done: int) -> None:
                bar.update(task, description=what, completed=done)

            report = transfer.run(progress)
    finally:
        source_engine.dispose()
        target_engine.dispose()
    if json_out is not None:
        json_out.write_text(json.dumps(dataclasses.asdict(report) | {"ok": report.ok}, indent=2))
    say(
        f"{report.blobs} blobs: {report.copied} copied ({size(report.bytes_copied)}), "
        f"{report.present} already there; all verified by their SHA-256 in the target"
    )
    table = Table("table", "source rows", "target rows")
    for count in report.counts:
        table.add_row(count.table, str(count.source), str(count.target))
    console().print(table)
    problems = [f"blob not copied whole: {sha}" for sha in report.bad]
    problems += [
        f"table {c.table}: {c.source} rows, {c.target} copied"
        for c in report.counts
        if c.source != c.target
    ]
    if not report.album_counts_agree:
        problems.append("album photo counts differ")
    for line in problems:
        say(line)
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
    from albumen.adapters.backup import LocalBackupArchive
    from albumen.adapters.db.engine import make_engine
    from albumen.app.infrastructure import blob_stores
    from albumen.app.root import build
    from albumen.app.services import backup_service

    config = settings()
    engine = make_engine(config.effective_database_url.reveal())
    blobs = blob_stores(config).blobs
    try:
        backups = backup_service(config, engine, blobs)
        with byte_progress("restoring") as progress:
            secret = None if config.secret_key else config.data_dir / "secret.key"
            manifest, report = backups.restore(
                LocalBackupArchive(source), snapshot, secret, progress
            )
    finally:
        engine.dispose()
    built = build(config)  # brings an older backup's schema up to date
    rows = built.services.scrub.row_counts()
    changed = {
        table: (count, rows.get(table))
        for table, count in manifest.database.rows.items()
        if rows.get(table) != count
    }
    present = built.services.scrub.scrub(rehash=False)  # every blob was hashed as it was copied
    say(
        f"restored backup {manifest.name}: {report.blobs} blobs "
        f"({size(report.blob_bytes)}) in {report.seconds:.1f} s"
    )
    problems = [f"not in the backup: {sha}" for sha in report.missing]
    problems += [
        f"table {t}: {had} rows in the backup, {now} now" for t, (had, now) in changed.items()
    ]
    problems += [f"{f.problem.value}: {f.sha256}" for f in present.findings]
    for line in problems:
        say(line)
    if not problems:
        say("verified: every row and every blob is back")
    raise typer.Exit(1 if problems else 0)


def _move_aside_if_damaged(chosen: Settings) -> tuple[Path, str] | None:
    """A damaged SQLite database (and its WAL files) renamed ``.damaged-<time>``."""
    from albumen.adapters.db.engine import sqlite_file
    from albumen.app.infrastructure import open_database
    from albumen.domain.errors import DatabaseDamaged

    database = sqlite_file(chosen.effective_database_url.reveal())
    if database is None:
        return None
    try:
        open_database(chosen).dispose()
        return None
    except DatabaseDamaged as err:
        damage = str(err.details["reason"])
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = database.with_name(f"{database.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        companion = database.with_name(database.name + suffix)
        if companion.exists():
            companion.rename(aside.with_name(aside.name + suffix))
    database.rename(aside)
    return aside, damage


@app.command("rebuild-index")
def rebuild_index() -> None:
    """Recreate a lost database from the metadata sidecars beside the blobs.

    Run it where the database is gone (or empty): users with their keys and passwords,
    photos with their dates, places, cameras, thumbnails, tags and edits, and albums come
    back. Faces and likeness are found again by `albumen analyze --missing`. A database file
    that is damaged (not a database any more) is moved aside first, and kept.
    """
    from albumen.app.root import build
    from albumen.domain.durability import Problem

    chosen = settings()
    moved = _move_aside_if_damaged(chosen)
    if moved is not None:
        say(f"the database was damaged ({moved[1]}): moved aside to {moved[0]}")
    built = build(chosen)
    with console().status("rebuilding from the sidecars"):
        report = built.services.sidecars.rebuild()
    say(
        f"rebuilt {report.users} users, {report.photos} photos and {report.albums} albums "
        f"in {report.seconds:.1f} s"
    )
    present = built.services.scrub.scrub(rehash=False)
    lost = [f for f in present.findings if f.problem is Problem.MISSING]
    for finding in lost:
        held = ", ".join(f"{h.photo_id} ({h.role})" for h in finding.holders)
        say(f"missing blob {finding.sha256}: {held}")
    if not lost:
        say("every photo's blobs are there")
    say("next: `albumen analyze --missing` finds faces and likeness again")
    raise typer.Exit(1 if lost else 0)
