"""Against a real server: tus with the tuspy client, dropped connections, and kill -9."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tusclient import client as tus

from tests.conftest import make_jpeg
from tests.live import LiveServer

pytestmark = pytest.mark.slow


def _photo(server: LiveServer, photo_id: str) -> dict[str, object]:
    response = requests.get(f"{server.url}/api/v1/photos/{photo_id}", headers=server.auth)
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


def test_tuspy_upload_with_checksums_becomes_a_photo(server: LiveServer) -> None:
    data = make_jpeg(1600, 1200, seed=40)
    uploader = tus.TusClient(f"{server.url}/api/v1/uploads", headers=server.auth).uploader(
        file_stream=io.BytesIO(data),
        chunk_size=64 * 1024,
        metadata={"filename": "tus.jpg"},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.url is not None
    head = requests.head(uploader.url, headers=server.auth | {"Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == str(len(data))
    photo = _photo(server, head.headers["Albumen-Photo-Id"])
    assert photo["filename"] == "tus.jpg"
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    original = requests.get(
        f"{server.url}/api/v1/photos/{photo['id']}/original", headers=server.auth
    )
    assert original.content == data


def test_wrong_checksum_is_460_and_keeps_nothing(server: LiveServer) -> None:
    headers = server.auth | {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{server.url}/api/v1/uploads", headers=headers | {"Upload-Length": "10"}
    )
    url = server.url + created.headers["Location"]
    response = requests.patch(
        url,
        data=b"0123456789",
        headers=headers
        | {
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": "sha1 " + "A" * 28,
        },
    )
    assert response.status_code == 460
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert requests.head(url, headers=headers).headers["Upload-Offset"] == "0"
    assert requests.delete(url, headers=headers).status_code == 204
    assert requests.head(url, headers=headers).status_code == 404


def _drop_midway(server: LiveServer, path: str, body: bytes, sent: int) -> None:
    """Send a PATCH that promises the whole body, deliver part of it and hang up."""
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.key}\r\nTus-Resumable: 1.0.0\r\n"
        "Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[:sent])


def test_upload_resumes_after_a_dropped_connection(server: LiveServer) -> None:
    data = make_jpeg(1600, 1200, seed=41) + b"\0" * 300_000
    headers = server.auth | {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{server.url}/api/v1/uploads", headers=headers | {"Upload-Length": str(len(data))}
    )
    path = created.headers["Location"]
    _drop_midway(server, path, data, 200_000)
    offset = 0
    for _ in range(50):  # the server notices the hang-up asynchronously
        offset = int(requests.head(server.url + path, headers=headers).headers["Upload-Offset"])
        if offset == 200_000:
            break
        threading.Event().wait(0.1)
    assert offset == 200_000

    uploader = tus.TusClient(f"{server.url}/api/v1/uploads", headers=server.auth).uploader(
        file_stream=io.BytesIO(data), url=server.url + path, chunk_size=128 * 1024
    )
    assert uploader.offset == 200_000  # tuspy asked the server where to go on from
    uploader.upload()
    head = requests.head(server.url + path, headers=headers)
    photo = _photo(server, head.headers["Albumen-Photo-Id"])
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_second_patch_meanwhile_is_409_and_the_first_completes(server: LiveServer) -> None:
    data = make_jpeg(1600, 1200, seed=43) + b"\0" * 300_000
    headers = server.auth | {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{server.url}/api/v1/uploads", headers=headers | {"Upload-Length": str(len(data))}
    )
    path = created.headers["Location"]
    patch = headers | {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in patch.items())
        + f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as first:
        first.sendall(head + data[:100_000])  # the first writer, halfway
        refused = None
        for _ in range(100):  # an empty PATCH changes nothing: ask until the first holds it
            answer = requests.patch(server.url + path, data=b"", headers=patch)
            if answer.status_code == 409:
                refused = answer
                break
            threading.Event().wait(0.05)
        assert refused is not None
        assert refused.json()["error"]["code"] == "upload_busy"
        first.sendall(data[100_000:])
        reply = b""
        while chunk := first.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 204"), reply[:200]
    head_after = requests.head(server.url + path, headers=headers)
    assert head_after.headers["Upload-Offset"] == str(len(data))
    photo = _photo(server, head_after.headers["Albumen-Photo-Id"])
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()


def test_multipart_upload_dropped_midway_leaves_nothing(server: LiveServer) -> None:
    body = make_jpeg(1600, 1200, seed=42) + b"\0" * 500_000
    boundary = "b0undary"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /api/v1/photos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + form[: len(form) // 2])
    staging = server.data_dir / "blobs" / ".staging"
    for _ in range(50):
        if not list(staging.glob("*.part")):
            break
        threading.Event().wait(0.1)
    assert list(staging.glob("*.part")) == []
    listing = requests.get(f"{server.url}/api/v1/photos", headers=server.auth).json()
    assert listing["items"] == []
    assert requests.get(f"{server.url}/healthz").status_code == 200


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_a_500_mb_upload_keeps_the_servers_memory_flat(server: LiveServer) -> None:
    assert server.process is not None
    head = make_jpeg(64, 48, seed=43)
    boundary = "flatmemory"
    before = _peak_rss_mb(server.process.pid)

    def body() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"'
            "\r\nContent-Type: image/jpeg\r\n\r\n"
        ).encode()
        yield head
        block = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(500):
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    response = requests.post(
        f"{server.url}/api/v1/photos",
        data=body(),
        headers=server.auth | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=300,
    )
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(head) + 500 * 1024 * 1024
    growth = _peak_rss_mb(server.process.pid) - before
    assert growth < 64, f"peak RSS grew by {growth:.0f} MB during a 500 MB upload"
