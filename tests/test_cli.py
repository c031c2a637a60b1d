"""Command-line tasks: seed-demo (complete and idempotent), seed-regions, create-user."""

import datetime as dt
import re

from sqlalchemy import func, select

from webapp import areas
from webapp.extensions import db
from webapp.models import Photo, Recipient, Region, ReviewDecision, StatusChange, User, Visit


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_is_complete_plausible_and_idempotent(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "+1680 recipients" in result.output and "kail-demo" in result.output
    assert _count(Region) == 10
    assert _count(User, User.role == "admin") == 1
    assert _count(User, User.role == "supervisor") == 10
    assert _count(User, User.role == "mentor") == 30
    assert _count(User, User.is_demo.is_(False)) == 0
    assert {u for u in db.session.scalars(select(User.username))} >= {
        "admin",
        "koordinator1",
        "koordinator10",
        "pendamping1",
        "pendamping30",
    }
    assert _count(Recipient) == 1680
    per_region = dict(
        db.session.execute(
            select(Region.code, func.count(Recipient.id)).join(Recipient.region).group_by(Region.code)
        ).all()
    )
    assert set(per_region.values()) == {168}
    assert _count(Recipient, Recipient.funding_source == "APBD") == 1500
    assert _count(Recipient, Recipient.funding_source == "APBD-P") == 180
    assert len(set(db.session.scalars(select(Recipient.status)))) >= 7
    assert _count(Visit) > 0 and _count(Photo) > 0

    # Mentors work in their own regency, with their share of its families.
    p1 = db.session.scalar(select(User).where(User.username == "pendamping1"))
    mine = db.session.scalars(select(Recipient).where(Recipient.mentor_id == p1.id)).all()
    assert len(mine) == 56 and {r.region_id for r in mine} == {p1.regions[0].id}

    for r in db.session.scalars(select(Recipient).join(Recipient.region).where(Region.code == "6472")):
        assert re.fullmatch(r"\d{16}", r.nik) and re.fullmatch(r"\d{16}", r.kk_number)
        assert r.nik.startswith("6472")
        day = int(r.nik[6:8])
        assert (day > 40) == (r.gender == "P")
        dt.date(
            2000 + int(r.nik[10:12]) if int(r.nik[10:12]) < 30 else 1900 + int(r.nik[10:12]),
            int(r.nik[8:10]),
            day - 40 if day > 40 else day,
        )  # a real birth date
        assert r.desa in areas.districts_of("Kota", "Samarinda")[r.kecamatan]
        assert r.package_items
        history = sorted(r.status_changes, key=lambda c: (c.changed_at, c.id))
        assert history[0].from_status is None and history[-1].to_status == r.status
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status

    _the_program_looks_alive_today(app)

    counts = (_count(Region), _count(User), _count(Recipient), _count(StatusChange), _count(Visit), _count(Photo))
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "+0 recipients" in again.output
    assert (
        _count(Region),
        _count(User),
        _count(Recipient),
        _count(StatusChange),
        _count(Visit),
        _count(Photo),
    ) == counts
    assert "already has data" in runner.invoke(args=["seed-demo", "--if-empty"]).output


def _the_program_looks_alive_today(app):
    """On the day it is loaded, 60-80 % of the families still in the program had an approved visit in the last
    30 days (the dashboard's own figure, not 5 %), regencies differ, and nothing lies in the future."""
    from webapp import localtime, outcomes

    today = localtime.today()
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    months = app.config["FOLLOWUP_MONTHS"]
    whole = outcomes.build(admin, today, months)
    assert 60 <= whole.coverage_pct <= 80, (whole.covered_30d, whole.distributed)
    per_region = [outcomes.build(admin, today, months, r.code).coverage_pct for r in db.session.scalars(select(Region))]
    assert all(50 <= pct <= 90 for pct in per_region) and len(set(per_region)) > 3, per_region
    assert _count(Visit, Visit.visited_at >= localtime.day_start(today)) == 0  # all before the day of loading
    from webapp.models import utcnow

    now = utcnow()
    for later in (Visit.received_at, Visit.reviewed_at):  # nor received or reviewed later than now (it was, by days)
        assert _count(Visit, later > now) == 0, later
    assert _count(ReviewDecision, ReviewDecision.decided_at > now) == 0
    newest = db.session.scalar(select(func.max(Visit.visited_at)))
    assert localtime.wita_date(newest) >= today - dt.timedelta(days=3)
    waiting = db.session.scalar(select(func.min(Visit.visited_at)).where(Visit.review_state == "menunggu"))
    assert localtime.wita_date(waiting) >= today - dt.timedelta(days=30)  # the queue holds this month's visits


def test_create_user_makes_a_real_account(runner, app):
    result = runner.invoke(
        args=[
            "create-user",
            "sari.koordinator",
            "--name",
            "Sari Wulandari",
            "--role",
            "supervisor",
            "--region",
            "6472",
            "--password",
            "Samarinda-2026",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "sari.koordinator"))
    assert user.role == "supervisor" and not user.is_demo and [r.code for r in user.regions] == ["6472"]
    assert user.check_password("Samarinda-2026") and user.password_hash != "Samarinda-2026"


def test_create_user_enforces_rules(runner, app):
    cases = [
        (["weak", "--name", "W", "--role", "admin", "--password", "pendek1"], "minimal 10"),
        (["lettersonly", "--name", "L", "--role", "admin", "--password", "hanyahurufsaja"], "huruf dan angka"),
        (["Bad Name!", "--name", "B", "--role", "admin", "--password", "Samarinda-2026"], "Nama pengguna"),
        (["nomentorregion", "--name", "N", "--role", "mentor", "--password", "Samarinda-2026"], "wilayah"),
        (
            ["badregion", "--name", "N", "--role", "mentor", "--region", "9999", "--password", "Samarinda-2026"],
            "tidak dikenal",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(args=["create-user", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert _count(User) == 0


def test_seed_regions_is_idempotent(runner, app):
    assert "0 regions added" in runner.invoke(args=["seed-regions"]).output
    assert _count(Region) == 10


def test_list_users_shows_the_last_login_in_wita(runner, app, world):
    """05.00 WITA on 20 November is 21.00 UTC on the 19th: the list says the WITA time."""
    world.users["supervisor"].last_login_at = dt.datetime(2026, 11, 19, 21, 0)
    db.session.commit()
    result = runner.invoke(args=["list-users", "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    assert "2026-11-20 05.00 WITA" in result.output and "UTC" not in result.output
