"""Caseload stamps and the cached mentor home (webapp/caseload.py).

The mentor home is served from a per-process cache filed under the mentor's caseload stamp; the stamp must change
with every commit that changes what the page shows, whichever code path writes, and with nothing else's. The
whole suite runs with PAGE_CACHE_CHECK on (every cached page served is compared with a fresh rendering), so any
view that writes a family or a visit without changing the stamp fails wherever a test then opens the home.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import event, func, select, text, update

from webapp import accounts, caseload
from webapp.extensions import db
from webapp.models import Recipient, User, Visit
from webapp.visits import routes as visit_routes

from . import factories
from .conftest import login


def stamp(user: User) -> str:
    return db.session.scalar(select(User.caseload_stamp).where(User.id == user.id))


def stamps(world) -> dict[str, str]:
    return {name: stamp(user) for name, user in world.users.items()}


def changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def count_statements(client, url: str, **kwargs):
    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        response = client.get(url, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return response, seen


def without_volatile(html: str) -> str:
    """The page minus what differs on every request (CSRF token, the minute it was made)."""
    html = re.sub(r'"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"', "csrf", html)
    return re.sub(r"\d\d/\d\d \d\d\.\d\d WITA", "now", html)


# --- what changes a stamp -----------------------------------------------------------------------------------------


def test_a_new_visit_changes_its_mentors_stamp_only(world):
    before = stamps(world)
    factories.visit(world.recipients["own"])  # given its family as an object, as the recording code does
    db.session.commit()
    assert changed(before, stamps(world)) == {"mentor"}


def test_a_visit_changed_by_a_supervisor_changes_the_mentors_stamp(world):
    visit = factories.visit(world.recipients["own"])
    db.session.commit()
    before = stamps(world)
    db.session.expire_all()  # as in another request: nothing loaded but what the change needs
    db.session.get(Visit, visit.id).review_state = "perbaikan"
    db.session.commit()
    assert changed(before, stamps(world)) == {"mentor"}


def test_a_family_reassigned_changes_both_mentors_stamps(world):
    before = stamps(world)
    db.session.expire_all()
    family = db.session.get(Recipient, world.recipients["own"].id)
    family.mentor_id = world.users["mentor_same_region"].id
    db.session.commit()
    assert changed(before, stamps(world)) == {"mentor", "mentor_same_region"}


def test_a_family_deleted_changes_its_mentors_stamp(world):
    factories.visit(world.recipients["own"])
    db.session.commit()
    before = stamps(world)
    db.session.expire_all()
    db.session.delete(db.session.get(Recipient, world.recipients["own"].id))
    db.session.commit()
    assert changed(before, stamps(world)) == {"mentor"}


def test_a_bulk_statement_on_families_changes_every_stamp(world):
    before = stamps(world)
    moved = accounts.hand_over_families(world.users["mentor"], world.users["mentor_same_region"], by=None)
    db.session.commit()
    assert moved
    assert changed(before, stamps(world)) == set(world.users)


def test_nothing_changes_without_a_commit_or_for_other_tables(world):
    before = stamps(world)
    factories.visit(world.recipients["own"])
    db.session.rollback()
    db.session.get(User, world.users["admin"].id).full_name = "Admin Baru"
    db.session.commit()
    after = stamps(world)
    assert changed(before, after) == set()  # neither the rolled-back visit nor a user's name
    factories.visit(world.recipients["own"])
    db.session.commit()  # what the rollback discarded is not carried into the next commit either
    assert changed(after, stamps(world)) == {"mentor"}


def test_a_new_user_gets_a_random_stamp(world):
    assert len({stamp(user) for user in world.users.values()}) == len(world.users)


# --- the cached page ----------------------------------------------------------------------------------------------


@pytest.fixture
def unchecked(app):
    """The cache as in production: a page served from it is not compared with a fresh rendering."""
    app.config["PAGE_CACHE_CHECK"] = False
    yield
    app.config["PAGE_CACHE_CHECK"] = True


def test_a_page_still_valid_costs_one_statement_and_shows_the_same(client, world, unchecked):
    login(client, world.users["mentor"].username)
    first = client.get("/kunjungan/")  # made and filed
    again, statements = count_statements(client, "/kunjungan/")
    assert again.status_code == 200
    assert len(statements) == 1, statements  # the user (with their regencies), as every page loads them
    assert without_volatile(again.text) == without_volatile(first.text)
    # The two per-request values are real, not the cache's marks.
    assert "-mark" not in again.text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', again.text).group(1)
    assert len(token) > 40
    assert re.search(r'data-rendered-at="\d\d/\d\d \d\d\.\d\d WITA"', again.text)
    fragment, statements = count_statements(client, "/kunjungan/", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Siti Aminah" in fragment.text


def test_the_page_follows_a_change_made_elsewhere(client, world, unchecked):
    """A supervisor sends a visit back (another request, another session): the next home shows it at the top."""
    visit = factories.visit(world.recipients["own"], review_state="menunggu")
    db.session.commit()
    login(client, world.users["mentor"].username)
    assert "Foto buram" not in client.get("/kunjungan/").text
    db.session.execute(  # as the review does: through the session
        update(Visit).where(Visit.id == visit.id).values(review_state="perbaikan", review_note="Foto buram")
    )
    db.session.commit()
    page = client.get("/kunjungan/").text
    assert "group-title--0" in page and "Foto buram" in page  # the "sent back" group, at the top


def test_mentors_never_see_each_others_page(client, world, unchecked):
    login(client, world.users["mentor"].username)
    assert "Siti Aminah" in client.get("/kunjungan/").text
    client.post("/akun/keluar", data={"csrf_token": _token(client)})
    login(client, world.users["mentor_same_region"].username)
    page = client.get("/kunjungan/").text
    assert "Budi Santoso" in page and "Siti Aminah" not in page


def test_a_message_to_show_once_is_shown_and_not_kept(client, world, unchecked):
    login(client, world.users["mentor"].username)
    client.get("/kunjungan/")
    with client.session_transaction() as session:
        session["_flashes"] = [("ok", "Kunjungan tersimpan.")]
    assert "Kunjungan tersimpan." in client.get("/kunjungan/").text
    assert "Kunjungan tersimpan." not in client.get("/kunjungan/").text


def test_each_language_and_view_has_its_own_page(client, world, unchecked):
    login(client, world.users["mentor"].username)
    assert "Kunjungan saya" in client.get("/kunjungan/").text
    db.session.get(User, world.users["mentor"].id).locale = "en"
    db.session.commit()
    assert "My visits" in client.get("/kunjungan/").text
    assert "Tidak ada keluarga" not in client.get("/kunjungan/").text
    assert "No families match this search." in client.get("/kunjungan/?q=zzzz").text


def test_the_check_catches_a_write_that_went_around_the_session(client, world):
    """The suite's safety net can fail: a raw UPDATE (no stamp change) makes the next cached page stale."""
    login(client, world.users["mentor"].username)
    client.get("/kunjungan/")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE recipients SET name = 'Nama Diubah' WHERE id = :id"),
                           {"id": world.recipients["own"].id})  # fmt: skip
    with pytest.raises(RuntimeError, match="stale"):
        client.get("/kunjungan/")


def test_the_cache_drops_the_least_recently_used():
    cache = caseload.PageCache(2)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    assert cache.get("a", lambda: "A2") == ("A", True)  # a used last: b goes
    cache.get("c", lambda: "C")
    assert cache.get("b", lambda: "B2") == ("B2", False)
    assert cache.get("a", lambda: "A3") == ("A3", False)  # dropped when b came back


def test_nearest_first_and_searches_are_not_cached(client, world, unchecked):
    login(client, world.users["mentor"].username)
    visit_routes._HOME_PAGES.clear()
    client.get("/kunjungan/?lat=-0.5&lon=117.1")
    client.get("/kunjungan/?q=Siti", headers={"HX-Request": "true"})
    assert len(visit_routes._HOME_PAGES) == 0
    client.get("/kunjungan/")
    assert len(visit_routes._HOME_PAGES) == 1


def _token(client) -> str:
    page = client.get("/bantuan").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_today_is_part_of_the_key(client, world, unchecked, monkeypatch):
    """An overdue family becomes overdue at midnight without any write."""
    family = world.recipients["own"]
    family.distributed_on = dt.date(2026, 1, 1)
    family.status = "usaha_berjalan"
    db.session.commit()
    login(client, world.users["mentor"].username)
    from webapp import localtime

    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 1, 20))
    assert "Terlambat dikunjungi" not in client.get("/kunjungan/").text
    monkeypatch.setattr(localtime, "today", lambda: dt.date(2026, 2, 20))
    assert "Terlambat dikunjungi" in client.get("/kunjungan/").text


def test_two_visits_of_one_mentor_stored_at_once_both_commit(app, world):
    """Two of one mentor's visits committed at the same moment (the phone's outbox and a second phone, or two
    servers) both land and both change the stamp. Each insert holds FOR KEY SHARE on the mentor's row (the
    foreign key's check); the stamp's lock must not conflict with it, or each commit waits for the other's."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: no row locks to deadlock on")
    mentor, own = world.users["mentor"], world.recipients["own"]
    second = factories.recipient(own.region, mentor, name="Rahmawati")
    db.session.commit()
    before = stamp(mentor)
    families, barrier, errors = [own.id, second.id], threading.Barrier(2, timeout=20), []

    def store(family_id: int) -> None:
        with app.app_context():
            try:
                factories.visit(db.session.get(Recipient, family_id))  # flushed: the mentor's row is key-shared
                barrier.wait()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the test reports what went wrong in the thread
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=store, args=(family_id,)) for family_id in families]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert db.session.scalar(select(func.count(Visit.id)).where(Visit.recipient_id.in_(families))) == 2
    assert stamp(mentor) != before
