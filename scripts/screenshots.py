"""Screenshots of the main pages at phone (360x740) and desktop (1280x800) size, into docs/screenshots/.

Self-contained: builds a throwaway SQLite database with the demo data, serves the app from this process
and drives Debian's Chromium. Run with `make screenshots`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.sample_import import write_sample  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.extensions import db  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
# (file stem, user, path) — path may use {recipient} for one of the user's families.
PAGES = [
    ("login", None, "/akun/masuk"),
    ("mentor-home", "pendamping1", "/kunjungan/"),
    ("mentor-recipient", "pendamping1", "/penerima/{recipient}"),
    ("mentor-visit-form", "pendamping1", "/penerima/{recipient}/kunjungan/baru"),
    ("supervisor-review", "koordinator1", "/periksa/"),
    ("supervisor-dashboard", "koordinator1", "/dasbor/"),
    ("admin-dashboard", "admin", "/dasbor/"),
    ("mentor-help", "pendamping1", "/bantuan"),
    ("supervisor-map", "koordinator1", "/peta/"),
    ("supervisor-mentors", "koordinator1", "/periksa/pendamping"),
    ("supervisor-recipients", "koordinator1", "/penerima/"),
    ("supervisor-training", "koordinator1", "/pelatihan/"),
    ("supervisor-training-attendance", "koordinator1", "/pelatihan/{training}"),
    ("admin-data", "admin", "/kelola-data/"),
    ("admin-import-preview", "admin", "/kelola-data/impor"),  # uploads the 2,000-row sample with 20 bad rows
    ("admin-report", "admin", "/dasbor/laporan"),  # printed (print media); also saved as an A4 PDF
    # English (the browser asks for it): the second language, same pages
    ("en-mentor-home", "pendamping1", "/kunjungan/"),
    ("en-mentor-visit-form", "pendamping1", "/penerima/{recipient}/kunjungan/baru"),
    ("en-supervisor-dashboard", "koordinator1", "/dasbor/"),
    ("en-admin-data", "admin", "/kelola-data/"),
]
# long pages: the whole scroll, not only the first screen
FULL_PAGE = {"mentor-recipient", "mentor-visit-form", "admin-report"}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kail-shots-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'shots.sqlite3'}",
            "UPLOAD_DIR": str(tmp / "up"),
            "SECRET_KEY": "screenshots",
            "DEMO_MODE": True,
            "MAP_TILE_URL": "",
        }
    )  # no network here: maps show their markers only
    with app.app_context():
        upgrade()
        seed_demo(app.config["UPLOAD_DIR"])
        db.session.commit()
        from sqlalchemy import select

        from webapp.models import Recipient, TrainingSession, User, Visit

        mentor = db.session.scalar(select(User).where(User.username == "pendamping1"))
        recipient_id = db.session.scalar(
            select(Visit.recipient_id)
            .join(Visit.recipient)
            .where(Visit.mentor_id == mentor.id, Visit.photos.any(), Recipient.business_lat.is_not(None))
            .limit(1)
        )
        recipient_id = recipient_id or db.session.scalar(select(Recipient.id).where(Recipient.mentor_id == mentor.id))
        supervisor = db.session.scalar(select(User).where(User.username == "koordinator1"))
        training_id = db.session.scalar(
            select(TrainingSession.id)
            .where(TrainingSession.region_id.in_(supervisor.region_ids))
            .order_by(TrainingSession.id)
        )
    sample = write_sample(tmp / "daftar-penerima-2026.xlsx")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        for size, viewport in VIEWPORTS.items():
            for stem, user, path in PAGES:
                locale = "en-GB" if stem.startswith("en-") else "id-ID"
                context = browser.new_context(
                    viewport=viewport, locale=locale, timezone_id="Asia/Makassar", bypass_csp=True
                )
                page = context.new_page()
                if user:
                    page.goto(base + "/akun/masuk")
                    page.fill("input[name=username]", user)
                    page.fill("input[name=password]", DEMO_PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                page.goto(base + path.format(recipient=recipient_id, training=training_id))
                if stem == "admin-import-preview":
                    page.set_input_files("input[name=file]", str(sample))
                    page.fill("input[name=budget_year]", "2026")
                    page.click("form[enctype] button[type=submit]")
                    page.wait_for_load_state()
                if stem == "admin-report":
                    page.emulate_media(media="print")
                    if size == "desktop":
                        page.pdf(path=str(OUT / "report-a4.pdf"), format="A4", print_background=True)
                target = OUT / f"{stem}-{size}.png"
                full_page = stem in FULL_PAGE and (size == "phone" or stem == "admin-report")
                if full_page:  # a sticky bar would be painted mid-page in a full-page capture
                    page.add_style_tag(content=".sticky-actions { position: static; }")
                page.screenshot(path=str(target), full_page=full_page)
                print(target.relative_to(ROOT))
                context.close()
        browser.close()
    server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
