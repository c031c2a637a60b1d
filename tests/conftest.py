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
