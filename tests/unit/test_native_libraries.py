"""Native libraries that must load together, in any order a process may import them."""

from __future__ import annotations

import subprocess
import sys

import pytest

# usearch is loaded when the first index is made (an idle server never loads it)
USEARCH = "from albumen.adapters.vectors import new_index; new_index()"


@pytest.mark.parametrize(
    "imports",
    [
        f"{USEARCH}; import onnxruntime; import cv2",
        f"import cv2; {USEARCH}; import onnxruntime",
        f"import albumen.adapters.clip; {USEARCH}",
        f"{USEARCH}; import albumen.adapters.clip; import albumen.app",
        f"import albumen.adapters.ml; {USEARCH}; import onnxruntime",
    ],
)
def test_native_libraries_load_in_any_order(imports: str) -> None:
    """usearch loaded before onnxruntime crashed the process (a segmentation fault); the
    vectors adapter loads onnxruntime first, when it loads usearch, so that no order can."""
    done = subprocess.run([sys.executable, "-c", imports], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
