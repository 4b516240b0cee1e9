"""nginx in front, with the configuration in ops/nginx: a share page's thumbnail is a cache HIT
the second time, Range requests still work, and private responses are never cached."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import make_jpeg
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.slow
CONFIG = Path(__file__).resolve().parents[2] / "ops" / "nginx" / "albumen.conf"


def _nginx_conf(folder: Path, upstream: int, port: int) -> Path:
    """The repository's server block with this test's ports and folders, in a main config."""
    block = CONFIG.read_text()
    block = block.replace("/var/cache/nginx/albumen", str(folder / "cache"))
    block = block.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    block = block.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    for placed in (str(folder), f":{upstream};", f":{port};"):
        assert placed in block  # the marked values are where the file says they are
    temp = folder / "temp"
    main = f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{block}
}}
"""
    temp.mkdir(parents=True)
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[tuple[str, str]]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (apt-get install nginx; make test does as root)")
    server = LiveServer(tmp_path / "data", ALBUMEN_ANALYSIS="false")
    key = server.cli("users", "add", "alice")
    server.start()
    port = free_port()
    conf = _nginx_conf(tmp_path / "nginx", server.port, port)
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path / "nginx"), "-g", "daemon off;"]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.05)
    try:
        yield url, key
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.stop()


def test_a_share_thumbnail_is_a_hit_the_second_time_and_ranges_work(
    edge: tuple[str, str],
) -> None:
    url, key = edge
    auth = {"Authorization": f"Bearer {key}"}
    data = make_jpeg(1200, 900, seed=120)
    photo = requests.post(
        f"{url}/api/v1/photos", headers=auth, files={"file": ("edge.jpg", data)}, timeout=30
    ).json()
    deadline = time.monotonic() + 60
    while requests.get(f"{url}/api/v1/photos/{photo['id']}", headers=auth).json()["status"] != (
        "ready"
    ):
        assert time.monotonic() < deadline, "the photo was not processed"
        time.sleep(0.2)
    link = requests.post(
        f"{url}/api/v1/shares", headers=auth, json={"photo_id": photo["id"]}, timeout=10
    ).json()
    (item,) = requests.get(f"{url}/s/{link['token']}", timeout=10).json()["items"]

    first = requests.get(url + item["preview_url"], timeout=10)
    second = requests.get(url + item["preview_url"], timeout=10)
    assert (first.status_code, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status_code, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert second.content == first.content

    part = requests.get(url + item["preview_url"], headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206
    assert part.headers["X-Cache-Status"] == "HIT"
    assert part.content == first.content[100:200]

    original = requests.get(
        f"{url}/api/v1/photos/{photo['id']}/original",
        headers=auth | {"Range": "bytes=0-99"},
        timeout=10,
    )
    assert original.status_code == 206
    assert original.content == data[:100]
    assert "X-Cache-Status" not in original.headers  # behind an account: never at the edge
