"""Answers that were 5xx where a 4xx belongs, and errors that said too much (issue 21)."""

from __future__ import annotations

import base64
import errno
import hashlib

import pytest
from fastapi.testclient import TestClient

from albumen.adapters.blobs import LocalPartWriter, LocalStagingWriter
from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.root import build
from albumen.app.services import Services
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}


def _tus(client: TestClient, auth: dict[str, str], data: bytes) -> str:
    name = base64.b64encode(b"p.jpg").decode()
    made = client.post(
        "/api/v1/uploads",
        headers=auth
        | TUS
        | {"Upload-Length": str(len(data)), "Upload-Metadata": f"filename {name}"},
    )
    assert made.status_code == 201
    return str(made.headers["Location"])


def test_reordering_an_empty_album_is_a_clear_4xx(client: TestClient, auth: dict[str, str]) -> None:
    photo = upload(client, auth, make_jpeg(seed=1)).json()["id"]
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Empty"}).json()["id"]
    moved = client.post(f"/api/v1/albums/{album}/photos/move", headers=auth, json={"ids": [photo]})
    assert moved.status_code == 400
    assert moved.json()["error"]["code"] == "not_in_album"


def test_a_5000_character_file_name_is_kept_short_or_refused_clearly(
    client: TestClient, auth: dict[str, str]
) -> None:
    answer = upload(client, auth, make_jpeg(seed=2), "a" * 5000 + ".jpg")
    assert answer.status_code in (201, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["error"]["code"] == "bad_multipart"
    else:
        assert len(answer.json()["filename"].encode()) <= 255


def test_a_patch_to_a_finished_upload_is_409(client: TestClient, auth: dict[str, str]) -> None:
    data = make_jpeg(seed=3)
    where = _tus(client, auth, data)
    done = client.patch(where, headers=auth | TUS | STREAM | {"Upload-Offset": "0"}, content=data)
    assert done.status_code == 204
    again = client.patch(
        where, headers=auth | TUS | STREAM | {"Upload-Offset": str(len(data))}, content=b""
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "upload_complete"


def test_an_upload_checksum_without_a_value_is_400(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = make_jpeg(seed=4)
    where = _tus(client, auth, data)
    headers = auth | TUS | STREAM | {"Upload-Offset": "0", "Upload-Checksum": "sha1"}
    answer = client.patch(where, headers=headers, content=data)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_checksum"
    digest = base64.b64encode(hashlib.sha1(data).digest()).decode()
    headers["Upload-Checksum"] = f"sha1 {digest}"
    assert client.patch(where, headers=headers, content=data).status_code == 204


def test_an_unexpected_error_answers_500_with_its_request_id(
    client: TestClient, auth: dict[str, str], services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug, /srv/albumen/data/blobs/ab/cd/secret-path")

    monkeypatch.setattr(services.photos, "timeline", broken)
    answer = client.get("/api/v1/photos", headers=auth | {"X-Request-ID": "req-42"})
    assert answer.status_code == 500
    assert answer.json()["error"] == {
        "code": "internal_error",
        "message": "something went wrong on the server",
        "request_id": "req-42",
    }
    assert answer.headers["X-Request-ID"] == "req-42"
    assert "/srv" not in answer.text


def test_originals_are_never_sniffed(
    client: TestClient, auth: dict[str, str], queue: HueyJobQueue
) -> None:
    photo = upload(client, auth, make_jpeg(seed=5)).json()["id"]
    queue.run_pending()
    original = client.get(f"/api/v1/photos/{photo}/original", headers=auth)
    assert original.status_code == 200
    assert original.headers["X-Content-Type-Options"] == "nosniff"


def test_a_405_says_which_methods_are_allowed(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.put("/api/v1/photos", headers=auth)
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_taken_at_must_be_a_date_not_a_number(client: TestClient, auth: dict[str, str]) -> None:
    photo = upload(client, auth, make_jpeg(seed=6)).json()["id"]
    answer = client.patch(f"/api/v1/photos/{photo}", headers=auth, json={"taken_at": 0})
    assert answer.status_code == 422
    assert client.get(f"/api/v1/photos/{photo}", headers=auth).json()["taken_at"] != (
        "1970-01-01T00:00:00+00:00"
    )


def test_an_empty_file_is_refused_by_tus_as_by_multipart(
    client: TestClient, auth: dict[str, str]
) -> None:
    """A 0-byte tus upload was complete at creation and never became a photo, while the web
    app said "Uploaded"; the multipart upload and the CLI say the file is empty."""
    made = client.post("/api/v1/uploads", headers=auth | TUS | {"Upload-Length": "0"})
    assert made.status_code == 400
    assert made.json()["error"]["code"] == "empty_file"
    assert upload(client, auth, b"").json()["error"]["code"] == "empty_file"


def _disk_full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_507_for_multipart_and_tus_and_nothing_half_kept(
    client: TestClient,
    auth: dict[str, str],
    infrastructure: Infrastructure,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Uploads on a full disk answered 500 internal_error; they are 507, and resumable."""
    staging = infrastructure.stores.staging_dir
    before = set(staging.rglob("*"))
    with monkeypatch.context() as full:
        full.setattr(LocalStagingWriter, "_write_block", _disk_full)
        answer = upload(client, auth, make_jpeg(seed=9) + b"\0" * 3_000_000)
    assert answer.status_code == 507, answer.text
    assert answer.json()["error"]["code"] == "insufficient_storage"
    assert client.get("/api/v1/photos", headers=auth).json()["items"] == []
    assert set(staging.rglob("*")) == before  # no staging file left behind

    data = make_jpeg(seed=10)
    where = _tus(client, auth, data)
    with monkeypatch.context() as full:
        full.setattr(LocalPartWriter, "write", _disk_full)
        refused = client.patch(
            where, headers=auth | TUS | STREAM | {"Upload-Offset": "0"}, content=data
        )
    assert refused.status_code == 507
    assert refused.json()["error"]["code"] == "insufficient_storage"
    offset = client.head(where, headers=auth | TUS).headers["Upload-Offset"]
    # space is back: the upload goes on from where it is
    done = client.patch(
        where,
        headers=auth | TUS | STREAM | {"Upload-Offset": offset},
        content=data[int(offset) :],
    )
    assert done.status_code == 204
    assert done.headers["Albumen-Photo-Id"]


def test_readiness_says_when_the_data_volume_is_full(settings: Settings) -> None:
    full = settings.model_copy(update={"min_free_mb": 10**12})  # more than any disk has
    built = build(full)
    try:
        with TestClient(create_app(full, built)) as client:
            answer = client.get("/readyz")
    finally:
        built.close()
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["disk_space"]


# Found by schemathesis (tests/api/test_schema.py): each answered 500 before.


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/photos/trash", {"ids": ["a\x00b"]}),
        ("PATCH", "/api/v1/photos", {"ids": ["x"], "description": "nul\x00here"}),
        ("POST", "/api/v1/albums", {"name": "Ice\x00"}),
        ("POST", "/api/v1/session", {"username": "\x00", "password": "p"}),
        ("GET", "/api/v1/photos/a%00b", None),
        ("GET", "/api/v1/search?q=beach%00", None),
    ],
)
def test_text_with_a_nul_character_is_refused_alike_in_both_worlds(
    client: TestClient, auth: dict[str, str], method: str, path: str, body: object
) -> None:
    """PostgreSQL cannot store a NUL: the scale world answered 500 where SQLite stored it."""
    response = client.request(method, path, headers=auth, json=body)
    assert response.status_code in (400, 422)
    assert "NUL" in response.json()["error"]["message"]


def test_an_edge_url_with_a_non_ascii_signature_is_404(client: TestClient) -> None:
    response = client.get("/t/abc.webp", params={"link": "x", "exp": 1, "sig": "é"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
