"""The photo API in process: upload, dedupe, bad input, reads, edits, trash."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import pillow_heif
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, event

from albumen.adapters.queue import HueyJobQueue
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from albumen.config import Settings
from tests.conftest import make_jpeg, upload

DATE_ORIGINAL, OFFSET_ORIGINAL, EXIF_IFD = 0x9003, 0x9011, 0x8769
TUS = {"Tus-Resumable": "1.0.0"}
TUS_BODY = "application/offset+octet-stream"


def test_upload_stores_the_photo_and_processing_makes_it_ready(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    data = make_jpeg(800, 600, orientation=6)
    created = upload(client, auth, data, "holiday.jpg")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending"
    assert body["duplicate"] is False
    assert body["size"] == len(data)
    assert body["mime"] == "image/jpeg"

    assert queue.run_pending() == 1
    photo = client.get(f"/api/v1/photos/{body['id']}", headers=auth).json()
    assert photo["status"] == "ready"
    assert (photo["width"], photo["height"]) == (600, 800)  # orientation 6: displayed upright
    assert photo["orientation"] == 6
    assert photo["thumbhash"]


def test_same_bytes_twice_is_a_duplicate(client: TestClient, auth: dict[str, str]) -> None:
    data = make_jpeg(seed=3)
    first = upload(client, auth, data)
    second = upload(client, auth, data, "other-name.jpg")
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]


def test_the_same_bytes_from_another_user_are_their_own_photo(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    data = make_jpeg(seed=4)
    mine = upload(client, auth, data).json()
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    theirs = upload(client, bob, data)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


def test_text_named_jpg_is_refused_with_415(client: TestClient, auth: dict[str, str]) -> None:
    response = upload(client, auth, b"hello, I am not a photo\n" * 10, "sneaky.jpg")
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media"
    assert error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert client.get("/api/v1/photos", headers=auth).json()["items"] == []


def test_empty_file_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    response = upload(client, auth, b"", "empty.jpg")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_file"


def test_upload_over_the_size_limit_gets_413_and_leaves_nothing(
    client: TestClient, auth: dict[str, str], services: Services, settings: Settings
) -> None:
    services.photos.max_upload_bytes = 10_000
    response = upload(client, auth, make_jpeg(400, 300) + b"\0" * 20_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    staging = settings.data_dir / "blobs" / ".staging"
    assert list(staging.glob("*.part")) == []


def test_form_without_a_file_field(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/photos", headers=auth, files={"photo": ("a.jpg", b"x")})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_file"


def test_path_traversal_filename_keeps_only_the_name(
    client: TestClient, auth: dict[str, str], services: Services, settings: Settings
) -> None:
    body = upload(client, auth, make_jpeg(seed=5), "../../etc/passwd.jpg").json()
    assert body["filename"] == "passwd.jpg"
    assert not (settings.data_dir.parent / "etc").exists()


def test_missing_and_wrong_api_keys_get_401(client: TestClient) -> None:
    missing = client.get("/api/v1/photos")
    wrong = client.get("/api/v1/photos", headers={"Authorization": "Bearer alb_nope"})
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["code"] == "no_api_key"
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert upload(client, {}, make_jpeg()).status_code == 401


def test_another_users_photo_is_404_everywhere(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    photo_id = upload(client, auth, make_jpeg(seed=6)).json()["id"]
    bob = {"Authorization": f"Bearer {services.users.add('bob').secret}"}
    for path in ("", "/original", "/thumbnail"):
        assert client.get(f"/api/v1/photos/{photo_id}{path}", headers=bob).status_code == 404
    assert client.delete(f"/api/v1/photos/{photo_id}", headers=bob).status_code == 404
    assert (
        client.patch(f"/api/v1/photos/{photo_id}", headers=bob, json={"favorite": True}).status_code
        == 404
    )
    assert client.get("/api/v1/photos", headers=bob).json()["items"] == []


def test_truncated_jpeg_fails_with_a_reason_and_keeps_the_original(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    data = make_jpeg(seed=7)[:3000]
    photo_id = upload(client, auth, data).json()["id"]
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["status"] == "failed"
    assert "truncated" in photo["error"] or "premature" in photo["error"]
    assert client.get(f"/api/v1/photos/{photo_id}/original", headers=auth).content == data
    thumb = client.get(f"/api/v1/photos/{photo_id}/thumbnail", headers=auth)
    assert thumb.status_code == 409
    assert thumb.json()["error"]["code"] == "photo_failed"


def test_truncated_heic_fails_instead_of_showing_grey(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(make_jpeg(640, 480, seed=14))).save(out, "HEIF", quality=60)
    data = out.getvalue()
    photo_id = upload(client, auth, data[: len(data) * 2 // 3], "cut.heic").json()["id"]
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["status"] == "failed"
    assert "truncated" in photo["error"]


def test_decompression_bomb_fails_without_decoding(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    photo_id = upload(client, auth, _png_bomb(), "bomb.png").json()["id"]
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["status"] == "failed"
    assert "pixels" in photo["error"]


def _png_bomb() -> bytes:
    """A valid PNG header declaring 100,000 x 100,000 pixels, with almost no data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\0" * 100_001 * 10)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def test_absurd_exif_values_are_dropped_not_trusted(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    exif_ifd = {DATE_ORIGINAL: "9999:99:99 99:99:99", OFFSET_ORIGINAL: "+99:00"}
    data = make_jpeg(seed=8, exif={EXIF_IFD: exif_ifd, 0x010F: "\x00\x00", 0x0112: 42})
    photo_id = upload(client, auth, data).json()["id"]
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["status"] == "ready"
    assert photo["taken_at"] is None
    assert photo["orientation"] is None
    assert photo["camera"]["make"] is None


def test_timeline_is_newest_taken_first_with_a_keyset_cursor(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    for day in (3, 1, 5, 2, 4):
        exif = {EXIF_IFD: {DATE_ORIGINAL: f"2020:01:0{day} 12:00:00"}}
        upload(client, auth, make_jpeg(64, 48, seed=day, exif=exif))
    queue.run_pending()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/photos", headers=auth, params=params).json()
        seen += [p["taken_at"][:10] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"2020-01-0{day}" for day in (5, 4, 3, 2, 1)]


def test_bad_cursor_is_a_clear_error(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/photos", headers=auth, params={"cursor": "!!!"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_cursor"


def test_edit_trash_and_restore(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    photo_id = upload(client, auth, make_jpeg(seed=9)).json()["id"]
    edited = client.patch(
        f"/api/v1/photos/{photo_id}",
        headers=auth,
        json={"favorite": True, "description": "the lake", "taken_at": "2019-07-01T10:00:00+02:00"},
    ).json()
    assert edited["favorite"] is True
    assert edited["description"] == "the lake"
    assert edited["taken_at"] == "2019-07-01T10:00:00+02:00"
    assert edited["taken_at_utc"].startswith("2019-07-01T08:00:00")

    assert client.delete(f"/api/v1/photos/{photo_id}", headers=auth).status_code == 204
    assert client.get("/api/v1/photos", headers=auth).json()["items"] == []
    assert client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()["trashed"] is True
    restored = client.post(f"/api/v1/photos/{photo_id}/restore", headers=auth).json()
    assert restored["trashed"] is False
    assert len(client.get("/api/v1/photos", headers=auth).json()["items"]) == 1


def test_taken_at_without_offset_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    photo_id = upload(client, auth, make_jpeg(seed=10)).json()["id"]
    response = client.patch(
        f"/api/v1/photos/{photo_id}", headers=auth, json={"taken_at": "2019-07-01T10:00:00"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_jobs_endpoint_shows_queue_and_failures(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    upload(client, auth, make_jpeg(seed=11))
    upload(client, auth, make_jpeg(seed=12)[:2000], "broken.jpg")
    before = client.get("/api/v1/jobs", headers=auth).json()
    assert before["queue_depth"] >= 2
    assert before["photos"]["pending"] == 2
    queue.run_pending()
    after = client.get("/api/v1/jobs", headers=auth).json()
    assert after["queue_depth"] == 0
    assert after["photos"]["ready"] == 1
    assert after["photos"]["failed"] == 1
    assert after["failures"][0]["filename"] == "broken.jpg"


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ready", "failing": []}


def test_thumbnail_is_decodable_webp(client: TestClient, auth: dict[str, str]) -> None:
    photo_id = upload(client, auth, make_jpeg(1200, 900, seed=13)).json()["id"]
    response = client.get(
        f"/api/v1/photos/{photo_id}/thumbnail", headers=auth | {"Accept": "image/webp,*/*"}
    )
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "WEBP"
    assert max(image.size) == 300


def test_timeline_queries_do_not_grow_with_the_page(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    engine: Engine,
    queue: HueyJobQueue,
) -> None:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", _record(statements))

    def count(limit: int) -> int:
        client.get("/api/v1/photos", headers=auth, params={"limit": limit})  # warm the key
        statements.clear()
        page = client.get("/api/v1/photos", headers=auth, params={"limit": limit}).json()
        assert len(page["items"]) == min(limit, 12)
        return len(statements)

    for n in range(12):
        upload(client, auth, make_jpeg(32, 24, seed=100 + n))
    queue.run_pending()
    assert count(2) == count(12) == 2  # a keyset query and one for tags, whatever the page size


def _record(into: list[str]) -> Callable[..., None]:
    def listener(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        into.append(statement)

    return listener


def test_the_viewer_walk_gets_the_next_preview_warmed_ahead(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    queue: HueyJobQueue,
    infrastructure: Infrastructure,
) -> None:
    for n in range(10):
        upload(client, auth, make_jpeg(320, 240, seed=200 + n), f"walk{n}.jpg")
    queue.run_pending()
    listing = [p["id"] for p in client.get("/api/v1/photos", headers=auth).json()["items"]]
    webp = auth | {"Accept": "image/webp"}
    infrastructure.thumbnail_cache.clear()

    def in_l1(photo_id: str) -> bool:
        assert services.prefetch.wait_idle(timeout=10)  # warming done
        return infrastructure.thumbnail_cache.has(f"thumb:{photo_id}:preview:webp")

    for photo_id in listing[:5]:  # she opens photos one after another: a habit is learnt
        client.get(f"/api/v1/photos/{photo_id}/thumbnail?size=preview", headers=webp)
    assert in_l1(listing[5])  # the one she opens next is already in memory
    assert not in_l1(listing[8])
    client.get(f"/api/v1/photos/{listing[5]}/thumbnail?size=preview", headers=webp)
    scraped = client.get("/metrics", headers=auth).text
    assert 'albumen_prefetch_outcomes_total{kind="next",outcome="hit"}' in scraped
    assert 'albumen_prefetch_bytes_total{state="used"}' in scraped


def test_a_photo_without_a_date_inside_takes_the_date_its_uploader_sent(
    client: TestClient, auth: dict[str, str], queue: HueyJobQueue
) -> None:
    """Photos with no date in them piled up on the day of their upload (#16). The file's
    date, sent as ``modified_at`` (a multipart field, or tus metadata), dates them now; a
    date in the photo wins; a date no photo can have is refused and nothing is kept."""
    sent = {"modified_at": "2015-06-01T12:30:00+02:00"}
    multipart = client.post(
        "/api/v1/photos", headers=auth, files={"file": ("scan.jpg", make_jpeg(seed=81))}, data=sent
    )
    assert multipart.status_code == 201, multipart.text
    months = client.get("/api/v1/timeline/buckets", headers=auth).json()["buckets"]
    assert months == [{"key": "2015-06", "count": 1}]  # in its place before it is processed

    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in (("filename", "tus.jpg"), ("modified_at", "2016-02-03T04:05:06"))
    )
    data = make_jpeg(seed=82)
    made = client.post(
        "/api/v1/uploads",
        headers=auth | TUS | {"Upload-Length": str(len(data)), "Upload-Metadata": metadata},
    )
    assert made.status_code == 201, made.text
    done = client.patch(
        made.headers["Location"],
        headers=auth | TUS | {"Upload-Offset": "0", "Content-Type": TUS_BODY},
        content=data,
    )
    assert done.status_code == 204, done.text
    tus_id = done.headers["Albumen-Photo-Id"]

    exif = {EXIF_IFD: {DATE_ORIGINAL: "2020:05:01 10:00:00", OFFSET_ORIGINAL: "+02:00"}}
    dated = client.post(
        "/api/v1/photos",
        headers=auth,
        files={"file": ("dated.jpg", make_jpeg(seed=83, exif=exif))},
        data=sent,
    ).json()
    queue.run_pending()

    def shown(photo_id: str) -> dict[str, str]:
        return dict(client.get(f"/api/v1/photos/{photo_id}", headers=auth).json())

    scan = shown(multipart.json()["id"])
    assert scan["taken_at"] == "2015-06-01T12:30:00+02:00"
    assert scan["taken_at_source"].startswith("the file's modification time")
    assert shown(tus_id)["taken_at"] == "2016-02-03T04:05:06"  # local: no offset was sent
    assert shown(dated["id"])["taken_at"] == "2020-05-01T10:00:00+02:00"
    found = client.get("/api/v1/search", headers=auth, params={"q": "on:2015-06"}).json()
    assert [p["id"] for p in found["items"]] == [scan["id"]]

    for bad in ("last summer", "2999-01-01T00:00:00Z"):
        refused = client.post(
            "/api/v1/photos",
            headers=auth,
            files={"file": ("x.jpg", make_jpeg(seed=84))},
            data={"modified_at": bad},
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid_modified_at"
    listed = client.get("/api/v1/photos", headers=auth).json()["items"]
    assert len(listed) == 3  # nothing of the refused ones was kept
