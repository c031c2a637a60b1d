"""Lighthouse (mobile emulation: Moto G Power, slow 4G, 4x CPU slowdown) on the phone pages: the login page,
the mentor home and the visit form. Prints the performance score, the main timings and the bytes transferred.

Needs Lighthouse once: `npm i --prefix .tmp/lh lighthouse@12` (Node 20). Builds a throwaway SQLite database with
the demo data, serves the app with gunicorn on a free port, logs in as `pendamping1` for the pages behind login.

    .venv/bin/python bench/lighthouse.py [--runs 3]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / ".tmp" / "lh" / "node_modules" / ".bin" / "lighthouse"
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_in(base: str) -> tuple[str, str]:
    """The session cookie of pendamping1 and the path of one of their visit forms."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/akun/masuk").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": "pendamping1", "password": "kail-demo"}).encode()
    home = opener.open(base + "/akun/masuk", data).read().decode()
    form = re.search(r'href="(/penerima/\d+/kunjungan/baru)"', home).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, form


def lighthouse(url: str, cookie: str | None) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            str(LIGHTHOUSE),
            url,
            f"--chrome-flags={FLAGS}",
            "--only-categories=performance",
            "--output=json",
            f"--output-path={out.name}",
            "--quiet",
        ]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}, timeout=180)
        report = json.loads(Path(out.name).read_text())
    audits = report["audits"]
    if os.environ.get("LH_DEBUG"):
        print(
            json.dumps(audits.get("layout-shifts", audits.get("layout-shift-elements", {})).get("details"), indent=1)[
                :3000
            ]
        )
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "kb": audits["total-byte-weight"]["numericValue"] / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs a page (the median is reported)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse missing: npm i --prefix .tmp/lh lighthouse@12")
    tmp = Path(tempfile.mkdtemp(prefix="kail-lh-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'lh.sqlite3'}",
        "UPLOAD_DIR": str(tmp / "up"),
        "DEMO_MODE": "1",
        "SECRET_KEY": "lighthouse",
        "MAP_TILE_URL": "",
    }
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(base + "/healthz")  # noqa: S310 - our own server
                break
            except OSError:
                time.sleep(0.2)
        cookie, form = log_in(base)
        pages = [("login", "/akun/masuk", None), ("mentor home", "/kunjungan/", cookie), ("visit form", form, cookie)]
        version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"Lighthouse {version}, mobile emulation, median of {args.runs} runs")
        print("| page | score | FCP ms | LCP ms | TBT ms | CLS | KB transferred |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, path, page_cookie in pages:
            runs = [lighthouse(base + path, page_cookie) for _ in range(args.runs)]
            median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"| {name} | {median['score']:.0f} | {median['fcp']:.0f} | {median['lcp']:.0f} | "
                f"{median['tbt']:.0f} | {median['cls']:.3f} | {median['kb']:.1f} |"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
