"""Serving bytes: originals with Range/ETag, thumbnails by Accept, caching headers."""

from __future__ import annotations

import hashlib
import io

from fastapi.testclient import TestClient
from PIL import Image

from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from tests.conftest import make_jpeg, upload


def _photo(client: TestClient, auth: dict[str, str], data: bytes, name: str = "ä photo.jpg") -> str:
    photo_id: str = upload(client, auth, data, name).json()["id"]
    return photo_id


def test_original_is_byte_identical_with_strong_etag(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = make_jpeg(seed=20)
    photo_id = _photo(client, auth, data)
    response = client.get(f"/api/v1/photos/{photo_id}/original", headers=auth)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert "filename*=UTF-8''%C3%A4%20photo.jpg" in response.headers["content-disposition"]


def test_original_ranges(client: TestClient, auth: dict[str, str]) -> None:
    data = make_jpeg(seed=21)
    url = f"/api/v1/photos/{_photo(client, auth, data)}/original"
    middle = client.get(url, headers=auth | {"Range": "bytes=100-199"})
    assert middle.status_code == 206
    assert middle.content == data[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = client.get(url, headers=auth | {"Range": "bytes=-50"})
    assert tail.content == data[-50:]
    open_ended = client.get(url, headers=auth | {"Range": f"bytes={len(data) - 10}-"})
    assert open_ended.content == data[-10:]
    past = client.get(url, headers=auth | {"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(data)}"
    stale = client.get(url, headers=auth | {"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200
    assert stale.content == data


def test_if_none_match_gets_304(client: TestClient, auth: dict[str, str]) -> None:
    url = f"/api/v1/photos/{_photo(client, auth, make_jpeg(seed=22))}/original"
    etag = client.get(url, headers=auth).headers["etag"]
    again = client.get(url, headers=auth | {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_thumbnail_by_accept(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    photo_id = _photo(client, auth, make_jpeg(2000, 1000, seed=23))
    queue.run_pending()
    url = f"/api/v1/photos/{photo_id}/thumbnail"
    webp = client.get(url, headers=auth | {"Accept": "image/avif,image/webp,*/*"})
    jpeg = client.get(url, headers=auth | {"Accept": "image/png,image/*;q=0.8"})
    assert webp.headers["content-type"] == "image/webp"
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert webp.headers["vary"] == jpeg.headers["vary"] == "Accept"
    assert Image.open(io.BytesIO(jpeg.content)).size == (300, 150)
    preview = client.get(url, headers=auth | {"Accept": "image/webp"}, params={"size": "preview"})
    assert Image.open(io.BytesIO(preview.content)).size == (1440, 720)
    cached = client.get(
        url, headers=auth | {"Accept": "image/webp", "If-None-Match": webp.headers["etag"]}
    )
    assert cached.status_code == 304


def test_thumbnail_before_its_job_ran_is_made_on_demand(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    photo_id = _photo(client, auth, make_jpeg(900, 600, seed=24))
    response = client.get(
        f"/api/v1/photos/{photo_id}/thumbnail", headers=auth | {"Accept": "image/webp"}
    )
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (300, 200)
    queue.run_pending()  # the job later makes the same bytes: nothing changes
    again = client.get(
        f"/api/v1/photos/{photo_id}/thumbnail", headers=auth | {"Accept": "image/webp"}
    )
    assert again.content == response.content


def test_thumbnails_strip_metadata_and_apply_orientation(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> None:
    gps = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}
    data = make_jpeg(800, 400, seed=25, orientation=8, exif={0x8825: gps})
    photo_id = _photo(client, auth, data)
    queue.run_pending()
    photo = client.get(f"/api/v1/photos/{photo_id}", headers=auth).json()
    assert photo["location"]["lat"] > 52
    for accept in ("image/webp", "image/jpeg"):
        thumb = client.get(
            f"/api/v1/photos/{photo_id}/thumbnail", headers=auth | {"Accept": accept}
        ).content
        image = Image.open(io.BytesIO(thumb))
        assert image.size == (150, 300)  # orientation 8 turns the landscape upright
        assert not image.getexif()
        assert "xmp" not in image.info
        # the pure red corner (blue 0, elsewhere 157) was top-left as stored;
        # orientation 8 moves it to the bottom-left
        blue = image.convert("RGB").getchannel("B")
        assert _at(blue, 5, 295) < 50
        assert _at(blue, 5, 5) > 100
        assert _at(blue, 145, 295) > 100


def _at(channel: Image.Image, x: int, y: int) -> int:
    value = channel.getpixel((x, y))
    assert isinstance(value, int)
    return value


def test_thumbnail_size_is_checked_and_documented(client: TestClient, auth: dict[str, str]) -> None:
    photo_id = _photo(client, auth, make_jpeg(seed=26))
    bad = client.get(f"/api/v1/photos/{photo_id}/thumbnail?size=huge", headers=auth)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_size"
    assert client.get(f"/api/v1/photos/{photo_id}/thumbnail").status_code == 401
    schema = client.get("/openapi.json").json()
    assert "size" in str(schema["paths"]["/api/v1/photos/{photo_id}/thumbnail"])


def test_request_id_is_kept_from_the_client(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
