"""Follow-up schedule and the mentor's work list order."""

import datetime as dt

from webapp import localtime, schedule
from webapp.access import recipients_visible_to
from webapp.extensions import db
from webapp.models import Recipient

from . import factories

TODAY = dt.date(2026, 11, 29)


def test_add_months_clamps_to_month_end():
    assert schedule.add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert schedule.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert schedule.add_months(dt.date(2025, 11, 15), 3) == dt.date(2026, 2, 15)


def test_milestones_and_next_due():
    start = dt.date(2026, 1, 10)
    assert schedule.milestones(start) == [
        dt.date(2026, 2, 10),
        dt.date(2026, 4, 10),
        dt.date(2026, 7, 10),
        dt.date(2027, 1, 10),
    ]
    assert schedule.next_due(start, []) == dt.date(2026, 2, 10)
    assert schedule.next_due(start, [dt.date(2026, 2, 12)]) == dt.date(2026, 4, 10)
    # two weeks early still counts for the milestone
    assert schedule.next_due(start, [dt.date(2026, 1, 28)]) == dt.date(2026, 4, 10)
    # a visit long before the milestone does not
    assert schedule.next_due(start, [dt.date(2026, 1, 15)]) == dt.date(2026, 2, 10)
    assert schedule.next_due(start, [dt.date(2027, 1, 9)]) is None  # all four done
    assert schedule.next_due(start, [], months=(2,)) == dt.date(2026, 3, 10)
    assert schedule.next_due(None, []) is None


def test_haversine_is_plausible():
    samarinda, balikpapan = (-0.5022, 117.1536), (-1.2654, 116.8312)
    assert 85 < schedule.haversine_km(*samarinda, *balikpapan) < 95


def test_work_list_order(world):
    mentor = world.users["mentor"]
    region = mentor.regions[0]
    make = lambda name, **kw: factories.recipient(region, mentor, name=name, **kw)  # noqa: E731
    sent_back = make("A Dikirim Balik", distributed_on=dt.date(2026, 9, 1))
    factories.visit(sent_back, visited_at=dt.datetime(2026, 10, 5), review_state="perbaikan", review_note="ulang")
    very_late = make("B Sangat Terlambat", distributed_on=dt.date(2025, 3, 1))
    factories.visit(very_late, visited_at=dt.datetime(2025, 4, 2), review_state="disetujui")
    late = make("C Terlambat", distributed_on=dt.date(2026, 6, 1))
    factories.visit(late, visited_at=dt.datetime(2026, 7, 3), review_state="disetujui")
    # rejected visits do not count: this family is still never visited since distribution
    never = make("D Belum Dikunjungi", distributed_on=dt.date(2026, 11, 20))
    factories.visit(never, visited_at=dt.datetime(2026, 11, 21), review_state="ditolak")
    candidate = make("E Calon", status="calon")
    near = make("F Dekat", distributed_on=dt.date(2026, 10, 1), business_lat=-0.50, business_lon=117.15)
    factories.visit(near, visited_at=dt.datetime(2026, 11, 2), review_state="menunggu")
    far = make("G Jauh", distributed_on=dt.date(2026, 10, 1), business_lat=-1.26, business_lon=116.83)
    factories.visit(far, visited_at=dt.datetime(2026, 11, 2), review_state="disetujui")
    done = make("H Mandiri", status="mandiri", distributed_on=dt.date(2025, 3, 1))
    db.session.commit()

    items = schedule.work_list([far, done, near, candidate, never, late, very_late, sent_back], TODAY)
    assert [i.recipient.name for i in items] == [
        "A Dikirim Balik",
        "B Sangat Terlambat",
        "C Terlambat",
        "D Belum Dikunjungi",
        "E Calon",
        "F Dekat",
        "G Jauh",
        "H Mandiri",
    ]
    # "Terdekat": the groups stay, but within each the nearest comes first (G is near Balikpapan)
    items = schedule.work_list(
        [far, done, near, candidate, never, late, very_late, sent_back], TODAY, position=(-1.2, 116.8)
    )
    assert [i.recipient.name for i in items][5:7] == ["G Jauh", "F Dekat"]
    groups = {i.recipient.name: i.group for i in items}
    assert groups["A Dikirim Balik"] == schedule.SENT_BACK
    assert groups["C Terlambat"] == schedule.OVERDUE
    assert groups["D Belum Dikunjungi"] == schedule.NEVER_VISITED
    assert groups["H Mandiri"] == schedule.CLOSED_GROUP
    by_name = {i.recipient.name: i for i in items}
    assert by_name["C Terlambat"].due == dt.date(2026, 9, 1)
    assert by_name["G Jauh"].distance_km < by_name["F Dekat"].distance_km

    items = schedule.work_list([far, near], TODAY)
    assert all(i.distance_km is None for i in items)


def test_planned_next_visit_counts(world):
    mentor = world.users["mentor"]
    # past the 12-month milestone: only the planned date can make the family due
    old = factories.recipient(mentor=mentor, distributed_on=dt.date(2025, 1, 10), status="usaha_kesulitan")
    factories.visit(
        old, visited_at=dt.datetime(2026, 2, 1), review_state="disetujui", next_visit_on=dt.date(2026, 3, 1)
    )
    # a planned date sooner than the schedule's wins
    recent = factories.recipient(mentor=mentor, distributed_on=dt.date(2026, 10, 1))
    factories.visit(
        recent, visited_at=dt.datetime(2026, 11, 2), review_state="menunggu", next_visit_on=dt.date(2026, 11, 16)
    )
    db.session.commit()
    by_name = {i.recipient.id: i for i in schedule.work_list([old, recent], TODAY)}
    assert by_name[old.id].group == schedule.OVERDUE and by_name[old.id].due == dt.date(2026, 3, 1)
    assert by_name[recent.id].group == schedule.OVERDUE and by_name[recent.id].due == dt.date(2026, 11, 16)


def test_suggested_next_visit(world):
    r = factories.recipient(mentor=world.users["mentor"], distributed_on=dt.date(2026, 10, 1))
    db.session.commit()
    # visiting today (2 months in) covers the 1-month milestone; the 3-month one is next
    assert schedule.suggested_next_visit(r, TODAY) == dt.date(2027, 1, 1)
    undistributed = factories.recipient(mentor=world.users["mentor"], status="calon")
    assert schedule.suggested_next_visit(undistributed, TODAY) == TODAY + dt.timedelta(days=14)


def test_work_list_visit_facts_through_scope_and_ids(world):
    """The visits' dates and the visits sent back come in one statement: each field lands where it belongs,
    sent-back visits oldest first, whether the families are given by id or by the query they came from."""
    mentor = world.users["mentor"]
    family = factories.recipient(
        mentor.regions[0], mentor, name="A Dua Kali Dikirim Balik", distributed_on=dt.date(2026, 9, 1)
    )
    newer = factories.visit(family, visited_at=dt.datetime(2026, 11, 3), review_state="perbaikan", review_note="dua")
    older = factories.visit(family, visited_at=dt.datetime(2026, 10, 5), review_state="perbaikan", review_note="satu")
    factories.visit(family, visited_at=dt.datetime(2026, 11, 20), review_state="ditolak")
    quiet = factories.recipient(mentor.regions[0], mentor, name="B Tanpa Kunjungan")
    db.session.commit()

    scope = recipients_visible_to(mentor).where(Recipient.id.in_([family.id, quiet.id]))
    for kwargs in ({}, {"scope": scope}):
        items = {i.recipient.name: i for i in schedule.work_list([family, quiet], TODAY, **kwargs)}
        sent = items["A Dua Kali Dikirim Balik"].sent_back
        assert [(v.id, v.visited_at, v.review_note) for v in sent] == [
            (older.id, dt.datetime(2026, 10, 5), "satu"),
            (newer.id, dt.datetime(2026, 11, 3), "dua"),
        ]
        assert items["A Dua Kali Dikirim Balik"].last_visit == localtime.wita_date(dt.datetime(2026, 11, 3))
        assert items["B Tanpa Kunjungan"].sent_back == [] and items["B Tanpa Kunjungan"].last_visit is None
