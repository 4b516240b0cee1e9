"""``albumen users ...``, ``albumen migrate`` and ``albumen config show``: the database alone,
or not even that."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from albumen.cli.base import app, config_app, err_console, settings, users_app

if TYPE_CHECKING:
    from albumen.services.users import UserService


@contextmanager
def _users() -> Iterator[UserService]:
    from albumen.app.infrastructure import build_infrastructure
    from albumen.app.services import user_service

    infrastructure = build_infrastructure(settings())
    try:
        yield user_service(infrastructure)
    finally:
        infrastructure.close()


@users_app.command("add")
def users_add(
    name: str,
    admin: Annotated[bool, typer.Option(help="May read metrics, dashboard and alerts.")] = False,
) -> None:
    """Create a user and print their first API key (shown once). The first user is an admin."""
    with _users() as users:
        created = users.add(name, admin)
    if created.user.is_admin:
        err_console().print(f"{name} is an admin", highlight=False)
    print(created.secret)


@users_app.command("admin")
def users_admin(
    name: str, revoke: Annotated[bool, typer.Option(help="Take the right away.")] = False
) -> None:
    """Make a user an admin (or, with --revoke, no longer one)."""
    with _users() as users:
        user = users.set_admin(name, not revoke)
    print(f"{user.name} is {'an admin' if user.is_admin else 'not an admin'}")


@users_app.command("key")
def users_key(name: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Print a new API key for an existing user."""
    with _users() as users:
        print(users.add_key(name, label).secret)


@users_app.command("passwd")
def users_passwd(
    name: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password for the web app (an argon2 hash); signs them out everywhere."""
    with _users() as users:
        ended = users.set_password(name, password)
    print(f"password set; {ended} signed-in session{'s' if ended != 1 else ''} ended")


users_app.command("password", hidden=True)(users_passwd)  # the name it had before


@app.command("migrate")
def migrate_() -> None:
    """Bring the database schema to the newest version."""
    from albumen.app.infrastructure import open_database

    open_database(settings()).dispose()
    print("database is up to date")


@config_app.command("show")
def config_show() -> None:
    """Print the settings in force, with secrets masked."""
    print(json.dumps(settings().masked(), indent=2))
