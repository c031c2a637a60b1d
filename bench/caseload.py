"""Preparing a mentor's whole caseload on the phone over emulated 3G: time, bytes on the wire, bytes stored.

Self-contained: a throwaway SQLite database with the demo data plus families so that `pendamping1` has 60, the app
served from this process with compression, Debian's Chromium through Playwright. The page *and the service worker*
(which does the work) are throttled with CDP Network.emulateNetworkConditions (1.6 Mbps down, 750 kbps up, 300 ms
RTT); bytes are DevTools' encodedDataLength of every response the service worker receives (compressed, headers
included). Stored bytes are the pages as kept (`X-Kail-Size`, gzip-compressed by the worker) and the browser's own
`navigator.storage.estimate()`. Three runs: the first preparation after login, a refresh with nothing changed,
and a refresh after one family got a new visit.
Run: `.venv/bin/python bench/caseload.py` (≈2 min). Prints Markdown for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import inspect, select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chromium import ARGS  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Recipient, User, Visit  # noqa: E402

THREE_G = {"offline": False, "latency": 300, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
FAMILIES = 60


def _grow_caseload(mentor: User) -> int:
    """Copies of the mentor's own families (new NIK and KK) until she has FAMILIES."""
    mine = db.session.scalars(select(Recipient).where(Recipient.mentor_id == mentor.id)).all()
    columns = [c.key for c in inspect(Recipient).column_attrs if c.key not in ("id", "version", "nik", "kk_number")]
    for i in range(FAMILIES - len(mine)):
        source = mine[i % len(mine)]
        copy = Recipient(**{key: getattr(source, key) for key in columns})
        copy.nik = f"64720150019{i:05d}"
        copy.kk_number = f"64720150029{i:05d}"
        copy.name = f"{source.name} ({i + 2})"
        db.session.add(copy)
    db.session.commit()
    return db.session.query(Recipient).filter_by(mentor_id=mentor.id).count()


class WorkerNetwork:
    """The service worker's network, over a browser-level CDP session: throttled, its bytes counted."""

    def __init__(self, browser):
        self.cdp = browser.new_browser_cdp_session()
        target = next(t for t in self.cdp.send("Target.getTargets")["targetInfos"] if t["type"] == "service_worker")
        self.session = self.cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})[
            "sessionId"
        ]
        self.bytes = 0
        self.requests = 0
        self.received = {}
        self.urls = {}
        self.other = 0
        self._id = 0
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        self._send("Network.enable")
        self._send("Network.emulateNetworkConditions", THREE_G)

    def _send(self, method, params=None):
        self._id += 1
        message = json.dumps({"id": self._id, "method": method, "params": params or {}})
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": self.session, "message": message})

    def _message(self, event):
        message = json.loads(event["message"])
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.urls[params["requestId"]] = params["request"]["url"]
        if method == "Network.responseReceived":
            self.received[params["requestId"]] = int(params["response"].get("encodedDataLength", 0))
        elif method == "Network.dataReceived":
            rid = params["requestId"]
            self.received[rid] = self.received.get(rid, 0) + int(params.get("encodedDataLength", 0))
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            # Some finish as "failed" (ERR_ABORTED) once the worker has piped the body into the cache: count what
            # arrived; loadingFinished's total is exact where given.
            rid = params["requestId"]
            total = int(params.get("encodedDataLength", 0)) or self.received.get(rid, 0)
            if "/offline/" in self.urls.get(rid, ""):  # the caseload's own requests (list and page batches)
                self.bytes += total
                self.requests += 1
            else:  # what the page asked through the worker meanwhile (the home page after login, its files)
                self.other += total

    def reset(self):
        self.bytes = 0
        self.requests = 0
        self.other = 0


def _state(page) -> dict:
    return page.evaluate(
        "caches.open('kail-caseload').then(c => c.match('/__kail/caseload-state')).then(r => r ? r.json() : null)"
    )


def _checked_after(page, since_ms: float, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        state = _state(page)
        if state and state.get("checkedAt", 0) > since_ms:
            return state
        page.wait_for_timeout(100)
    raise TimeoutError("caseload not prepared")


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
        families = _grow_caseload(mentor)
        changed_family = db.session.scalar(select(Recipient).where(Recipient.mentor_id == mentor.id).limit(1))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
        page = context.new_page()
        page.goto(base + "/akun/masuk")
        page.wait_for_function("navigator.serviceWorker.getRegistration().then(r => !!(r && r.active))", timeout=30000)
        shell = page.evaluate("navigator.storage.estimate().then(e => e.usage)")
        worker = WorkerNetwork(browser)
        page_cdp = context.new_cdp_session(page)
        page_cdp.send("Network.enable")
        page_cdp.send("Network.emulateNetworkConditions", THREE_G)

        def run(name, action):
            worker.reset()
            since = page.evaluate("Date.now()")
            started = time.time()
            action()
            state = _checked_after(page, since)
            seconds = time.time() - started
            usage = page.evaluate("navigator.storage.estimate().then(e => e.usage)")
            rows.append((name, seconds, worker.requests, worker.bytes, worker.other, state, usage))

        def login():
            page.fill("input[name=username]", "pendamping1")
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")

        def refresh():
            page.click("[data-offline-refresh]")

        run("first preparation (login)", login)
        page.wait_for_selector("[data-offline-refresh]")
        run("refresh, nothing changed", refresh)
        with app.app_context():
            family = db.session.get(Recipient, changed_family.id)
            db.session.add(
                Visit(
                    uuid="00000000-0000-4000-8000-00000000be01",
                    recipient=family,
                    mentor_id=mentor.id,
                    kind="pendampingan",
                    visited_at=family.updated_at,
                )
            )
            db.session.commit()
        run("refresh, one family changed", refresh)
        browser.close()
    server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"Caseload of `pendamping1`: {families} families; shell precached before login: {shell / 1024:.0f} KB.")
    print()
    print(
        "| run | time | caseload requests | caseload transferred | other pages through the worker meanwhile "
        "| pages kept | kept (compressed) | browser storage use |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, seconds, requests, transferred, other, state, usage in rows:
        print(
            f"| {name} | {seconds:.1f} s | {requests} | **{transferred / 1024:.0f} KB** | {other / 1024:.0f} KB "
            f"| {state['pages']} "
            f"({state['ready']}/{state['families']} families) | {state['bytes'] / 1024:.0f} KB "
            f"| {usage / 1024:.0f} KB |"
        )


if __name__ == "__main__":
    main()
