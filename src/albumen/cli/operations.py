"""``albumen db explain`` and ``albumen loadtest``: looking into a running library."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from albumen.cli.base import app, console, db_app, fail, settings

if TYPE_CHECKING:
    from albumen.adapters.db.monitor import SlowQuery
    from albumen.app.services import Services
    from albumen.domain.search import SearchFilters, SearchOrder


NAMED_QUERIES: dict[str, Callable[[Services, str, str], object]] = {  # run by db explain
    "timeline": lambda s, user, q: s.photos.timeline(user, 100, None),
    "search": lambda s, user, q: s.search.search(
        user, s.search.filters(q, _filters()), _newest(), 100, None
    ),
    "buckets": lambda s, user, q: s.search.buckets(user, s.search.filters(q, _filters()), False),
    "albums": lambda s, user, q: s.albums.visible(user, with_totals=True),
    "people": lambda s, user, q: s.people.people(user),
    "trash": lambda s, user, q: s.trash.page(user, 100, None),
    "duplicates": lambda s, user, q: s.similar.duplicates(user),
}


def _filters() -> SearchFilters:
    from albumen.domain.search import SearchFilters

    return SearchFilters()


def _newest() -> SearchOrder:
    from albumen.domain.search import SearchOrder

    return SearchOrder.NEWEST


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
    from albumen.app.root import build

    built = build(settings())
    if query in NAMED_QUERIES:
        if not user:
            raise fail("a named query needs --user")
        owner = built.services.users.by_name(user).id
        with built.operations.queries.capturing() as statements:
            NAMED_QUERIES[query](built.services, owner, q)
    else:
        statements = [built.operations.queries.explain_now(built.infrastructure.engine, query)]
    for found in statements:
        _print_plan(found)


def _print_plan(found: SlowQuery) -> None:
    console().print(f"[bold]{found.statement}[/bold]", soft_wrap=True, highlight=False)
    if found.seconds:
        console().print(f"{found.seconds * 1000:.2f} ms, {found.rows} rows", highlight=False)
    for step in found.plan:
        console().print(f"  {step}", highlight=False, markup=False)
    console().print(f"indexes: {', '.join(found.indexes) or 'none'}", highlight=False)
    if found.full_scans:
        console().print(f"[red]full scans: {'; '.join(found.full_scans)}[/red]", highlight=False)
    console().print()


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
        raise fail(str(err)) from err
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
    from rich.table import Table

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
    console().print(operations)
    server = result["server"]
    ratio = server.get("cache_hit_ratio")
    console().print(f"cache hit ratio (L1): {'-' if ratio is None else f'{ratio:.1%}'}")
    if server:
        console().print(
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
    console().print(slo)
    console().print(f"report: {folder / 'report.json'}, chart: {folder / 'latency.png'}")
