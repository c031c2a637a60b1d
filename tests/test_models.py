"""Constraints hold in the database itself, not only in forms; optimistic locking stops lost updates."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.extensions import db
from webapp.models import Recipient, Region, User

from . import factories


@pytest.fixture
def mentor(app):
    return factories.user("mentor")


def _fails(**kwargs):
    # SQLite reports a CHECK violation; PostgreSQL refuses an over-long value as DataError first.
    with pytest.raises((IntegrityError, DataError)):
        factories.recipient(**kwargs)
    db.session.rollback()


def test_regions_loaded_from_the_reference_file(app):
    regions = db.session.scalars(select(Region).order_by(Region.code)).all()
    assert len(regions) == 10
    assert sum(r.quota for r in regions) == 1680
    assert {r.code for r in regions} >= {"6401", "6411", "6472", "6474"}
    samarinda = next(r for r in regions if r.code == "6472")
    assert (samarinda.name, samarinda.kind, samarinda.capital) == ("Samarinda", "Kota", "Samarinda")


def test_nik_unique_per_budget_year(mentor):
    factories.recipient(mentor=mentor, nik="6472014101900001", budget_year=2025)
    factories.recipient(mentor=mentor, nik="6472014101900001", budget_year=2026)  # another year: allowed
    _fails(mentor=mentor, nik="6472014101900001", budget_year=2025)


@pytest.mark.parametrize("decile", [0, 6, -1])
def test_decile_between_1_and_5(mentor, decile):
    _fails(mentor=mentor, decile=decile)


@pytest.mark.parametrize("field", ["nik", "kk_number"])
@pytest.mark.parametrize("value", ["647201", "64720141019000011"])
def test_nik_and_kk_have_16_characters(mentor, field, value):
    _fails(mentor=mentor, **{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "kaya"),
        ("gender", "X"),
        ("funding_source", "APBN"),
        ("business_lat", 91.0),
        ("business_lat", -90.5),
        ("business_lon", 181.0),
        ("budget_year", 1999),
    ],
)
def test_enumerations_and_ranges(mentor, field, value):
    _fails(mentor=mentor, **{field: value})


def test_valid_location_bounds_accepted(mentor):
    r = factories.recipient(mentor=mentor, business_lat=-90.0, business_lon=180.0)
    assert r.id


def test_role_must_be_known(app):
    with pytest.raises(IntegrityError):
        factories.user("bupati")
    db.session.rollback()


def test_username_unique(app):
    factories.user("mentor", username="sama")
    with pytest.raises(IntegrityError):
        factories.user("mentor", username="sama")
    db.session.rollback()


def test_visit_uuid_unique(mentor):
    r = factories.recipient(mentor=mentor)
    factories.visit(r, uuid="11111111-1111-1111-1111-111111111111")
    with pytest.raises(IntegrityError):
        factories.visit(r, uuid="11111111-1111-1111-1111-111111111111")
    db.session.rollback()


@pytest.mark.parametrize(
    ("field", "value"),
    [("lat", 100.0), ("lon", -200.0), ("accuracy_m", -1.0), ("kind", "piknik"), ("review_state", "lupa")],
)
def test_visit_constraints(mentor, field, value):
    r = factories.recipient(mentor=mentor)
    with pytest.raises(IntegrityError):
        factories.visit(r, **{field: value})
    db.session.rollback()


def test_time_defaults_are_evaluated_per_row(mentor):
    a = factories.recipient(mentor=mentor)
    b = factories.recipient(mentor=mentor)
    assert a.created_at is not None and b.created_at >= a.created_at


def test_concurrent_update_is_refused_not_lost(mentor):
    """Two people save the same family: the second one's stale copy must not overwrite the first."""
    r = factories.recipient(mentor=mentor, status="usaha_berjalan")
    db.session.commit()
    with Session(db.engine) as other:
        theirs = other.get(Recipient, r.id)
        r.status = "usaha_kesulitan"
        db.session.commit()
        theirs.status = "mandiri"
        with pytest.raises(StaleDataError):
            other.commit()
    db.session.refresh(r)
    assert r.status == "usaha_kesulitan"
    assert r.version == 2


def test_deleting_a_user_keeps_their_families(mentor):
    r = factories.recipient(mentor=mentor)
    db.session.commit()
    db.session.delete(mentor)
    db.session.commit()
    db.session.refresh(r)
    assert r.mentor_id is None
    assert db.session.scalar(select(func.count()).select_from(User).where(User.id == mentor.id)) == 0
