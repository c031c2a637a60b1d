"""Portable SQL helpers, run against the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import User
from webapp.sqltools import contains

from . import factories


def _names(text: str) -> set[str]:
    return set(db.session.scalars(select(User.full_name).where(contains(User.full_name, text))))


def test_contains_ignores_case_and_takes_like_wildcards_literally(app):
    for name in ("Diskon 10% Mart", "Diskon 100 Mart", "Toko_A", "TokoBA", "Back\\slash", "Backslash"):
        factories.user("mentor", full_name=name)
    db.session.flush()
    assert _names("DISKON") == {"Diskon 10% Mart", "Diskon 100 Mart"}
    assert _names("10%") == {"Diskon 10% Mart"}
    assert _names("o_a") == {"Toko_A"}
    assert _names("k\\s") == {"Back\\slash"}
    assert _names("%") == {"Diskon 10% Mart"}
    assert _names("_") == {"Toko_A"}
