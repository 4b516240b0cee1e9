"""``AnalysisService``: what the models see in each photo, after its thumbnails exist.

The models read the ``preview`` rendition (1440 px, upright, sRGB), never the original. A photo
whose analysis fails keeps everything else; the failure is recorded with the model version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from albumen.domain.errors import AlbumenError, Unavailable
from albumen.domain.jobs import JobName, Outcome
from albumen.domain.photos import PhotoStatus, ThumbFormat, ThumbSize
from albumen.ports import (
    AnalysisRepo,
    BlobStore,
    Clock,
    JobQueue,
    PhotoAnalyzer,
    PhotoRepo,
    TextImageEmbedder,
)

log = logging.getLogger(__name__)
_BATCH = 500


class AnalysisService:
    def __init__(
        self,
        photos: PhotoRepo,
        analyses: AnalysisRepo,
        blobs: BlobStore,
        analyzer: PhotoAnalyzer,
        queue: JobQueue,
        clock: Clock,
        clip: TextImageEmbedder | None = None,
    ) -> None:
        self._clip = clip
        self._photos = photos
        self._analyses = analyses
        self._blobs = blobs
        self._analyzer = analyzer
        self._queue = queue
        self._clock = clock

    def analyze_photo(self, photo_id: str) -> Outcome:
        photo = self._photos.get(photo_id)
        if photo is None or photo.status is not PhotoStatus.READY:
            return Outcome.SKIPPED
        version = self.version
        preview = self._photos.derivative(photo_id, ThumbSize.PREVIEW, ThumbFormat.WEBP)
        if preview is None:
            self._analyses.fail(photo_id, version, "the photo has no preview to analyse")
            return Outcome.FAILED
        try:
            image = self._blobs.read(preview.sha256)
            analysis = self._analyzer.analyze(image)
            if self._clip is not None:
                analysis = replace(analysis, clip=self._clip.embed_image(image))
        except Unavailable:
            raise  # the store away, not the photo's fault: the job is tried again
        except AlbumenError as err:
            self._analyses.fail(photo_id, version, err.message)
            log.warning("analysis failed", extra={"photo_id": photo_id, "code": err.code})
            return Outcome.FAILED
        crops = [self._blobs.put_bytes(face.crop) if face.crop else None for face in analysis.faces]
        self._analyses.save(photo_id, photo.owner_id, version, analysis, crops, self._clock.now())
        if analysis.faces:
            self._queue.enqueue(JobName.GROUP_FACES, photo.owner_id)
        return Outcome.DONE

    @property
    def version(self) -> str:
        """Of every model that looks at photos: a new one means analysing them again."""
        clip = f"+{self._clip.version}" if self._clip else ""
        return f"{self._analyzer.version}{clip}"

    def queue_unanalysed(self, everything: bool = False) -> int:
        """Queue every ready photo the current models have not analysed (or all of them)."""
        ids = self._analyses.unanalysed(self.version, everything, limit=10_000_000)
        for photo_id in ids:
            self._queue.enqueue(JobName.ANALYZE_PHOTO, photo_id)
        return len(ids)

    def analyze_all(self, everything: bool, progress: Callable[[int, int], None]) -> int:
        """Analyse in this process, reporting ``progress(done, total)``; the number analysed."""
        ids = self._analyses.unanalysed(self.version, everything, limit=10_000_000)
        for done, photo_id in enumerate(ids, 1):
            self.analyze_photo(photo_id)
            progress(done, len(ids))
        return len(ids)
