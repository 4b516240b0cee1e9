"""Reads on a real streaming replica (pg_basebackup of the test cluster), reading your writes.

Replay on the replica is paused to make it lag: a user who just uploaded still sees the upload
(their reads go to the primary), while another user's reads come from the replica, shown by a
change made on the primary that they do not see until replay resumes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import text

from albumen.adapters.db.replicas import RedisMarks, lsn
from albumen.app.root import build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload
from tests.live import free_port
from tests.postgres import PostgresCluster


@pytest.fixture
def standby(postgres_server: PostgresCluster) -> Iterator[PostgresCluster]:
    replica = postgres_server.standby()
    yield replica
    replica.stop()


def test_reads_come_from_the_replica_but_follow_each_users_own_writes(
    tmp_path: Path, postgres_url: str, standby: PostgresCluster
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=postgres_url,
        database_replica_urls=[standby.url(database)],
        run_workers_in_server=False,
        analysis=False,
    )
    built = build(settings)
    alice = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    bob_user = built.services.users.add("bob")
    bob = {"Authorization": f"Bearer {bob_user.secret}"}
    replica_sql = psycopg.connect(standby.url(database, "postgresql"), autocommit=True)
    try:
        with TestClient(create_app(settings, built)) as client:
            bobs = upload(client, bob, make_jpeg(seed=1), "bob.jpg").json()["id"]
            _until(lambda: _replica_has(replica_sql, bobs))
            replica_sql.execute("SELECT pg_wal_replay_pause()")

            alices = upload(client, alice, make_jpeg(seed=2), "alice.jpg").json()["id"]
            timeline = client.get("/api/v1/photos", headers=alice).json()["items"]
            assert [p["id"] for p in timeline] == [alices]  # her own upload, at once
            assert not _replica_has(replica_sql, alices)  # though the replica lags

            with (
                built.infrastructure.engine.begin() as conn
            ):  # a change bob did not make through the API
                conn.execute(
                    text("UPDATE photos SET description = 'changed' WHERE id = :id"), {"id": bobs}
                )
            shown = client.get("/api/v1/photos", headers=bob).json()["items"]
            assert [(p["id"], p["description"]) for p in shown] == [(bobs, None)]  # the replica
            found = client.get("/api/v1/search", headers=bob, params={"q": "changed"}).json()
            assert found["items"] == []  # the replica's search index, not the primary's

            replica_sql.execute("SELECT pg_wal_replay_resume()")
            _until(lambda: _replica_has(replica_sql, alices))
            time.sleep(0.1)  # past the routing's cached view of the replica
            shown = client.get("/api/v1/photos", headers=bob).json()["items"]
            assert shown[0]["description"] == "changed"
            found = client.get("/api/v1/search", headers=bob, params={"q": "changed"}).json()
            assert [p["id"] for p in found["items"]] == [bobs]
            assert (
                built.infrastructure.reads.for_user(bob_user.user.id)
                is not built.infrastructure.engine
            )

            standby.stop()  # the replica goes away: reads fall back to the primary
            assert (
                built.infrastructure.reads.for_user(bob_user.user.id) is built.infrastructure.engine
            )
            assert client.get("/api/v1/photos", headers=bob).status_code == 200
    finally:
        replica_sql.close()
        built.close()


def _replica_has(conn: psycopg.Connection[tuple[object, ...]], photo_id: str) -> bool:
    found = conn.execute("SELECT 1 FROM photos WHERE id = %s", (photo_id,)).fetchone()
    return found is not None


def _until(condition: object, seconds: float = 10) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.02)


def _redis(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def test_write_marks_are_shared_through_redis_and_unknown_when_it_is_down(redis_url: str) -> None:
    marks = RedisMarks(_redis(redis_url))
    assert marks.get("alice") is None
    marks.set("alice", lsn("1/A0"))
    assert RedisMarks(_redis(redis_url)).get("alice") == (1 << 32) | 0xA0  # another process
    down = RedisMarks(_redis(f"redis://127.0.0.1:{free_port()}/0"))
    assert down.get("alice") == -1  # cannot tell: the routing reads from the primary
    down.set("alice", 5)  # and a mark that cannot be kept is not an error
