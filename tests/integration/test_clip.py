"""The CLIP port end to end, on a tiny CLIP-shaped model the test builds.

No CLIP weights can be downloaded here, so the model is made of a few hand-set numbers: the
image tower averages each colour channel, the text tower looks words up in a table where
"red", "green" and "blue" point along those channels. The plumbing is what is real: the
folder format, ONNX Runtime, the tokenizer, the index, the API.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from fastapi.testclient import TestClient
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers

from albumen.adapters.clip import OnnxClip
from albumen.app.root import Albumen, build
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import upload

WORDS = ["[PAD]", "[UNK]", "red", "green", "blue", "a", "photo", "of"]
DIMENSIONS = 4


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_tiny_clip(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    to_space = np.zeros((3, DIMENSIONS), np.float32)
    to_space[0, 0] = to_space[1, 1] = to_space[2, 2] = 1.0  # R, G, B → three axes
    visual = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["pixel_values", "axes"], ["means"], keepdims=0),
            helper.make_node("MatMul", ["means", "to_space"], ["image_embeds"]),
        ],
        "visual",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 8, 8])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", DIMENSIONS])],
        [
            numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
            numpy_helper.from_array(to_space, "to_space"),
        ],
    )
    _save(visual, folder / "visual.onnx")
    table = np.zeros((len(WORDS), DIMENSIONS), np.float32)
    table[WORDS.index("red"), 0] = table[WORDS.index("green"), 1] = 5.0
    table[WORDS.index("blue"), 2] = 5.0
    table[[WORDS.index(w) for w in ("a", "photo", "of")], 3] = 0.1
    textual = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["vectors"]),
            helper.make_node("ReduceSum", ["vectors", "axis"], ["text_embeds"], keepdims=0),
        ],
        "textual",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", 6])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", DIMENSIONS])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([1], np.int64), "axis"),
        ],
    )
    _save(textual, folder / "textual.onnx")
    tokenizer = Tokenizer(models.WordLevel({w: n for n, w in enumerate(WORDS)}, "[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"image_size": 8, "context_length": 6, "dimensions": DIMENSIONS}
    (folder / "config.json").write_text(json.dumps(config | {"mean": [0, 0, 0], "std": [1, 1, 1]}))
    return folder


def _image(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def test_the_tiny_model_puts_words_and_images_together(tmp_path: Path) -> None:
    clip = OnnxClip(build_tiny_clip(tmp_path / "clip"))
    red = clip.embed_image(_image((220, 10, 10)))
    blue = clip.embed_image(_image((10, 10, 220)))
    words = clip.embed_text("a photo of red")
    assert np.dot(words, red) > 0.9 > np.dot(words, blue)
    assert len(red) == DIMENSIONS


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, Albumen, dict[str, str]]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        run_workers_in_server=False,
        job_retries=0,
        clip_model_dir=build_tiny_clip(tmp_path / "clip"),
    )
    built = build(settings)
    auth = {"Authorization": f"Bearer {built.services.users.add('alice').secret}"}
    with TestClient(create_app(settings, built)) as client:
        yield client, built, auth
    built.close()


def test_search_by_words_through_a_supplied_clip_model(
    world: tuple[TestClient, Albumen, dict[str, str]],
) -> None:
    client, built, auth = world
    ids = {
        colour: upload(client, auth, _image(rgb), f"{colour}.png").json()["id"]
        for colour, rgb in (
            ("red", (220, 20, 20)),
            ("green", (20, 200, 20)),
            ("blue", (20, 20, 220)),
        )
    }
    for _ in range(3):
        built.infrastructure.queue.run_pending()
    for colour in ("red", "green", "blue"):
        found = client.get(
            "/api/v1/search/clip", headers=auth, params={"q": f"a photo of {colour}"}
        )
        assert found.json()[0]["photo"]["id"] == ids[colour]
    bob = {"Authorization": f"Bearer {built.services.users.add('bob').secret}"}
    assert client.get("/api/v1/search/clip", headers=bob, params={"q": "red"}).json() == []


def test_without_a_model_clip_search_says_so(client: TestClient, auth: dict[str, str]) -> None:
    found = client.get("/api/v1/search/clip", headers=auth, params={"q": "red"})
    assert (found.status_code, found.json()["error"]["code"]) == (409, "clip_not_configured")
