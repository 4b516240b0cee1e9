"""``OnnxClip``: a CLIP model exported to ONNX, supplied by the user in a folder.

No package ships CLIP weights, so Albumen runs one only when ``ALBUMEN_CLIP_MODEL_DIR`` names a
folder holding:

- ``visual.onnx``: ``pixel_values`` float32 [N, 3, S, S] (RGB, normalised) → embeddings [N, D];
- ``textual.onnx``: ``input_ids`` int64 [N, L] → embeddings [N, D];
- ``tokenizer.json``: the text model's tokenizer (Hugging Face ``tokenizers`` format);
- ``config.json``: ``{"image_size": S, "context_length": L, "dimensions": D, "mean": [3],
  "std": [3]}``.

Both outputs are L2-normalised here, so cosine similarity ranks photos for words.
"""

from __future__ import annotations

import hashlib
import json
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from albumen.domain.errors import CorruptMedia, InvalidInput

if TYPE_CHECKING:  # OpenCV, onnxruntime and tokenizers are loaded with the model
    from tokenizers import Tokenizer


class OnnxClip:
    def __init__(self, folder: Path, threads: int = 2) -> None:
        self._folder = folder
        self._threads = threads
        self._lock = threading.Lock()
        config = json.loads((folder / "config.json").read_text())
        self._size = int(config["image_size"])
        self._length = int(config["context_length"])
        self._mean = np.asarray(config.get("mean", [0.0, 0.0, 0.0]), np.float32)
        self._std = np.asarray(config.get("std", [1.0, 1.0, 1.0]), np.float32)
        digest = hashlib.sha256((folder / "visual.onnx").read_bytes()).hexdigest()[:12]
        self.version = f"clip-{digest}"
        self.dimensions = int(config["dimensions"])

    def embed_image(self, image: bytes) -> tuple[float, ...]:
        import cv2

        decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise CorruptMedia("the preview could not be decoded for CLIP")
        pixels = _square(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), self._size)
        normalised = (pixels.astype(np.float32) / 255.0 - self._mean) / self._std
        batch = normalised.transpose(2, 0, 1)[np.newaxis]
        with self._lock:
            output = self._visual.run(None, {"pixel_values": batch})[0]
        return _unit(output[0])

    def embed_text(self, text: str) -> tuple[float, ...]:
        ids = self._tokenizer.encode(text).ids[: self._length]
        if not ids:
            raise InvalidInput("the text has nothing to search for", code="empty_query")
        padded = np.zeros((1, self._length), np.int64)
        padded[0, : len(ids)] = ids
        with self._lock:
            output = self._textual.run(None, {"input_ids": padded})[0]
        return _unit(output[0])

    @cached_property
    def _visual(self) -> Any:
        return self._session("visual.onnx")

    @cached_property
    def _textual(self) -> Any:
        return self._session("textual.onnx")

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(self._folder / "tokenizer.json"))

    def _session(self, name: str) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        return onnxruntime.InferenceSession(
            str(self._folder / name), options, providers=["CPUExecutionProvider"]
        )


def _square(image: Any, size: int) -> Any:
    """Shortest side to ``size``, then the centre square, as CLIP's preprocessing does."""
    import cv2

    height, width = image.shape[:2]
    scale = size / min(height, width)
    resized = cv2.resize(
        image,
        (max(size, round(width * scale)), max(size, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    top = (resized.shape[0] - size) // 2
    left = (resized.shape[1] - size) // 2
    return resized[top : top + size, left : left + size]


def _unit(vector: Any) -> tuple[float, ...]:
    flat = np.asarray(vector, np.float64).flatten()
    norm = float(np.linalg.norm(flat)) or 1.0
    return tuple(float(v) / norm for v in flat)
