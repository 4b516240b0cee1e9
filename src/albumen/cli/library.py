"""``albumen import``, ``analyze``, ``sweep`` and ``tiers``: work on the library's photos."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from albumen.cli.base import app, console, err_console, fail, say, settings, tiers_app

if TYPE_CHECKING:
    from albumen.services.importer import ImportReport, Reader


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from albumen.app.root import build
    from albumen.services.importer import Importer, ImportReport

    built = build(settings())
    owner = built.services.users.by_name(user)
    importer = Importer(built.services.photos, owner.id)
    files = sorted(_discover(paths))
    report = ImportReport()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console()) as bar, ThreadPoolExecutor(jobs) as pool:
        task = bar.add_task("importing", total=len(files))
        futures = {
            pool.submit(importer.import_one, f.name, f.stat().st_size, _reader(f), _modified(f)): f
            for f in files
        }
        for future in as_completed(futures):
            report.add(str(futures[future]), future.result())
            bar.advance(task)
    if process:
        with console().status("processing"):
            built.infrastructure.queue.run_pending()
    _print_report(report)
    raise typer.Exit(1 if report.failed else 0)


def _modified(path: Path) -> str:
    """The file's modification time in this machine's time zone, with its offset."""
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat()


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
    console().print(
        f"imported {report.imported}, duplicates {report.duplicates}, "
        f"failed {len(report.failed)} ({report.megabytes:.1f} MB in {report.seconds:.1f} s)"
    )
    for path, reason in sorted(report.failed):
        console().print(f"failed: {path}: {reason}", soft_wrap=True, highlight=False)


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
        raise fail("say --all or --missing")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from albumen.app.root import build

    built = build(settings())
    columns = (TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console()) as bar:
        task = bar.add_task("analysing", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        count = built.services.analysis.analyze_all(all_, progress)
    print(f"analysed {count} photos")


@app.command()
def sweep() -> None:
    """Finish uploads a crash interrupted; remove unreferenced blobs older than the grace
    period, and expired uploads."""
    from albumen.app.root import build

    built = build(settings())
    finished = built.services.uploads.finish_stranded()
    removed = built.services.sweep.sweep_blobs()
    expired = built.services.sweep.expire_uploads()
    print(
        f"finished {finished} interrupted uploads, removed {removed} unreferenced blobs"
        f" and {expired} expired uploads"
    )


@tiers_app.command("report")
def tiers_report(
    months: Annotated[int, typer.Option(help="Retrievals of this many months, this one last.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """What each user keeps in each tier, what it costs a month, and what reads cost."""
    import dataclasses
    import json

    from rich.table import Table

    from albumen.app.root import build

    built = build(settings())
    lines = built.services.tiers.report(months)
    prices = built.services.tiers.prices
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
    console().print(table)
    say(
        f"total: ${sum(x.storage_per_month for x in lines):.4f} a month stored, "
        f"${sum(x.retrieval_cost for x in lines):.4f} of reads over {months} month(s)"
    )
    say(
        "prices per tier (storage $/GB-month, retrieval $/GB, expected latency): "
        + "; ".join(
            f"{t.value} {p.storage_gb_month}, {p.retrieval_gb}, {p.latency_seconds:g} s"
            for t, p in prices.items()
        )
    )


@tiers_app.command("move")
def tiers_move() -> None:
    """Move originals to the tier the lifecycle policy says now (the hourly job, at once)."""
    from albumen.app.root import build

    built = build(settings())
    if not built.services.tiers.enabled:
        raise fail("no warm or cold store is configured: every original stays hot")
    with console().status("moving"):
        moved = built.services.tiers.run_lifecycle()
    say(f"moved {moved} originals")
