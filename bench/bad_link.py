"""Delivery of a 5-photo visit over a bad rural link, through a throttling TCP proxy in front of the app.

The link: 250 kbps up, 1 Mbps down, 400 ms round trip (200 ms each way), and every 20 s the signal goes: every open
connection is cut. Every request of the page and of the service worker goes through the proxy (it is the app's
origin for the browser). The mentor fills the form online, presses "Simpan kunjungan" once, and nobody touches the
phone after that. Measured: seconds from the press until the visit and its 5 photos are stored, bytes through the
proxy each way, connections cut, and that the visit and each photo are stored exactly once.
Run: `.venv/bin/python bench/bad_link.py [--minutes 10]` (≈1-4 min). Prints Markdown for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
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
from webapp import create_app  # noqa: E402
from webapp.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Photo, Recipient, User, Visit  # noqa: E402

UP_BPS, DOWN_BPS, ONE_WAY_S, CUT_EVERY_S = 250_000, 1_000_000, 0.2, 20.0


class BadLink:
    """A TCP proxy: throttled each way, delayed, and cutting every connection every CUT_EVERY_S once `cutting`."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.up = self.down = self.cuts = 0
        self.cutting = False
        self.writers: set = set()
        self.loop = asyncio.new_event_loop()
        self.port = None

    async def _pipe(self, reader, writer, bps, count):
        ready = time.monotonic()
        try:
            while data := await reader.read(4096):
                now = time.monotonic()
                ready = max(ready, now) + len(data) * 8 / bps  # the link's rate, shared by the chunks in flight
                await asyncio.sleep(max(0.0, ready - now) + ONE_WAY_S)
                writer.write(data)
                await writer.drain()
                count(len(data))
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _count_up(self, n):
        self.up += n

    def _count_down(self, n):
        self.down += n

    async def _client(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        self.writers |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer, UP_BPS, self._count_up),
            self._pipe(server_reader, client_writer, DOWN_BPS, self._count_down),
        )
        self.writers -= {client_writer, server_writer}

    async def _cutter(self):
        while True:
            await asyncio.sleep(CUT_EVERY_S)
            if self.cutting and self.writers:
                self.cuts += len(self.writers) // 2
                for writer in list(self.writers):
                    transport = writer.transport
                    if transport is not None:
                        transport.abort()  # the signal is gone: no goodbye

    def start(self):
        async def serve():
            server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.loop.create_task(self._cutter())
            async with server:
                await server.serve_forever()

        threading.Thread(target=lambda: self.loop.run_until_complete(serve()), daemon=True).start()
        while self.port is None:
            time.sleep(0.05)


def _photo(path: Path, seed: int) -> str:
    """A camera-like photo: detail everywhere, so it stays large after the phone's downscale."""
    rng = random.Random(seed)
    small = Image.frombytes("RGB", (160, 120), bytes(rng.getrandbits(8) for _ in range(160 * 120 * 3)))
    small.resize((2000, 1500), Image.Resampling.BICUBIC).save(path, "JPEG", quality=90)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    link = BadLink(server.server_port)
    link.start()
    base = f"http://127.0.0.1:{link.port}"
    photos = [_photo(tmp / f"p{i}.jpg", i) for i in range(5)]
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
        arrived = None
        progress = ""
        while time.time() - started < args.minutes * 60:
            with app.app_context():
                visits = db.session.scalar(select(func.count()).select_from(Visit)) - before
                stored = db.session.scalar(
                    select(func.count()).select_from(Photo).join(Visit).where(Visit.recipient_id == family.id)
                )
                if visits >= 1:
                    arrived = time.time() - started
                    break
            try:
                progress = page.locator("#outbox").inner_text(timeout=1000).replace("\n", " ")[:120]
            except Exception:  # noqa: BLE001, S110 - the page may be navigating
                pass
            time.sleep(1)
        browser.close()
    with app.app_context():
        visits = db.session.scalar(select(func.count()).select_from(Visit)) - before
        stored = db.session.scalar(
            select(func.count()).select_from(Photo).join(Visit).where(Visit.recipient_id == family.id)
        )
    print("| link | photos (bytes after the phone's downscale) | arrived after | up | down | cuts | stored |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| 250 kbps up, 1 Mbps down, 400 ms RTT, cut every 20 s | 5 ({sum(sizes) / 1024:.0f} KB) | "
        + (f"{arrived:.0f} s" if arrived is not None else f"not within {args.minutes:g} min ({progress})")
        + f" | {link.up / 1024:.0f} KB | {link.down / 1024:.0f} KB | {link.cuts} | {visits} visit, {stored} photos |"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
