"""One request cannot exhaust a worker's memory: every decode is bounded (a pixel budget per format, JPEG decoded
scaled down), and the photos of a visit are processed one after the other, each freed before the next.

Pillow allocates pixels in C, which tracemalloc does not see, so each case runs in a fresh subprocess and the
growth of its peak RSS (VmHWM, reset through /proc/self/clear_refs) is measured. bench/photo_memory.py measures the
same through real requests; docs/PERFORMANCE.md has the numbers.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PER_FILE_MB = 200  # one hostile photo
PER_VISIT_MB = 256  # five of them in one visit, as the form processes them

CHILD = r"""
import io, json, sys
from pathlib import Path
from PIL import Image

def vm(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

case, count = sys.argv[1], int(sys.argv[2])
out = io.BytesIO()
if case == "png40":  # 40 MP in ~130 KB: what raised a worker's peak by ~600 MB
    Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "PNG")
elif case == "png_budget":
    Image.new("RGBA", (4160, 3120), (90, 140, 60, 200)).save(out, "PNG")
elif case == "webp10":
    Image.new("RGB", (3650, 2740), (90, 140, 60)).save(out, "WEBP", quality=50)
elif case == "webp_budget":
    Image.new("RGB", (4160, 3120), (90, 140, 60)).save(out, "WEBP", quality=50)
elif case == "jpeg40":
    Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "JPEG", quality=50)
elif case == "jpeg40_progressive":
    Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "JPEG", quality=50, progressive=True)
elif case == "heic12":
    import pillow_heif
    pillow_heif.register_heif_opener()
    Image.new("RGB", (4032, 3024), (90, 140, 60)).save(out, "HEIF", quality=50)
data = out.getvalue()
del out
from webapp import photos
photos.process(__import__("webapp.demo", fromlist=["demo_photo"]).demo_photo("warm", seed=1))  # libraries loaded
Path("/proc/self/clear_refs").write_text("5")
before = vm("VmHWM")
kept, refused, growth = [], 0, []
for _ in range(count):
    try:
        kept.append(photos.process(data))  # the form keeps each result, as here
    except photos.PhotoError:
        refused += 1
    growth.append((vm("VmHWM") - before) / 1024)
print(json.dumps({"first_mb": growth[0], "all_mb": growth[-1], "refused": refused, "kb": len(data) // 1024}))
"""


def _peak_growth(case: str, count: int) -> dict:
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", CHILD, case, str(count)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


CASES = ["png40", "png_budget", "webp10", "webp_budget", "jpeg40", "jpeg40_progressive", "heic12"]


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("case", CASES)
def test_hostile_photos_are_bounded_and_processed_one_at_a_time(case):
    result = _peak_growth(case, 5)  # a visit's five photo slots, all hostile
    assert result["first_mb"] <= PER_FILE_MB, result
    assert result["all_mb"] <= PER_VISIT_MB, result
    assert result["all_mb"] < result["first_mb"] + 40, result  # not five decodes held at once
    assert result["refused"] == (5 if case == "png40" else 0), result  # 40 MP PNG: refused from its header
