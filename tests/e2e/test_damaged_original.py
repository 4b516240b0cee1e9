"""A damaged original is never served as good (#21, item 10).

After one byte of a stored original was flipped, ``GET .../original`` answered 200 with the
strong ETag of the true hash and bytes that hash otherwise, even after ``albumen scrub`` had
reported it corrupt. Now a whole read is checked on its way out (the last chunk waits for the
hash: a mismatch cuts the body short, so no client holds a complete wrong file) and noted; a
noted original, or one the scrub found corrupt, answers 410 ``original_damaged`` until a scrub
finds it whole again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import make_jpeg
from tests.live import LiveServer

pytestmark = pytest.mark.slow


def _stored(server: LiveServer, data: bytes) -> tuple[str, Path]:
    answer = requests.post(
        f"{server.url}/api/v1/photos", headers=server.auth, files={"file": ("p.jpg", data)}
    )
    assert answer.status_code == 201, answer.text
    sha = hashlib.sha256(data).hexdigest()
    (path,) = server.data_dir.rglob(sha)
    return answer.json()["id"], path


def _flip_a_byte(path: Path) -> bytes:
    good = path.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    path.write_bytes(bytes(bad))
    return good


def _scrub(server: LiveServer) -> subprocess.CompletedProcess[bytes]:
    env = os.environ | {"ALBUMEN_DATA_DIR": str(server.data_dir), "ALBUMEN_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "albumen", "scrub"], env=env, capture_output=True, timeout=120
    )


def _original(server: LiveServer, photo_id: str) -> requests.Response:
    return requests.get(f"{server.url}/api/v1/photos/{photo_id}/original", headers=server.auth)


def _streamed(server: LiveServer, photo_id: str) -> tuple[bytes, bool]:
    """What a client receives of a whole original, and whether the body was cut short."""
    received = b""
    url = f"{server.url}/api/v1/photos/{photo_id}/original"
    try:
        with requests.get(url, headers=server.auth, stream=True) as answer:
            assert answer.status_code == 200
            for chunk in answer.iter_content(65536):
                received += chunk
    except requests.exceptions.ChunkedEncodingError:
        return received, True
    return received, False


def test_a_read_that_meets_damage_stops_short_and_the_next_is_410(server: LiveServer) -> None:
    data = make_jpeg(1600, 1200, seed=50) + b"\0" * 3_000_000  # several chunks
    photo_id, path = _stored(server, data)
    _flip_a_byte(path)

    received, cut = _streamed(server, photo_id)
    assert cut  # the body was cut short, not completed with wrong bytes
    assert len(received) < len(data)

    second = _original(server, photo_id)
    assert second.status_code == 410
    assert second.json()["error"]["code"] == "original_damaged"
    ranged = requests.get(
        f"{server.url}/api/v1/photos/{photo_id}/original",
        headers=server.auth | {"Range": "bytes=0-99"},
    )
    assert ranged.status_code == 410  # no part of it either


def test_a_scrub_that_finds_damage_stops_it_being_served_until_it_is_whole(
    server: LiveServer,
) -> None:
    data = make_jpeg(1600, 1200, seed=51)
    photo_id, path = _stored(server, data)
    good = _flip_a_byte(path)

    assert _scrub(server).returncode == 1  # a finding it could not repair (no mirror)
    damaged = _original(server, photo_id)
    assert damaged.status_code == 410
    assert damaged.json()["error"]["code"] == "original_damaged"
    assert "backup" in damaged.json()["error"]["message"]

    path.write_bytes(good)  # restored by hand, as from a backup
    assert _scrub(server).returncode == 0
    whole = _original(server, photo_id)
    assert whole.status_code == 200
    assert whole.content == data
