"""Analysis speed per stage on this CPU: faces, tags (classifier and detector), embedding.

``python -m bench.analysis`` (also part of ``make bench``) runs the models on the previews of
the real photos in ``../shared/photos``, as the pipeline does, and reports ms per photo
(p50/p95) per stage, photos per second, and the peak memory of this process with every model
loaded.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path

from albumen.adapters.media import VipsThumbnailer
from albumen.adapters.ml import OpenCvAnalyzer
from albumen.domain.errors import AlbumenError
from albumen.domain.media import sniff
from albumen.domain.photos import ThumbFormat, ThumbSize
from bench.library import percentiles

ROOT = Path(__file__).resolve().parent
SHARED = ROOT.parents[1] / "shared" / "photos"


def previews() -> list[bytes]:
    thumbnailer = VipsThumbnailer(250_000_000)
    found = []
    for path in sorted(SHARED.iterdir()):
        try:
            media = sniff(path.read_bytes()[:64], path.name)
            found.append(
                thumbnailer.render(path, media, [ThumbSize.PREVIEW], ThumbFormat.WEBP)[0].data
            )
        except (AlbumenError, OSError):
            continue
    return found


def main() -> dict[str, object]:
    if not SHARED.is_dir():
        return {"skipped": "needs ../shared/photos"}
    images = previews()
    analyzer = OpenCvAnalyzer(threads=2)
    analyzer.analyze(images[0])  # loads every model
    loaded_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stages: dict[str, list[float]] = {"decode": [], "faces": [], "classifier": [], "detector": []}
    whole = []
    for image in images:
        start = time.perf_counter()
        analyzer.analyze(image)
        whole.append((time.perf_counter() - start) * 1000)
        for stage, ms in analyzer.last_timings.items():
            stages[stage].append(ms)
    total_s = sum(whole) / 1000
    return {
        "photos": len(images),
        "ms_per_photo": percentiles(whole),
        "photos_per_s": round(len(images) / total_s, 2),
        "ms_per_stage": {stage: percentiles(times) for stage, times in stages.items()},
        "rss_mb_models_loaded": round(loaded_mb, 1),
        "rss_mb_peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_rss_mb": 1536,
    }


if __name__ == "__main__":
    out = main()
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "analysis.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
