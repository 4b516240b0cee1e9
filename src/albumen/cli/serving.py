"""``albumen serve`` and ``albumen worker``."""

from __future__ import annotations

import os
import shutil
from typing import Annotated, Any

import typer

from albumen.cli.base import app, fail, settings
from albumen.config import Settings
from albumen.domain.jobs import Queue


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
    import uvicorn

    from albumen.adapters.datadir import hold_data_dir
    from albumen.app.infrastructure import open_database

    chosen = settings()
    open_database(chosen).dispose()  # migrated once, and a clear line if it cannot be
    if chosen.effective_database_url.reveal().startswith("sqlite"):  # one server at a time
        held = hold_data_dir(chosen.data_dir)  # noqa: F841  # held while this process serves
    processes = workers or chosen.api_workers
    options: dict[str, Any] = {
        "host": host or chosen.host,
        "port": port or chosen.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": chosen.shutdown_grace_seconds,
        # forwarded headers only from the proxies named (uvicorn trusts 127.0.0.1 otherwise)
        "proxy_headers": bool(chosen.trusted_proxies),
        "forwarded_allow_ips": chosen.trusted_proxies or None,
    }
    if processes == 1:
        from albumen.web import create_app

        uvicorn.run(create_app(chosen), **options)
        return
    _fresh_metrics_dir(chosen)
    uvicorn.run("albumen.web:app_from_environment", factory=True, workers=processes, **options)


def _fresh_metrics_dir(chosen: Settings) -> None:
    """An empty folder for the API workers' metrics files, unless one is set already."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = chosen.data_dir / "run" / f"metrics-{os.getpid()}"
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
        raise fail(f"{err}; the queues are {', '.join(Queue)}") from err
    from albumen.app.root import build, start_background_work

    built = build(settings())
    start_background_work(built)
    built.infrastructure.engine.dispose()  # forked workers open their own connections
    raise typer.Exit(built.infrastructure.queue.consume(chosen, workers))
