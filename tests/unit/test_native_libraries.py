"""Native libraries that must load together, in any order a process may import them."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "imports",
    [
        "import albumen.adapters.vectors; import onnxruntime; import cv2",
        "import albumen.adapters.clip; import albumen.adapters.vectors",
        "import albumen.adapters.vectors; import albumen.adapters.clip; import albumen.app",
        "import albumen.adapters.ml; import albumen.adapters.vectors; import onnxruntime",
    ],
)
def test_native_libraries_load_in_any_order(imports: str) -> None:
    """usearch loaded before onnxruntime crashed the process (a segmentation fault); the
    vectors adapter loads onnxruntime first so that no import order can."""
    done = subprocess.run([sys.executable, "-c", imports], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
