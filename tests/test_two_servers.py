"""Two app servers, one program: two real gunicorn processes (deploy/gunicorn.conf.py) on different ports share the
test database and one S3 bucket on the SeaweedFS fixture, with the same SECRET_KEY and nothing else in common
(each has its own UPLOAD_DIR, which must stay empty of anything another server needs).

Each "browser" below keeps its session cookie and sends it to whichever server it talks to, as one origin behind
nginx would. On the SQLite leg both servers open the one test database file (WAL lets processes on one machine
share it); that proves the same about the app, while production with two machines needs PostgreSQL (README,
"Two servers"). The last tests put deploy/nginx-kail.conf in front of both (where nginx is installed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp.config import PROJECT_ROOT
from webapp.extensions import db
from webapp.models import LoginAttempt, Recipient, Visit

from . import factories
from .test_photo_uploads import CHUNK, photo_bytes
from .test_visits import _stage, form_url, good_data, jpeg

urllib3 = pytest.importorskip("urllib3")  # comes with boto3 (dev dependencies)

GUNICORN_CONF = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"
SECRET = "two-servers-share-this-secret-key"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTTP = urllib3.PoolManager()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen | None
    upload_dir: Path | None
    log: Path
    pool: urllib3.PoolManager = HTTP


def _start(name: str, env: dict[str, str], folder: Path) -> Server:
    """One gunicorn with the deploy config, answering /healthz; a port taken meanwhile means another try."""
    log_path = folder / f"{name}.log"
    for _attempt in range(3):
        port = _free_port()
        upload_dir = folder / f"uploads-{name}"
        server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "UPLOAD_DIR": str(upload_dir)}
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "wsgi:app"],
                cwd=PROJECT_ROOT,
                env=server_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers stopped together
            )
        server = Server(f"http://127.0.0.1:{port}", process, upload_dir, log_path)
        deadline = time.monotonic() + 120  # a busy 2-core machine may take a while to import the app
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if HTTP.request("GET", server.url + "/healthz", retries=False, timeout=10).status == 200:
                    return server
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.3)
        _stop(server)
    raise RuntimeError(f"gunicorn {name} did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def _stop(server: Server) -> None:
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def servers(_app, s3_server, tmp_path_factory):
    """Servers A and B: one database, one bucket prefix, one SECRET_KEY, one worker each (two processes are what
    matters; the machine running the suite has two cores)."""
    folder = tmp_path_factory.mktemp("two-servers")
    env = {
        **os.environ,  # the AWS_* variables of the S3 fixture
        "DATABASE_URL": _app.config["SQLALCHEMY_DATABASE_URI"],
        "PHOTO_STORAGE": f"s3://{s3_server['bucket']}/two-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": SECRET,
        "DEMO_MODE": "0",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "TRUST_PROXY_HOPS": "1",  # as behind nginx (requests straight to a server carry no X-Forwarded-*)
    }
    started = []
    try:
        for name in ("a", "b"):
            started.append(_start(name, env, folder))
        yield started
    finally:
        for server in started:
            _stop(server)


class Browser:
    """One phone or PC: its own session cookie, sent to whichever server it talks to."""

    def __init__(self, cookie: str | None = None):
        self.cookie = cookie

    def request(self, server: Server, method: str, path: str, fields=None, headers=None, body=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        if server.url.startswith("https:"):
            headers.setdefault("Referer", server.url + "/")  # as a browser sends it (same-origin policy)
        if fields is not None:
            body, headers["Content-Type"] = urllib3.encode_multipart_formdata(fields)
        response = server.pool.request(
            method, server.url + path, body=body, headers=headers, redirect=False, retries=False, timeout=90
        )
        for set_cookie in response.headers.getlist("Set-Cookie"):
            name, _, rest = set_cookie.partition("=")
            if name == "session":
                self.cookie = rest.split(";")[0] or None  # an emptied cookie is a deleted one
        return response

    def get(self, server: Server, path: str, **kwargs):
        return self.request(server, "GET", path, **kwargs)

    def post(self, server: Server, path: str, fields, **kwargs):
        return self.request(server, "POST", path, fields=fields, **kwargs)

    def csrf(self, server: Server, path: str = "/akun/masuk") -> str:
        match = CSRF_RE.search(self.get(server, path).data.decode())
        assert match, f"no csrf token on {path}"
        return match.group(1)

    def login(self, form_from: Server, post_to: Server, username: str, password=factories.PASSWORD, headers=None):
        """The login form from one server, sent to the other (the CSRF token is the shared key's)."""
        token = self.csrf(form_from)
        fields = {"username": username, "password": password, "csrf_token": token}
        return self.post(post_to, "/akun/masuk", fields, headers=headers)


def _committed():
    """The test's own view of the database, fresh (the servers wrote it)."""
    db.session.rollback()
    return db.session


def test_an_app_on_a_shared_database_without_its_own_secret_key_says_so(capsys):
    """Servers that each generated a key would refuse each other's sessions and forms: the log names the cause."""
    import logging

    from webapp import create_app

    handlers = logging.getLogger().handlers[:]
    try:
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "postgresql://kail:kail@127.0.0.1:1/kail",  # never connected to here
                "SECRET_KEY": "generated-on-this-machine",
                "SECRET_KEY_FROM_INSTANCE": True,
            }
        )
        assert "Set the same SECRET_KEY on every app server" in capsys.readouterr().err
        create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://kail:kail@127.0.0.1:1/kail", "SECRET_KEY": "set"})
        assert "SECRET_KEY" not in capsys.readouterr().err
    finally:
        logging.getLogger().handlers[:] = handlers


def test_a_visit_recorded_on_one_server_is_reviewed_with_its_photos_on_the_other(app, world, servers):
    a, b = servers
    family = world.recipients["own"]
    mentor = Browser()
    assert mentor.login(a, b, world.users["mentor"].username).status == 302
    html = mentor.get(a, form_url(family)).data.decode()
    token = CSRF_RE.search(html).group(1)
    visit_code = re.search(r'name="uuid"[^>]*value="([^"]+)"', html).group(1)
    sent = [jpeg(), jpeg((200, 40, 40))]
    outbox = {"X-Kail-Outbox": "1", "X-CSRFToken": token}
    # The phone's outbox sends the first photo ahead, whole, through A ...
    photo_code = str(uuid.uuid4())
    staged = mentor.post(a, f"/kunjungan/{visit_code}/foto/{photo_code}", {"photo": ("1.jpg", sent[0])}, headers=outbox)
    assert staged.status == 200, staged.data
    # ... the second in chunks over a link that drops: the first chunk through A, the offset asked of B after the
    # drop, the rest through B ...
    chunked, chunked_code = photo_bytes(seed=7), str(uuid.uuid4())
    assert len(chunked) > CHUNK
    upload_url = f"/kunjungan/{visit_code}/foto/{chunked_code}"
    declared = {
        **outbox,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Length": str(len(chunked)),
        "Upload-Sha256": hashlib.sha256(chunked).hexdigest(),
    }
    first = mentor.request(a, "PATCH", upload_url, body=chunked[:CHUNK], headers={**declared, "Upload-Offset": "0"})
    assert first.status == 200, first.data
    held = json.loads(mentor.get(b, upload_url, headers={"X-Kail-Outbox": "1"}).data)
    assert held["offset"] == CHUNK, held
    start = held["offset"]
    while start < len(chunked):
        rest = mentor.request(
            b,
            "PATCH",
            upload_url,
            body=chunked[start : start + CHUNK],
            headers={**declared, "Upload-Offset": str(start)},
        )
        assert rest.status == 200, rest.data
        start = json.loads(rest.data)["offset"]
    assert json.loads(mentor.get(a, upload_url, headers={"X-Kail-Outbox": "1"}).data)["status"] == "complete"
    # ... and the third comes with the visit itself, which names the other two.
    fields = [
        ("csrf_token", token),
        ("uuid", visit_code),
        ("kind", "pendampingan"),
        ("visited_at", "2026-11-30T01:00:00+00:00"),
        ("location_fixed_at", "2026-11-30T00:59:00+00:00"),
        ("lat", "-0.502210"),
        ("lon", "117.153600"),
        ("accuracy", "12.5"),
        ("operating", "ya"),
        ("item-0", "dipakai"),
        ("item-1", "dipakai"),
        ("turnover", "250.000"),
        ("turnover_period", "minggu"),
        ("mentoring", "Mencatat penjualan harian"),
        ("photo-1-staged", "1"),
        ("photo-1-uuid", photo_code),
        ("tag-1", "usaha_berjalan"),
        ("photo-2-staged", "1"),
        ("photo-2-uuid", chunked_code),
        ("tag-2", "usaha_berjalan"),
        ("photo-3", ("IMG_0003.jpg", sent[1], "image/jpeg")),
        ("tag-3", "barang_bantuan"),
    ]
    # The phone gave up waiting on B and sent the visit again, through A, while B was still storing it.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda server: mentor.post(server, form_url(family), fields, headers=outbox), (b, a)))
    assert sorted(r.status for r in answers) == [200, 201], [r.data for r in answers]
    session = _committed()
    visit = session.scalar(select(Visit))
    assert session.scalar(select(func.count()).select_from(Visit)) == 1 and len(visit.photos) == 3
    photo_ids = [p.id for p in visit.photos]

    supervisor = Browser()
    assert supervisor.login(b, a, world.users["supervisor"].username).status == 302
    queue = supervisor.get(b, "/periksa/").data.decode()
    assert "Siti Aminah" in queue and f"/foto/{photo_ids[0]}/kecil" in queue
    for photo_id in photo_ids:
        served = [supervisor.get(server, f"/foto/{photo_id}") for server in (a, b)]
        assert [r.status for r in served] == [200, 200] and served[0].headers["Content-Type"] == "image/jpeg"
        assert served[0].data == served[1].data and served[0].data[:2] == b"\xff\xd8"
        assert supervisor.get(b, f"/foto/{photo_id}/kecil").status == 200
    token = supervisor.csrf(a, "/periksa/")
    decided = supervisor.post(b, f"/periksa/{visit.id}", {"csrf_token": token, "decision": "disetujui", "round": "1"})
    assert decided.status in (200, 303), decided.data
    assert _committed().scalar(select(Visit.review_state)) == "disetujui"
    # Nothing any server needs lies in a server's own folder: photos and staged uploads are in the bucket.
    for server in servers:
        assert not [p for p in server.upload_dir.rglob("*") if p.is_file()], f"{server.url} kept files"


def test_an_import_previewed_on_one_server_is_committed_on_the_other(app, world, servers):
    a, b = servers
    admin = Browser()
    assert admin.login(a, a, world.users["admin"].username).status == 302
    rows = [factories.import_row(n) for n in range(1, 6)]
    rows.append(factories.import_row(6, Desil="9"))
    token = admin.csrf(a, "/kelola-data/impor")
    upload = admin.post(
        a,
        "/kelola-data/impor",
        {"csrf_token": token, "budget_year": "2026", "file": ("daftar.csv", factories.csv_text(rows).encode())},
    )
    assert upload.status == 303, upload.data
    path = upload.headers["Location"]
    assert path.startswith("/kelola-data/impor/")
    page = admin.get(b, path).data.decode()
    assert re.findall(r'kpi__value">(\d+)', page) == ["6", "5", "1", "0"] and "Desil harus 1 sampai 5" in page
    assert admin.get(b, path + "/kesalahan.xlsx").status == 200
    committed = admin.post(b, path, {"csrf_token": token, "expected": "5"})
    assert committed.status == 303, committed.data
    assert _committed().scalar(select(func.count()).select_from(Recipient).where(Recipient.budget_year == 2026)) == 5
    retried = admin.post(a, path, {"csrf_token": token, "expected": "5"})  # a double click landing on A
    assert retried.status == 303
    assert _committed().scalar(select(func.count()).select_from(Recipient).where(Recipient.budget_year == 2026)) == 5
    assert "Sudah diimpor: 5 keluarga" in admin.get(a, path).data.decode()
    for server in servers:
        assert not [p for p in server.upload_dir.rglob("*") if p.is_file()], f"{server.url} kept files"


def test_a_logout_on_one_server_ends_the_session_on_both(app, world, servers):
    a, b = servers
    mentor = Browser()
    assert mentor.login(a, b, world.users["mentor"].username).status == 302
    for server in servers:
        assert mentor.get(server, "/kunjungan/").status == 200
    copied = Browser(mentor.cookie)  # the same cookie, taken elsewhere
    assert copied.get(a, "/kunjungan/").status == 200
    token = mentor.csrf(b, "/kunjungan/")
    assert mentor.post(b, "/akun/keluar", {"csrf_token": token}).status == 302
    assert mentor.cookie is None
    for server in servers:
        refused = Browser(copied.cookie).get(server, "/kunjungan/")
        assert refused.status == 302 and "/akun/masuk" in refused.headers["Location"], server.url


def test_both_servers_give_a_phone_the_same_versions(app, world, servers):
    """A phone whose requests alternate between the servers must not see a new app shell or a changed caseload
    each time: the service worker, the static files' hashed URLs and the offline pages' versions match."""
    a, b = servers
    mentor = Browser()
    assert mentor.login(a, b, world.users["mentor"].username).status == 302
    worker = [mentor.get(server, "/sw.js") for server in servers]
    assert worker[0].data == worker[1].data and worker[0].headers["Cache-Control"] == "no-cache"
    assert worker[0].headers["Service-Worker-Allowed"] == "/"
    static = [
        re.findall(r'/static/[^"]+\?v=[0-9a-f]+', mentor.get(server, "/kunjungan/").data.decode()) for server in servers
    ]
    assert static[0] and static[0] == static[1]
    caseload = [mentor.get(server, "/offline/daftar.json").data for server in servers]
    assert b'"family"' in caseload[0] and caseload[0] == caseload[1]


def test_failed_logins_on_both_servers_count_together(app, world, servers):
    a, b = servers
    username = world.users["mentor"].username
    guesser = Browser()
    for attempt in range(5):  # LOGIN_MAX_FAILURES_PER_USER, spread over both servers
        server = servers[attempt % 2]
        assert guesser.login(server, server, username, "salah-tebak-123").status == 401
    for server in servers:
        blocked = guesser.login(server, server, username)  # even the right password must wait now
        assert blocked.status == 429 and "Terlalu banyak percobaan" in blocked.data.decode(), server.url


def test_a_visit_stored_by_the_other_server_meanwhile_is_a_duplicate_not_missing_photos(
    app, login_as, world, monkeypatch
):
    """The retry looked for the visit before the first request committed it, then found the photos sent ahead
    gone (the first one moved them): it answers "already stored", not "send the photos again"."""
    from webapp.visits import routes

    family = world.recipients["own"]
    client = login_as("mentor")
    data = good_data(client, family)
    token = data.pop("csrf_token")
    code = str(uuid.uuid4())
    assert _stage(client, token, data["uuid"], code, jpeg()).status_code == 200
    visit = {k: v for k, v in data.items() if not k.startswith(("photo-", "tag-"))}
    visit.update({"photo-1-staged": "1", "photo-1-uuid": code, "tag-1": "usaha_berjalan"})
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": token}
    assert client.post(form_url(family), data=dict(visit), headers=headers).status_code == 201
    looks = []
    stored_under = routes._stored_under

    def first_look_before_the_commit(form):
        looks.append(form.uuid.data)
        return None if len(looks) == 1 else stored_under(form)

    monkeypatch.setattr(routes, "_stored_under", first_look_before_the_commit)
    again = client.post(form_url(family), data=dict(visit), headers=headers)
    assert again.status_code == 200 and again.json["status"] == "duplicate", again.json
    assert len(looks) == 2


# --- both servers behind deploy/nginx-kail.conf --------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(servers, tmp_path_factory):
    """nginx with the deploy kit's site, on free local ports, HTTPS with a throwaway certificate for `localhost`,
    in front of servers A and B. Skipped where nginx is not installed (.ci/run installs nginx-light)."""
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("nginx or openssl missing: apt-get install nginx-light")
    folder = tmp_path_factory.mktemp("nginx")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    for _attempt in range(3):  # a port taken between choosing and binding: another try
        front = _start_nginx(nginx, folder, servers, cert, key)
        if front.process.poll() is None:
            break
    try:
        if front.process.poll() is not None:
            raise RuntimeError(f"nginx did not start: {front.log.read_text(errors='replace')[-2000:]}")
        yield front
    finally:
        _stop(front)


def _start_nginx(nginx: str, folder: Path, servers: list[Server], cert: Path, key: Path) -> Server:
    """nginx on two free ports with the deploy site pointed at `servers`; returned once it answers /healthz, or
    once it has exited."""
    http_port, https_port = _free_port(), _free_port()
    a, b = servers
    site = (PROJECT_ROOT / "deploy" / "nginx-kail.conf").read_text(encoding="utf-8")
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.MULTILINE)  # no IPv6 needed here
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = re.sub(r"listen 443 ", f"listen 127.0.0.1:{https_port} ", site)
    site = site.replace("server 10.0.0.11:8000", f"server {a.url.removeprefix('http://')}")
    site = site.replace("server 10.0.0.12:8000", f"server {b.url.removeprefix('http://')}")
    # On a port other than 443 the host a browser names (and its Referer, which CSRF checks over HTTPS) has one.
    site = site.replace("Host $host;", "Host $http_host;")
    site = site.replace("kail.example.go.id", "localhost").replace("/var/lib/nginx/kail-cache", str(folder / "cache"))
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain\.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey\.pem", str(key), site)
    (folder / "kail.conf").write_text(site)
    temp = "".join(
        f"    {name}_temp_path {folder / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    log = folder / "error.log"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers that may write the temporary folders made here
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\npid {folder / 'nginx.pid'};\nerror_log {log};\nworker_processes 1;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}    include {folder / 'kail.conf'};\n}}\n"
    )
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [nginx, "-p", str(folder), "-e", str(log), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pool = urllib3.PoolManager(ca_certs=str(folder / "cert.pem"))
    front = Server(f"https://localhost:{https_port}", process, None, log, pool)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if pool.request("GET", front.url + "/healthz", retries=False, timeout=10).status == 200:
                return front
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.2)
    if process.poll() is None:
        _stop(front)
        raise RuntimeError(f"nginx answers no /healthz: {log.read_text(errors='replace')[-2000:]}")
    return front


def test_through_nginx_logins_static_files_and_the_service_worker_work(app, world, servers, proxy):
    mentor = Browser()
    login = mentor.login(proxy, proxy, world.users["mentor"].username, headers={"X-Forwarded-For": "203.0.113.9"})
    assert login.status == 302, login.data
    page = mentor.get(proxy, "/kunjungan/")
    assert page.status == 200 and "max-age=31536000" in page.headers["Strict-Transport-Security"]
    # TRUST_PROXY_HOPS=1: the address nginx saw (this machine), never the X-Forwarded-For a client made up.
    assert _committed().scalar(select(LoginAttempt.ip)) == "127.0.0.1"
    worker = mentor.get(proxy, "/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache" and worker.headers["Service-Worker-Allowed"] == "/"
    static = re.search(r"/static/css/app\.css\?v=[0-9a-f]+", page.data.decode()).group(0)
    for _ in range(2):
        css = mentor.get(proxy, static)
        assert css.status == 200 and "immutable" in css.headers["Cache-Control"]
        assert "Set-Cookie" not in css.headers  # a session cookie never rides on a cached file
    assert any(p.is_file() for p in (proxy.log.parent / "cache").rglob("*")), "nginx cached no static file"
    old = mentor.get(proxy, "/static/css/app.css?v=0000000000")  # an old page's link during an upgrade
    assert old.status == 200 and "immutable" not in old.headers.get("Cache-Control", "")


def test_through_nginx_a_request_just_over_the_limit_gets_the_apps_message(app, world, servers, proxy):
    mentor = Browser()
    assert mentor.login(proxy, proxy, world.users["mentor"].username).status == 302
    family = world.recipients["own"]
    token = mentor.csrf(proxy, form_url(family))
    too_big = b"\xff" * (41 * 1024 * 1024)  # over MAX_UPLOAD_MB (40), under nginx's client_max_body_size
    refused = mentor.post(proxy, form_url(family), {"csrf_token": token, "photo-1": ("a.jpg", too_big, "image/jpeg")})
    assert refused.status == 413 and "Berkas terlalu besar" in refused.data.decode(), refused.data[:300]
    assert _committed().scalar(select(func.count()).select_from(Visit)) == 0


def test_through_nginx_a_server_going_down_leaves_the_app_up(app, world, servers, proxy):
    """Runs last in this module: it stops server A for good. nginx passes every request, posts included, to B."""
    mentor = Browser()
    assert mentor.login(proxy, proxy, world.users["mentor"].username).status == 302
    _stop(servers[0])
    for _ in range(4):  # round robin would have sent every other one to A
        assert mentor.get(proxy, "/kunjungan/").status == 200
    token = mentor.csrf(proxy, "/kunjungan/")
    assert mentor.post(proxy, "/akun/keluar", {"csrf_token": token}).status == 302
    assert mentor.login(proxy, proxy, world.users["mentor"].username).status == 302
