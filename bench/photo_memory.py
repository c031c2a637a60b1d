"""Peak memory of a worker handling hostile photo uploads through the real app (issue: one request can exhaust a
worker's memory).

Each case runs in a fresh subprocess, a worker as gunicorn would run it: the app (SQLite database, migrated, one
mentor and one family) receives real visit-form POSTs (`/penerima/<id>/kunjungan/baru`, five photo slots) through
the Flask test client, in `--concurrent` threads at once (gthread workers serve requests in threads). A first,
harmless request loads every library; then the peak RSS (VmHWM, reset through /proc/self/clear_refs) is reset, the
hostile requests run, and the growth of the peak is reported. Small files that decode big:

  png40      five 40 MP PNGs (7300x5479, one colour: ~160 KB each) — the reported case
  webp10     five 10 MP WebPs
  jpeg40     five 40 MP baseline JPEGs
  jpeg40p    five 40 MP progressive JPEGs (the decoder keeps every coefficient of the full picture)
  png13      five RGBA PNGs just under the PNG/WebP/HEIC budget (13 MP)
  heic12     five 12 MP HEICs (an iPhone photo's size), when pillow-heif can encode them

    .venv/bin/python bench/photo_memory.py [--cases png40,webp10] [--concurrent 1,4] [--tree DIR]

`--tree` runs the app from another checkout (e.g. `git archive <commit> | tar -x -C /tmp/old`) to measure the
code before a change with the same harness.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _image(case: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    if case == "png40":
        Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "PNG")
    elif case == "webp10":
        Image.new("RGB", (3650, 2740), (90, 140, 60)).save(out, "WEBP", quality=50)
    elif case == "jpeg40":
        Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "JPEG", quality=50)
    elif case == "jpeg40p":
        Image.new("RGB", (7300, 5479), (90, 140, 60)).save(out, "JPEG", quality=50, progressive=True)
    elif case == "png13":
        Image.new("RGBA", (4160, 3120), (90, 140, 60, 200)).save(out, "PNG")
    elif case == "heic12":
        import pillow_heif

        pillow_heif.register_heif_opener()
        Image.new("RGB", (4032, 3024), (90, 140, 60)).save(out, "HEIF", quality=50)
    else:
        raise SystemExit(f"unknown case {case}")
    return out.getvalue()


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def child(case: str, concurrent: int) -> None:
    """One worker: the app, a warm-up request, then `concurrent` hostile requests at once."""
    import contextvars
    import datetime as dt
    import re

    tmp = Path(tempfile.mkdtemp(prefix="kail-mem-"))
    os.environ["FLASK_SKIP_DOTENV"] = "1"
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.demo import demo_photo, seed_regions
    from webapp.extensions import db

    sys.path.insert(0, str(ROOT))
    from tests import factories

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'db.sqlite3'}",
            "UPLOAD_DIR": str(tmp / "uploads"),
            "SECRET_KEY": "bench",
            "DEMO_MODE": False,
            "WTF_CSRF_ENABLED": False,
            "MAX_CONTENT_LENGTH": 200 * 1024 * 1024,
        }
    )
    with app.app_context():
        upgrade()
        seed_regions()
        mentor = factories.user("mentor", username="bench-mentor")
        family_ids = [factories.recipient(mentor=mentor).id for _ in range(concurrent + 1)]
        db.session.commit()
    hostile = _image(case)

    def visit(family_id: int, files: list[bytes]) -> int:
        def run():
            client = app.test_client()
            client.post("/akun/masuk", data={"username": "bench-mentor", "password": factories.PASSWORD})
            url = f"/penerima/{family_id}/kunjungan/baru"
            html = client.get(url).get_data(as_text=True)
            data = {
                "uuid": re.search(r'name="uuid"[^>]*value="([^"]+)"', html).group(1),
                "kind": "pendampingan",
                "visited_at": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)).isoformat(),
                "lat": "-0.5",
                "lon": "117.15",
                "accuracy": "10",
                "operating": "ya",
                "item-0": "dipakai",
                "item-1": "dipakai",
                "turnover": "100000",
                "turnover_period": "minggu",
            }
            for slot, content in enumerate(files, start=1):
                data[f"photo-{slot}"] = (io.BytesIO(content), f"IMG_{slot}.png")
                data[f"tag-{slot}"] = "usaha_berjalan"
            return client.post(url, data=data, content_type="multipart/form-data").status_code

        return contextvars.Context().run(run)

    warm = visit(family_ids[-1], [demo_photo("warm", seed=1)])
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM) to the current RSS
    before = _vm("VmHWM")
    statuses = []
    threads = [
        threading.Thread(target=lambda i=i: statuses.append(visit(family_ids[i], [hostile] * 5)))
        for i in range(concurrent)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = _vm("VmHWM")
    print(
        json.dumps(
            {
                "case": case,
                "concurrent": concurrent,
                "file_kb": len(hostile) // 1024,
                "warm": warm,
                "statuses": sorted(statuses),
                "rss_before_mb": before // 1024,
                "peak_growth_mb": (after - before) // 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="png40,webp10,jpeg40,jpeg40p,png13,heic12")
    parser.add_argument("--concurrent", default="1,4")
    parser.add_argument("--tree", type=Path, default=ROOT, help="run the app from this checkout")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.threads)
        return
    env = dict(os.environ, PYTHONPATH=str(args.tree.resolve()))
    print(f"{'case':8} {'threads':>7} {'file KB':>8} {'statuses':>22} {'peak growth MB':>15}")
    for case in args.cases.split(","):
        for concurrent in (int(n) for n in args.concurrent.split(",")):
            out = subprocess.run(
                [sys.executable, __file__, "--child", case, "--threads", str(concurrent)],
                capture_output=True,
                text=True,
                env=env,
                cwd=args.tree,
                check=False,
            )
            lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
            if not lines:
                print(f"{case:8} {concurrent:>7} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(lines[-1])
            print(
                f"{case:8} {concurrent:>7} {r['file_kb']:>8} {str(r['statuses']):>22} {r['peak_growth_mb']:>15}"
                f"  (warm-up {r['warm']})"
            )


if __name__ == "__main__":
    main()
