"""Bytes on the wire for the mentor's pages, first load and repeat load, measured in Chromium.

Self-contained: a throwaway SQLite database with the demo data, the app served from this process (with
compression, as in production behind gunicorn), Debian's Chromium through Playwright, and the DevTools
protocol's own byte counts (encodedDataLength: compressed bytes actually transferred, headers included).
Run: `.venv/bin/python bench/page_weight.py` (≈60 s). Prints a Markdown table for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chromium import ARGS  # noqa: E402
from webapp import create_app, review_states  # noqa: E402
from webapp.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Recipient, User, Visit  # noqa: E402

KINDS = {"Document", "Stylesheet", "Script"}  # what the 60 KB budget counts (HTML + CSS + JS)


class Meter:
    """Sums the compressed bytes of one page load, by resource type, from DevTools network events."""

    def __init__(self, cdp):
        self.cdp = cdp
        self.types: dict[str, str] = {}
        self.cached: set[str] = set()
        self.bytes: dict[str, int] = {}
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)

    def _response(self, event):
        self.types[event["requestId"]] = event["type"]
        response = event["response"]
        # The service worker answers pages network-first (their bytes did cross the network, through the worker)
        # and static files cache-first (nothing crossed the network).
        if response.get("fromDiskCache") or (response.get("fromServiceWorker") and event["type"] != "Document"):
            self.cached.add(event["requestId"])

    def _finished(self, event):
        request_id = event["requestId"]
        kind = self.types.get(request_id, "Other")
        network = 0 if request_id in self.cached else int(event["encodedDataLength"])
        self.bytes[kind] = self.bytes.get(kind, 0) + network

    def reset(self):
        self.bytes.clear()

    def total(self) -> int:
        return sum(v for k, v in self.bytes.items() if k in KINDS)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kail-bench-"))
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
        mine = select(Recipient.id).where(Recipient.mentor_id == mentor.id).order_by(Recipient.id).limit(1)
        family = db.session.scalar(mine.where(Recipient.business_lat.is_not(None)))  # with its location map
        verified = db.session.scalar(mine.where(Recipient.status == "terverifikasi"))
        sent_back = db.session.scalar(
            select(Visit.id).where(Visit.mentor_id == mentor.id, Visit.review_state == review_states.SENT_BACK).limit(1)
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    # Every page a mentor opens (issue 15 item 8: each ≤ 60 KB on first load).
    pages = [
        ("login", "/akun/masuk"),
        ("mentor home (Kunjungan saya)", "/kunjungan/"),
        ("family list (Penerima)", "/penerima/"),
        ("family page (with its map)", f"/penerima/{family}"),
        ("visit form (pendampingan)", f"/penerima/{family}/kunjungan/baru"),
        ("visit form (penyaluran)", f"/penerima/{verified}/kunjungan/baru"),
        ("visit form (verifikasi)", f"/penerima/{verified}/kunjungan/baru?jenis=verifikasi"),
        ("correction form", f"/kunjungan/{sent_back}/perbaiki"),
        ("help", "/bantuan"),
        ("account", "/akun/"),
        ("offline page", "/offline"),
    ]
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        for name, path in pages:
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
            page = context.new_page()
            meter = Meter(context.new_cdp_session(page))
            if name != "login":
                page.goto(base + "/akun/masuk")
                page.fill("input[name=username]", "pendamping1")
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                # First load of *this* page with cold caches: only the session cookie is kept.
                page.evaluate(
                    "async () => { for (const r of await navigator.serviceWorker.getRegistrations()) "
                    "await r.unregister(); for (const k of await caches.keys()) await caches.delete(k); }"
                )
                meter.cdp.send("Network.clearBrowserCache")
            meter.reset()
            page.goto(base + path, wait_until="networkidle")
            first = dict(meter.bytes)
            first_total = meter.total()
            page.wait_for_function(
                "navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))", timeout=15000
            )
            page.reload(wait_until="networkidle")  # let the service worker take control
            meter.reset()
            page.reload(wait_until="networkidle")
            # The page itself is always fetched fresh (network-first; DevTools shows the worker's answer as 0 B,
            # so count the HTML's first-load size); CSS and JS come from the worker's cache.
            repeat_total = first.get("Document", 0) + sum(
                v for k, v in meter.bytes.items() if k in KINDS and k != "Document"
            )
            rows.append(
                (
                    name,
                    first.get("Document", 0),
                    first.get("Stylesheet", 0),
                    first.get("Script", 0),
                    first_total,
                    repeat_total,
                )
            )
            context.close()
        browser.close()
    server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    print("| page | HTML | CSS | JS | first load (HTML+CSS+JS) | repeat load (fresh HTML, cached CSS+JS) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, html, css, js, first_total, repeat_total in rows:
        print(
            f"| {name} | {html / 1024:.1f} KB | {css / 1024:.1f} KB | {js / 1024:.1f} KB | "
            f"**{first_total / 1024:.1f} KB** | {repeat_total / 1024:.1f} KB |"
        )


if __name__ == "__main__":
    main()
