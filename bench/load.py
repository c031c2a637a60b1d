"""Pages under load: gunicorn serving the app, 50 concurrent clients on loopback, req/s and latency per page.

Serves `webapp:create_app()` with gunicorn (sync workers, `--workers` default = number of CPUs) on a database filled
by bench/generate.py, logs in (mentor `pendamping1`, supervisor `koordinator1`, `admin`; password of generate.py),
and drives each page in turn for `--duration` seconds with `--clients` concurrent connections from a small asyncio
HTTP/1.1 client (standard library only; one connection per request, as gunicorn's sync workers close them).
Pages: `/healthz` (the nearest thing to a bare "hello": one `SELECT 1` and a temp file), the mentor home
`/kunjungan/`, a recipient page `/penerima/<id>`, the review queue `/periksa/`, the dashboard `/dasbor/`, the map
page `/peta/` and its data `/peta/titik.json` (the whole scope, and a ~30 km area as a zoomed-in map asks), each
as the roles that use it, and a visit POST (outbox JSON reply) with
one small distinct photo - a visit must have at least one, so "without photos" is approximated by a ~10 KB one.

Then, in this process, each page once through Flask's test client with SQL statements counted (N+1 shows as a
count that grows with the data) and their time summed.

    .venv/bin/python bench/load.py --database-url postgresql://kail_bench:kail_bench@127.0.0.1/kail_bench\
?options=-csearch_path%3Dn100k [--duration 10] [--clients 50] [--port 5810]

Caveat: client and server share the machine's CPUs; the client costs well under a millisecond a request.
"""

# ruff: noqa: S311, S603  (random test photos; gunicorn started from our own venv)
from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

HOST = "127.0.0.1"
WORKERS_HINT = [2]


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    body_bytes: int = 0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(q * len(s)))] * 1e3 if s else float("nan")


async def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close", "Accept-Encoding: identity"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.read()  # until the server closes
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    response_headers: dict = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        response_headers.setdefault(key.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(response_headers.get("transfer-encoding", [])):
        payload = _unchunk(payload)
    return int(status_line.split()[1]), response_headers, payload


def _unchunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        end = data.index(b"\r\n", pos)
        size = int(data[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2


def cookie_header(headers: dict, jar: dict[str, str]) -> None:
    for value in headers.get("set-cookie", []):
        name, _, rest = value.partition("=")
        jar[name.strip()] = rest.split(";")[0]


async def login(port: int, username: str, password: str) -> tuple[str, str]:
    """Log in; returns (Cookie header, CSRF token)."""
    jar: dict[str, str] = {}
    status, headers, body = await request(port, "GET", "/akun/masuk", {})
    cookie_header(headers, jar)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', body)
    csrf = (token.group(1) or token.group(2)).decode()
    form = urllib.parse.urlencode({"csrf_token": csrf, "username": username, "password": password}).encode()
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, body = await request(
        port, "POST", "/akun/masuk", {"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"}, form
    )
    if status != 302:
        raise SystemExit(f"login as {username} failed: HTTP {status}")
    cookie_header(headers, jar)
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, body = await request(port, "GET", "/bantuan", {"Cookie": cookies})
    cookie_header(headers, jar)  # the CSRF secret went into the session just now
    token = re.search(rb'"X-CSRFToken": "([^"]+)"', body)
    return "; ".join(f"{k}={v}" for k, v in jar.items()), token.group(1).decode()


def tiny_photos(n: int, seed: int = 5) -> list[bytes]:
    """Distinct small JPEGs (different dHashes), so the duplicate check does not pile up matches."""
    from PIL import Image

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        image = Image.frombytes("RGB", (8, 6), bytes(rng.randrange(256) for _ in range(8 * 6 * 3)))
        buf = io.BytesIO()
        image.resize((320, 240), Image.Resampling.BILINEAR).save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def visit_body(csrf: str, items: int, lat: float, lon: float, photo: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    fields = [
        ("csrf_token", csrf),
        ("uuid", str(uuid.uuid4())),
        ("kind", "pendampingan"),
        ("lat", f"{lat:.6f}"),
        ("lon", f"{lon:.6f}"),
        ("accuracy", "12"),
        ("operating", "ya"),
        ("turnover", "150.000"),
        ("turnover_period", "hari"),
        ("mentoring", "Beban uji."),
        ("tag-1", "usaha_berjalan"),
        ("photo-1-uuid", str(uuid.uuid4())),
    ]
    fields += [(f"item-{i}", "dipakai") for i in range(items)]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo-1"; filename="a.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


async def drive(
    port: int, name: str, make, clients: int, duration: float, timeout: float, warmup: float = 1.0
) -> Result:
    """Closed loop: each client sends its next request when the previous one is answered. A request not answered
    within `timeout` s is abandoned and counted as status 0 (timed out)."""
    result = Result(name)
    stop_at = time.perf_counter() + warmup + duration
    record_from = time.perf_counter() + warmup

    async def client():
        while (now := time.perf_counter()) < stop_at:
            method, path, headers, body = make()
            try:
                status, _h, payload = await asyncio.wait_for(request(port, method, path, headers, body), timeout)
            except (OSError, TimeoutError):
                status, payload = 0, b""
            end = time.perf_counter()
            if now >= record_from:
                result.latencies.append(end - now)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.body_bytes += len(payload)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - max(started + warmup, record_from)
    return result


def page_plan(app_url: str) -> dict:
    """Ids to use: the mentor's family with the most visits, and families it can record visits for."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Recipient, User, Visit

    app = generate.make_app(app_url)
    with app.app_context():
        mentor = db.session.scalar(select(User).where(User.username == "pendamping1"))
        by_visits = db.session.execute(
            select(Recipient.id, func.count(Visit.id))
            .join(Visit, Visit.recipient_id == Recipient.id)
            .where(Recipient.mentor_id == mentor.id)
            .group_by(Recipient.id)
            .order_by(func.count(Visit.id).desc(), Recipient.id)
        ).all()
        family = by_visits[0]  # the busiest: the load run's pessimistic case (its POSTs add visits)
        typical = by_visits[len(by_visits) // 2]  # the median: the same history at any program size
        targets = [
            (r.id, len(r.package_items), r.business_lat or -0.5, r.business_lon or 117.1)
            for r in db.session.scalars(
                select(Recipient).where(
                    Recipient.mentor_id == mentor.id, Recipient.status.in_(["usaha_berjalan", "usaha_kesulitan"])
                )
            )
        ]
        counts = {
            "recipients": db.session.scalar(select(func.count()).select_from(Recipient)),
            "visits": db.session.scalar(select(func.count()).select_from(Visit)),
        }
        db.engine.dispose()
    # A regency-sized view (about 30 × 30 km) around the mentor's first family, as a zoomed-in map asks.
    _rid, _items, lat, lon = targets[0]
    bbox = f"{lon - 0.15:.4f},{lat - 0.15:.4f},{lon + 0.15:.4f},{lat + 0.15:.4f}"
    return {
        "family": family[0],
        "family_visits": family[1],
        "typical_family": typical[0],
        "typical_family_visits": typical[1],
        "targets": targets,
        "bbox": bbox,
        **counts,
    }


PAGES = [  # (name, role, path template)
    ("healthz (baseline)", None, "/healthz"),
    ("mentor home", "mentor", "/kunjungan/"),
    ("recipient page", "mentor", "/penerima/{family}"),
    ("review queue (supervisor)", "supervisor", "/periksa/"),
    ("review queue (admin)", "admin", "/periksa/"),
    ("dashboard (supervisor)", "supervisor", "/dasbor/"),
    ("dashboard (admin)", "admin", "/dasbor/"),
    ("map (supervisor)", "supervisor", "/peta/"),
    ("map (admin)", "admin", "/peta/"),
    ("map data (supervisor)", "supervisor", "/peta/titik.json"),
    ("map data (admin)", "admin", "/peta/titik.json"),
    ("map data, one regency in view (admin)", "admin", "/peta/titik.json?bbox={bbox}"),
    ("visit POST (1 small photo)", "mentor", "POST"),
]
USERS = {"mentor": "pendamping1", "supervisor": "koordinator1", "admin": "admin"}


def count_queries(url: str, plan: dict, pages: list, repeat: int = 1) -> dict[str, tuple[int, float, int, float]]:
    """Each GET page in-process after one warm-up request: (SQL statements, seconds in SQL, HTTP status, seconds),
    the times as the median of `repeat` requests."""
    from sqlalchemy import event

    from webapp.extensions import db

    app = generate.make_app(url)
    app.config.update(WTF_CSRF_ENABLED=False, TESTING=True)
    out = {}
    with app.app_context():
        engine = db.engine
    stats = {"n": 0, "t": 0.0}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        stats["n"] += 1
        stats["t"] += time.perf_counter() - conn.info.pop("t0", time.perf_counter())

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    clients = {}
    for role, username in USERS.items():
        client = app.test_client()
        client.post("/akun/masuk", data={"username": username, "password": generate.BENCH_PASSWORD})
        clients[role] = client
    clients[None] = app.test_client()
    for name, role, path in pages:
        if path == "POST":
            continue
        path = path.format(**plan)
        start = time.perf_counter()
        try:
            clients[role].get(path)  # warm-up
            runs = []
            for _ in range(repeat):
                stats.update(n=0, t=0.0)
                start = time.perf_counter()
                response = clients[role].get(path)
                runs.append((time.perf_counter() - start, stats["t"], stats["n"]))
            wall, sql, n = sorted(runs)[len(runs) // 2]
            out[name] = (n, sql, response.status_code, wall)
        except Exception as exc:  # noqa: BLE001 - a page that fails is a result too
            out[name] = (stats["n"], stats["t"], type(exc).__name__, time.perf_counter() - start)
        print(f"  counted {name}: {out[name][0]} statements, {out[name][3] * 1e3:.0f} ms", file=sys.stderr)
    with app.app_context():
        db.engine.dispose()
    return out


async def login_all(port: int) -> dict:
    return {role: await login(port, username, generate.BENCH_PASSWORD) for role, username in USERS.items()}


def run_load(
    url: str, port: int, workers: int, plan: dict, pages: list, clients: int, duration: float, timeout: float
) -> list[Result]:
    """Each page against a freshly started gunicorn, so a slow page's backlog never spills into the next."""
    WORKERS_HINT[0] = workers
    photos = tiny_photos(4000)
    rng = random.Random(9)
    results = []
    for name, role, path in pages:
        upload_dir = tempfile.mkdtemp(prefix="kail-load-")
        proc = serve(url, port, workers, upload_dir)
        try:
            sessions = asyncio.run(login_all(port))
            results.append(
                asyncio.run(_page(port, name, role, path, plan, sessions, photos, rng, clients, duration, timeout))
            )
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            shutil.rmtree(upload_dir, ignore_errors=True)
        r = results[-1]
        print(
            f"  {name}: {r.rps:.1f} req/s, p50 {r.pct(0.5):.0f} ms, p95 {r.pct(0.95):.0f} ms, {r.statuses}",
            file=sys.stderr,
        )
    return results


async def _page(port, name, role, path, plan, sessions, photos, rng, clients, duration, timeout) -> Result:
    cookie, csrf = sessions.get(role, ("", ""))
    headers = {"Cookie": cookie} if cookie else {}
    if path == "POST":
        targets = plan["targets"]

        def make(headers=headers, csrf=csrf, targets=targets):
            rid, items, lat, lon = rng.choice(targets)
            ctype, body = visit_body(csrf, items, lat, lon, photos[rng.randrange(len(photos))])
            return (
                "POST",
                f"/penerima/{rid}/kunjungan/baru",
                {**headers, "Content-Type": ctype, "X-Kail-Outbox": "1"},
                body,
            )
    else:
        full = path.format(**plan)

        def make(headers=headers, full=full):
            return "GET", full, headers, b""

    for _ in range(4 * WORKERS_HINT[0]):  # warm every worker up (templates, catalogues, connections)
        method, path_, headers_, body = make()
        try:
            await asyncio.wait_for(request(port, method, path_, headers_, body), timeout)
        except (OSError, TimeoutError):
            break
    return await drive(port, name, make, clients, duration, timeout)


def serve(url: str, port: int, workers: int, upload_dir: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "kail-bench-secret",
        "UPLOAD_DIR": upload_dir,
        "LOG_LEVEL": "WARNING",
        "DEMO_MODE": "0",
        "LOGIN_MAX_FAILURES_PER_IP": "100000",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "webapp:create_app()",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    for _ in range(100):
        try:
            status, _h, _b = asyncio.run(request(port, "GET", "/healthz", {}))
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, default=5810)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a page (after 1 s warm-up)")
    parser.add_argument("--pages", help="comma-separated substrings of page names to run (default: all)")
    parser.add_argument("--timeout", type=float, default=30.0, help="abandon a request after this many seconds")
    parser.add_argument("--no-count", action="store_true", help="skip the in-process SQL statement count")
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.pages or any(s in p[0] for s in args.pages.split(","))]
    plan = page_plan(args.database_url)
    queries = {} if args.no_count else count_queries(args.database_url, plan, pages)
    results = run_load(
        args.database_url, args.port, args.workers, plan, pages, args.clients, args.duration, args.timeout
    )
    base = results[0].rps if results and results[0].name.startswith("healthz") else None
    dialect = "postgresql" if "postgres" in args.database_url else "sqlite"
    print(
        f"{dialect}: {plan['recipients']:,} recipients, {plan['visits']:,} visits; gunicorn {args.workers} sync "
        f"workers; {args.clients} clients; {args.duration:.0f} s a page; recipient page = a family with "
        f"{plan['family_visits']} visits"
    )
    print()
    print("| page | req/s | ÷ healthz | p50 ms | p95 ms | statuses | SQL statements | SQL ms | 1 request ms |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in results:
        q = queries.get(r.name)
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(r.statuses.items()))
        rel = f"{r.rps / base:.2f}" if base else ""
        qcols = f"{q[0]} | {q[1] * 1e3:.0f} | {q[3] * 1e3:.0f}" if q else " | | "
        print(f"| {r.name} | {r.rps:.1f} | {rel} | {r.pct(0.5):.0f} | {r.pct(0.95):.0f} | {statuses} | {qcols} |")


if __name__ == "__main__":
    main()
