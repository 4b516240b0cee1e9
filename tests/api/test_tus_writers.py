"""tus uploads: one writer at a time, and a crash between storing and linking loses nothing.

Found (#21, items 3 and 13): two PATCHes to one upload both passed the offset check and
streamed into the same partial file (one run lost the upload: a 500, the bytes gone); and a
kill -9 after the photo was stored but before the upload was linked to it left the upload
complete by its offset, with no photo id, every PATCH a 500, the photo out of the client's
reach. A PATCH now claims the upload (409 ``upload_busy`` for another meanwhile); the photo,
the offset and the link are one step, and a look at a complete, unlinked upload finishes it.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from albumen.adapters.db.tables import photos, uploads
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from albumen.domain.errors import Conflict
from albumen.services.photos import PhotoService
from albumen.services.uploads import UploadService
from tests.conftest import make_jpeg

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}


def _owner(services: Services) -> str:
    return services.users.add("alice").user.id


async def _body(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _stored(engine: Engine, owner: str) -> list[tuple[str, str]]:
    query = select(photos.c.id, photos.c.sha256).where(photos.c.owner_id == owner)
    with engine.connect() as conn:
        return [(row.id, row.sha256) for row in conn.execute(query)]


def test_a_second_writer_is_refused_while_the_first_streams(
    services: Services, engine: Engine
) -> None:
    owner, data = _owner(services), make_jpeg(seed=5)
    upload = services.uploads.create(owner, len(data), "p.jpg")

    async def scenario() -> Any:
        halfway, go_on = asyncio.Event(), asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            yield data[:100]
            halfway.set()
            await go_on.wait()
            yield data[100:]

        first = asyncio.create_task(services.uploads.append(owner, upload.id, 0, slow()))
        await halfway.wait()
        with pytest.raises(Conflict) as refused:
            await services.uploads.append(owner, upload.id, 0, _body(b"x" * len(data)))
        go_on.set()
        return refused.value, await first

    refused, (done, result) = asyncio.run(scenario())

    assert refused.code == "upload_busy"
    assert done.offset == len(data)
    assert result is not None
    assert result.photo.size == len(data)
    assert _stored(engine, owner) == [(result.photo.id, result.photo.sha256)]
    assert services.uploads.get(owner, upload.id).photo_id == result.photo.id


def test_a_claim_of_a_process_that_has_ended_is_taken_over_at_once(
    services: Services, engine: Engine
) -> None:
    owner, data = _owner(services), make_jpeg(seed=6)
    upload = services.uploads.create(owner, len(data), "p.jpg")
    host = socket.gethostname()
    far = services.uploads.get(owner, upload.id).created_at.replace(year=2999)

    def held_by(process: str) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(uploads)
                .where(uploads.c.id == upload.id)
                .values(writer=f"feedface {process}", writer_until=far)
            )

    held_by(f"{host}:{2**22 + 12345}:1")  # a pid this host does not have: that server ended
    done, _ = asyncio.run(services.uploads.append(owner, upload.id, 0, _body(data[:50])))
    assert done.offset == 50

    held_by(_me())  # this very process: alive, so its claim holds until it lapses
    with pytest.raises(Conflict) as refused:
        asyncio.run(services.uploads.append(owner, upload.id, 50, _body(data[50:])))
    assert refused.value.code == "upload_busy"


def _me() -> str:
    from albumen.adapters.system import SystemProcesses

    return SystemProcesses().me()


def _crash_after(target: type, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first call of ``target.method`` does its work, then the process 'dies'."""
    real: Callable[..., Any] = getattr(target, method)
    calls = {"n": 0}

    def dying(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = real(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed here")
        return result

    monkeypatch.setattr(target, method, dying)


@pytest.mark.parametrize(
    "crash",
    [
        pytest.param("photo stored", id="after-the-photo-was-stored"),
        pytest.param("blob stored", id="after-the-bytes-were-stored"),
    ],
)
def test_a_crash_between_storing_and_linking_is_finished_by_the_next_look(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    infrastructure: Infrastructure,
    engine: Engine,
    crash: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if crash == "photo stored":
        _crash_after(PhotoService, "ingest", monkeypatch)
    else:
        _crash_after(type(infrastructure.stores.blobs), "commit", monkeypatch)
    data = make_jpeg(seed=7)
    name = base64.b64encode(b"p.jpg").decode()
    where = client.post(
        "/api/v1/uploads",
        headers=auth
        | TUS
        | {"Upload-Length": str(len(data)), "Upload-Metadata": f"filename {name}"},
    ).headers["Location"]
    last = client.patch(where, headers=auth | TUS | STREAM | {"Upload-Offset": "0"}, content=data)
    assert last.status_code == 500  # the process died before answering

    # the client resumes: a HEAD tells it where the upload is, and now it is a photo
    looked = client.head(where, headers=auth | TUS)
    assert looked.status_code == 200
    assert looked.headers["Upload-Offset"] == str(len(data))
    photo_id = looked.headers["Albumen-Photo-Id"]
    found = client.get(f"/api/v1/photos/{photo_id}", headers=auth)
    assert found.status_code == 200
    assert found.json()["size"] == len(data)
    owner = services.users.by_name("alice").id
    assert [stored for stored, _ in _stored(engine, owner)] == [photo_id]  # one, not two
    again = client.patch(
        where, headers=auth | TUS | STREAM | {"Upload-Offset": str(len(data))}, content=b""
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "upload_complete"


def test_the_sweep_finishes_a_stranded_upload(
    services: Services, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, data = _owner(services), make_jpeg(seed=8)
    upload = services.uploads.create(owner, len(data), "p.jpg")
    _crash_after(PhotoService, "ingest", monkeypatch)
    with pytest.raises(RuntimeError):
        asyncio.run(services.uploads.append(owner, upload.id, 0, _body(data)))
    assert services.uploads.get(owner, upload.id).photo_id is None

    assert services.uploads.finish_stranded() == 1
    linked = services.uploads.get(owner, upload.id).photo_id
    assert [photo_id for photo_id, _ in _stored(engine, owner)] == [linked]
    assert services.uploads.finish_stranded() == 0
    assert isinstance(services.uploads, UploadService)
