"""``make bench``: Albumen against reference tools measured in the same run; JSON results.

Each figure is a median over repeats, with the reference measured right beside it, so the
ratios hold on a shared, noisy machine where absolute times do not.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pillow_heif
import pyvips
import requests
from PIL import Image, ImageChops

from albumen.adapters.media import WEBP_EFFORT, WEBP_QUALITY
from albumen.app.root import build
from albumen.config import Settings
from bench import (
    analysis,
    durability,
    library,
    scale,
    search_limits,
    similar,
    startup,
    tiers,
    webapp,
)
from bench.server import Server

pillow_heif.register_heif_opener()
ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parents[1] / "shared" / "photos"
RESULTS = ROOT / "results"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
IMPORT_PHOTOS = int(os.environ.get("BENCH_IMPORT_PHOTOS", "200"))


def median_ms(
    func: Callable[[], object],
    repeats: int = REPEATS,
    setup: Callable[[], object] = lambda: None,
) -> float:
    """Median wall time of ``func`` in ms, after one warm-up; ``setup`` runs untimed first."""
    setup()
    func()
    times = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def realistic_photo(megapixels: float, seed: int) -> Image.Image:
    """A real photo upscaled to the size a camera makes, with sensor-like noise."""
    source = SHARED / "immich_japanese-shop.jpg"
    base = (
        Image.open(source).convert("RGB")
        if source.exists()
        else Image.effect_mandelbrot((1440, 960), (-2.0, -1.2, 1.0, 1.2), 64).convert("RGB")
    )
    width = int((megapixels * 1e6 * 3 / 2) ** 0.5)
    image = base.resize((width, width * 2 // 3), Image.Resampling.LANCZOS)
    # per-channel sensor noise (sigma 7): camera files of this size weigh 3-8 MB because of it
    noise = Image.merge(
        "RGB", [Image.effect_noise(image.size, 7 + seed + band) for band in range(3)]
    )
    return ImageChops.add(image, noise, offset=-128)


def write_samples(folder: Path) -> dict[str, Path]:
    samples = {}
    for name, megapixels in (("jpeg_12mp", 12), ("jpeg_24mp", 24)):
        path = folder / f"{name}.jpg"
        realistic_photo(megapixels, 1).save(path, "JPEG", quality=92)
        samples[name] = path
    heic = folder / "heic_12mp.heic"
    realistic_photo(12, 2).save(heic, "HEIF", quality=85)
    samples["heic_12mp"] = heic
    return samples


def bare_pyvips(path: Path) -> None:
    """The reference: what a hand-written pyvips script does for the same two renditions."""
    if path.suffix == ".heic":  # pyvips-binary has no HEVC decoder: the script needs pillow-heif
        with Image.open(path) as opened:
            rgb = opened.convert("RGB")
        image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.width, rgb.height, 3, "uchar")
        big = image.thumbnail_image(1440, height=1440, size="down")
        small = image.thumbnail_image(300, height=300, size="down")
    else:
        big = pyvips.Image.thumbnail(str(path), 1440, height=1440, size="down")
        small = pyvips.Image.thumbnail(str(path), 300, height=300, size="down")
    for image in (big, small):
        image.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_EFFORT, keep="none")


def bench_thumbnails(samples: dict[str, Path], work: Path) -> dict[str, object]:
    settings = Settings(data_dir=work / "thumbs", run_workers_in_server=False)
    built = build(settings)
    owner = built.services.users.add("bench").user.id
    results: dict[str, object] = {}
    for name, path in samples.items():
        writer = built.services.photos.stage()
        writer.write(path.read_bytes())
        photo = built.services.photos.ingest(owner, path.name, writer.finish()).photo
        for huey in built.infrastructure.queue.hueys.values():
            huey.flush()

        def pending(photo_id: str = photo.id) -> None:
            with built.infrastructure.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE photos SET status='pending' WHERE id=?", (photo_id,))

        ours = median_ms(
            lambda p=photo.id: built.services.processing.process_photo(p), setup=pending
        )
        bare = median_ms(lambda p=path: bare_pyvips(p))
        results[name] = {
            "bytes": path.stat().st_size,
            "albumen_job_ms": ours,
            "bare_pyvips_ms": bare,
            "ratio": round(ours / bare, 3),
            "target_ratio": 1.25,
        }
    built.close()
    return results


def local_write(data: bytes, folder: Path) -> None:
    digest = hashlib.sha256(data).hexdigest()
    path = folder / digest
    with path.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    path.unlink()


def multipart_body(data: bytes, boundary: str) -> bytearray:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return bytearray(head + data + f"\r\n--{boundary}--\r\n".encode())


def bench_upload(work: Path) -> dict[str, object]:
    """A 10 MB photo acknowledged over HTTP (keep-alive, body built once, as a browser streams
    a file) vs writing, fsyncing and hashing the same bytes locally."""
    settings = Settings(data_dir=work / "upload", run_workers_in_server=False)
    key = build(settings).services.users.add("bench").secret
    data_10mb = b"\xff\xd8\xff" + os.urandom(10 * 1024 * 1024 - 3)
    boundary = "albumenbench"
    body = multipart_body(data_10mb, boundary)
    marker = body.index(b"\xff\xd8\xff") + 3
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    counter = iter(range(10**6))
    with Server(settings.data_dir) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port)

        def upload() -> None:
            body[marker : marker + 8] = next(counter).to_bytes(8, "big")  # new bytes each time
            connection.request("POST", "/api/v1/photos", body=bytes(body), headers=headers)
            response = connection.getresponse()
            assert response.status == 201, response.read()
            response.read()

        ours = median_ms(upload)
        connection.close()
    scratch = work / "scratch"
    scratch.mkdir()
    local = median_ms(lambda: local_write(data_10mb, scratch))
    return {
        "http_upload_10mb_ms": ours,
        "local_write_fsync_hash_ms": local,
        "ratio": round(ours / local, 3),
        "target_ratio": 2.0,
    }


def bench_import(work: Path) -> dict[str, object]:
    """``albumen import`` of a folder vs uploading the same files over HTTP (4 clients, as
    import runs 4 at a time), each into an empty library."""
    folder = work / "import-src"
    folder.mkdir()
    base = realistic_photo(12, 3)
    for n in range(IMPORT_PHOTOS):
        unique = base.copy()
        unique.putpixel((n, 0), (n % 256, 255 - n % 256, 0))  # every file different bytes
        unique.save(folder / f"IMG_{n:04}.jpg", "JPEG", quality=92)
    files = sorted(folder.iterdir())
    total = sum(p.stat().st_size for p in files)
    env = {**os.environ, "ALBUMEN_DATA_DIR": str(work / "import"), "ALBUMEN_LOG_LEVEL": "WARNING"}
    albumen = [sys.executable, "-m", "albumen"]
    subprocess.run([*albumen, "users", "add", "bench"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(
        [*albumen, "import", str(folder), "--user", "bench"],
        env=env,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - start
    http_seconds = http_import(work / "http-import", files)
    return {
        "photos": IMPORT_PHOTOS,
        "megabytes": round(total / 1e6, 1),
        "seconds": round(seconds, 2),
        "photos_per_s": round(IMPORT_PHOTOS / seconds, 1),
        "mb_per_s": round(total / 1e6 / seconds, 1),
        "http_upload_seconds": round(http_seconds, 2),
        "http_photos_per_s": round(IMPORT_PHOTOS / http_seconds, 1),
        "ratio_import_to_http": round(seconds / http_seconds, 3),
        "target_ratio": 1.0,
        "note": "ingest only (hash, durable write, row, enqueue); thumbnails run in workers",
    }


def http_import(data_dir: Path, files: list[Path]) -> float:
    settings = Settings(data_dir=data_dir, run_workers_in_server=False)
    key = build(settings).services.users.add("bench").secret
    local = threading.local()
    with Server(settings.data_dir) as server:

        def send(path: Path) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
                local.session.headers["Authorization"] = f"Bearer {key}"
            with path.open("rb") as file:
                response = local.session.post(
                    f"{server.url}/api/v1/photos", files={"file": (path.name, file)}
                )
            assert response.status_code == 201, response.text

        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, files))
        return time.perf_counter() - start


def wrk(url: str, headers: dict[str, str]) -> dict[str, float]:
    args = ["wrk", "-t2", "-c32", "-d8s", "--latency", url]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1])
    p99 = next(line for line in out.splitlines() if line.strip().startswith("99%")).split()[-1]
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    unit = next(u for u in ("us", "ms", "s") if p99.endswith(u))
    return {"requests_per_s": rps, "p99_ms": round(float(p99.removesuffix(unit)) * factor[unit], 2)}


BARE_APP = """
import sys
from pathlib import Path
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

DATA = Path(sys.argv[2]).read_bytes()


async def starlette_endpoint(request):
    return Response(DATA, media_type="image/webp")


fastapi_app = FastAPI()


@fastapi_app.get("/t")
async def fastapi_endpoint() -> Response:
    return Response(DATA, media_type="image/webp")


starlette_app = Starlette(routes=[Route("/t", starlette_endpoint)])
app = fastapi_app if sys.argv[1] == "fastapi" else starlette_app
if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, port=18767, log_level="warning", access_log=False)
"""


def bare_route(kind: str, thumb: bytes) -> dict[str, float]:
    """A route that only returns the bytes: what the framework alone costs, same server."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "thumb.webp").write_bytes(thumb)
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_APP)
        server = subprocess.Popen(
            [sys.executable, str(script), kind, str(Path(tmp) / "thumb.webp")]
        )
        try:
            for _ in range(100):
                try:
                    requests.get("http://127.0.0.1:18767/t", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            return wrk("http://127.0.0.1:18767/t", {})
        finally:
            server.terminate()
            server.wait()


NGINX_CONF = """daemon off; worker_processes 1; pid WORK/nginx.pid; error_log stderr;
events {} http { access_log off; sendfile on; server { listen 18766; root STATIC; } }"""


def bench_serving(work: Path) -> dict[str, object]:
    if not (shutil.which("wrk") and shutil.which("nginx")):
        return {"skipped": "needs wrk and nginx (apt-get install wrk nginx-light)"}
    settings = Settings(data_dir=work / "serve", run_workers_in_server=False)
    built = build(settings)
    key = built.services.users.add("bench").secret
    writer = built.services.photos.stage()
    writer.write((SHARED / "immich_japanese-shop.jpg").read_bytes())
    photo = built.services.photos.ingest(
        built.services.users.by_name("bench").id, "a.jpg", writer.finish()
    ).photo
    built.infrastructure.queue.run_pending()
    built.close()
    thumb_url = f"/api/v1/photos/{photo.id}/thumbnail"
    headers = {"Authorization": f"Bearer {key}", "Accept": "image/webp"}
    with Server(settings.data_dir) as server:
        thumb = requests.get(server.url + thumb_url, headers=headers).content
        ours = wrk(server.url + thumb_url, headers)
    static = work / "static"
    static.mkdir()
    (static / "thumb.webp").write_bytes(thumb)
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.replace("WORK", str(work)).replace("STATIC", str(static)))
    nginx = subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        reference = wrk("http://127.0.0.1:18766/thumb.webp", {})
    finally:
        nginx.terminate()
        nginx.wait()
    bare = {kind: bare_route(kind, thumb) for kind in ("starlette", "fastapi")}
    return {
        "thumbnail_bytes": len(thumb),
        "albumen": ours,
        "nginx": reference,
        "bare_starlette_route": bare["starlette"],
        "bare_fastapi_route": bare["fastapi"],
        "share_of_nginx": round(ours["requests_per_s"] / reference["requests_per_s"], 3),
        "vs_bare_fastapi": round(ours["requests_per_s"] / bare["fastapi"]["requests_per_s"], 3),
        "target_share": 0.15,
        "target_p99_ms": 20,
    }


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        work = Path(tmp)
        samples = write_samples(work)
        results = {
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
            },
            "repeats": REPEATS,
            "startup": startup.main(),  # CLI start, serve to /readyz, idle RSS
            "thumbnails": bench_thumbnails(samples, work),
            "upload": bench_upload(work),
            "import": bench_import(work),
            "serving": bench_serving(work),
            "library": library.main(),  # a million photos: search, timeline, buckets
            "search_limits": search_limits.main(),  # another user's words; hostile queries
            "analysis": analysis.main(),  # faces, tags, embedding per photo
            "similar": similar.main(),  # nearest photos on the HNSW index
            "webapp": webapp.main(),  # first thumbnails and scrolling, in Chromium
            "durability": durability.main(),  # scrub, backup, restore, mirror, sidecars
            "tiers": tiers.main(),  # tier moves; a million photos' costs after a year
            "scale": scale.main(),  # PostgreSQL + Redis + S3 against the embedded default
        }
    out = RESULTS / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
