"""Delivery of a 5-photo visit over a bad rural link, through a throttling TCP proxy in front of the app.

The link: 250 kbps up, 1 Mbps down, 400 ms round trip (200 ms each way), and every 20 s the signal goes: every open
connection is cut. Every request of the page and of the service worker goes through the proxy (it is the app's
origin for the browser). The mentor fills the form online, presses "Simpan kunjungan" once, and nobody touches the
phone after that. Measured: seconds from the press until the visit and its 5 photos are stored, and until the phone
shows "Terkirim"; bytes through the proxy each way until the visit was stored (everything the phone sent for it,
the CSRF token and offset queries included); connections cut; that the visit and each photo are stored once.
Run: `.venv/bin/python bench/bad_link.py [--minutes 10] [--photos noisy|camera]` (≈2-4 min). Prints Markdown for
docs/PERFORMANCE.md; each photo's size is as the phone's own downscale made it (read from the form).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chromium import ARGS  # noqa: E402
from bench.throttle import RURAL, ThrottlingProxy  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Photo, Recipient, User, Visit  # noqa: E402


def _photo(path: Path, seed: int, kind: str = "noisy") -> str:
    """`noisy`: detail everywhere at 2000 × 1500, so it stays large (~340 KB) after the phone's downscale — the
    worst case. `camera`: a 12-megapixel picture (4000 × 3000, ~1.7 MB) with a scene's smooth areas, texture and
    sensor grain, which the phone's own downscale (1600 px, JPEG 0.8) makes ~250 KB — a typical phone photo."""
    rng = random.Random(seed)
    if kind == "camera":
        size = (4000, 3000)
        low = Image.frombytes("RGB", (8, 6), rng.randbytes(8 * 6 * 3)).resize(size, Image.Resampling.BICUBIC)
        mid = Image.frombytes("RGB", (200, 150), rng.randbytes(200 * 150 * 3)).resize(size, Image.Resampling.BICUBIC)
        grain = Image.effect_noise(size, 10).convert("RGB")
        Image.blend(Image.blend(low, mid, 0.35), grain, 0.12).save(path, "JPEG", quality=92)
        return str(path)
    small = Image.frombytes("RGB", (160, 120), bytes(rng.getrandbits(8) for _ in range(160 * 120 * 3)))
    small.resize((2000, 1500), Image.Resampling.BICUBIC).save(path, "JPEG", quality=90)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--photos", choices=["noisy", "camera"], default="noisy")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kail-badlink-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "UPLOAD_DIR": str(tmp / "up"),
            "SECRET_KEY": "bench",
            "DEMO_MODE": True,
            "MAP_TILE_URL": "",
        }
    )
    with app.app_context():
        upgrade()
        seed_demo(app.config["UPLOAD_DIR"])
        db.session.commit()
        mentor = db.session.scalar(select(User).where(User.username == "pendamping1"))
        family = db.session.scalar(
            select(Recipient)
            .where(Recipient.mentor_id == mentor.id, Recipient.status == "usaha_berjalan")
            .order_by(Recipient.id)
            .limit(1)
        )
        before = db.session.scalar(select(func.count()).select_from(Visit))
        last_id = db.session.scalar(select(func.max(Visit.id))) or 0  # photos of the demo's older visits not counted
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    link = ThrottlingProxy(server.server_port, RURAL).start()
    base = f"http://127.0.0.1:{link.port}"
    photos = [_photo(tmp / f"p{i}.jpg", i, args.photos) for i in range(5)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(base + "/akun/masuk")
        page.get_by_label("Nama pengguna").fill("pendamping1")
        page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/kunjungan/**")
        page.goto(f"{base}/penerima/{family.id}/kunjungan/baru?jenis=pendampingan")
        page.select_option("#no_location_reason", "sinyal_lemah")
        for slot, path in enumerate(photos, start=1):
            page.set_input_files(f"#photo-{slot}", path)
            if slot > 1:
                page.select_option(f"#tag-{slot}", "barang_bantuan")
        page.locator("label.choice", has_text="Ya").first.click()
        page.get_by_role("button", name="Semua ada & dipakai").click()
        page.get_by_label("Perkiraan omzet (Rp)").fill("150.000")
        sizes = page.evaluate(
            "async () => { const p = await KailVisitForm.collect(); return p.photos.map(x => x.blob.size); }"
        )
        link.up = link.down = 0
        link.cutting = True
        started = time.time()
        page.get_by_role("button", name="Simpan kunjungan").click()
        arrived = shown = None
        progress = ""
        while time.time() - started < args.minutes * 60:
            with app.app_context():
                visits = db.session.scalar(select(func.count()).select_from(Visit)) - before
            if visits >= 1 and arrived is None:
                arrived = time.time() - started
                up_at_arrival, down_at_arrival = link.up, link.down
            try:
                progress = page.locator("#outbox").inner_text(timeout=1000).replace("\n", " ")[:120]
                if arrived is not None and page.locator("#outbox-sent").is_visible():
                    shown = time.time() - started  # the phone knows: "Terkirim"
            except Exception:  # noqa: BLE001, S110 - the page may be navigating
                pass
            if shown is not None or (arrived is not None and time.time() - started > arrived + 60):
                break
            time.sleep(1)
        browser.close()
    with app.app_context():
        visits = db.session.scalar(select(func.count()).select_from(Visit)) - before
        stored = db.session.scalar(select(func.count()).select_from(Photo).join(Visit).where(Visit.id > last_id))
    if arrived is None:
        up_at_arrival, down_at_arrival = link.up, link.down
    print(
        "| link | photos after the phone's downscale (KB) | stored after | phone shows Terkirim "
        "| up | down | cuts | stored |"
    )
    print("|---|---|---|---|---|---|---|---|")
    each = " + ".join(f"{size / 1024:.0f}" for size in sizes)
    print(
        f"| {RURAL.describe()} | {args.photos}: {each} = {sum(sizes) / 1024:.0f} | "
        + (f"{arrived:.0f} s" if arrived is not None else f"not within {args.minutes:g} min ({progress})")
        + f" | {f'{shown:.0f} s' if shown is not None else '—'}"
        + f" | {up_at_arrival / 1024:.0f} KB | {down_at_arrival / 1024:.0f} KB | {link.cuts} | "
        + f"{visits} visit, {stored} photos |"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
