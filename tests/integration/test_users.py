"""Users, API keys and passwords on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from albumen.app.services import Services
from albumen.domain.errors import Conflict, Unauthorized


def test_api_keys_are_stored_only_as_hashes(services: Services, engine: Engine) -> None:
    created = services.users.add("alice")
    assert services.users.authenticate(created.secret) == created.user
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT key_hash FROM api_keys").scalars().all()
    assert created.secret not in stored
    assert all(len(value) == 64 for value in stored)


def test_user_names_are_unique(services: Services) -> None:
    services.users.add("alice")
    with pytest.raises(Conflict):
        services.users.add("alice")


def test_passwords_are_argon2_and_checked(services: Services, engine: Engine) -> None:
    services.users.add("alice")
    services.users.set_password("alice", "correct horse battery")
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar_one()
    assert stored.startswith("$argon2id$")
    assert services.users.check_password("alice", "correct horse battery").name == "alice"
    with pytest.raises(Unauthorized):
        services.users.check_password("alice", "wrong horse battery")
