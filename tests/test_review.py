"""Supervisor review: the queue, decisions and who may take them, conflicts, send-back and resubmission."""

import datetime as dt
import io
import re

import pytest
from flask import current_app
from sqlalchemy import select

from webapp import decisions
from webapp.demo import demo_photo
from webapp.extensions import db
from webapp.models import ReviewDecision, Visit

from .conftest import csrf_token, login

HX = {"HX-Request": "true"}


@pytest.fixture
def pending(world):
    """A pending follow-up visit of the Samarinda mentor's family, with one real photo file."""
    from webapp import photos, recording

    family = world.recipients["own"]
    upload = recording.PhotoUpload(photos.process(demo_photo("antri", 1)), "usaha_berjalan")
    data = recording.VisitInput(
        uuid="7b1b6f0e-2d1c-4c55-9a43-3a0d9f3c1001",
        kind="pendampingan",
        visited_at=dt.datetime(2026, 11, 20, 2, 0),
        lat=-0.5,
        lon=117.15,
        accuracy_m=12.0,
        answers={
            "operating": "ya",
            "items": {"Wajan": "dipakai", "Kompor gas": "dipakai"},
            "turnover": 100000,
            "turnover_period": "hari",
        },
    )
    visit, _ = recording.record_visit(family, world.users["mentor"], data, [upload], current_app.config["UPLOAD_DIR"])
    return visit


def decide(client, visit, decision, note="", htmx=False, round_=None):
    token = csrf_token(client, "/periksa/")
    return client.post(
        f"/periksa/{visit.id}",
        data={"csrf_token": token, "decision": decision, "note": note, "round": round_ or visit.round},
        headers=HX if htmx else {},
    )


def test_queue_shows_pending_visits_with_flags_in_scope(login_as, world, pending):
    client = login_as("supervisor")
    html = client.get("/periksa/").get_data(as_text=True)
    assert "Siti Aminah" in html and f"/foto/{pending.photos[0].id}/kecil" in html
    assert "Akurasi ± 12 m" in html and "Setujui" in html and "Minta perbaikan" in html
    assert "1 kunjungan menunggu diperiksa" in html
    fragment = client.get("/periksa/?tanda=tanpa_lokasi", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and "Siti Aminah" not in fragment
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/periksa/")})
    login(client, world.users["supervisor_other_region"].username)
    assert "Siti Aminah" not in client.get("/periksa/").get_data(as_text=True)


def test_queue_filters_are_lenient(login_as, world, pending):
    client = login_as("admin")
    for qs in (
        "wilayah=9999",
        "pendamping=abc",
        "tanda=bogus",
        "dari=2026-13-45",
        "sampai=kemarin",
        "halaman=-1",
        "dari=0001-01-01",
        "sampai=9999-12-31",
    ):  # the last two overflowed the WITA shift (a 500)
        for page in ("/periksa/", "/peta/", "/peta/titik.json", "/periksa/pendamping"):
            assert client.get(f"{page}?{qs}").status_code == 200, (page, qs)
    assert "Siti Aminah" in client.get("/periksa/?dari=2026-11-20&sampai=2026-11-20").get_data(True)
    assert "Siti Aminah" not in client.get("/periksa/?dari=2026-11-21").get_data(True)


def _mentor_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="pendamping".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def test_mentor_filter_follows_the_chosen_regency(login_as, world, monkeypatch):
    from webapp.review import filters

    client = login_as("admin")
    smd = {str(world.users[k].id) for k in ("mentor", "mentor_same_region")}
    bpn_mentor = world.users["mentor_other_region"].id
    assert set(_mentor_options(client.get("/periksa/").get_data(True))) == smd | {str(bpn_mentor)}
    # At national scale there are too many mentors to list: the regency comes first.
    monkeypatch.setattr(filters, "MENTOR_OPTIONS_MAX", 2)
    html = client.get(f"/periksa/?pendamping={bpn_mentor}").get_data(True)
    assert _mentor_options(html) == [] and "Pilih kabupaten/kota dulu" in html and "disabled" in html
    assert "(1)" not in html  # the mentor filter was dropped, not applied unseen
    html = client.get("/periksa/?wilayah=6472").get_data(True)
    assert set(_mentor_options(html)) == smd and "Pilih kabupaten/kota dulu" not in html
    # A mentor from another regency than the chosen one is dropped, never an error.
    html = client.get(f"/periksa/?wilayah=6472&pendamping={bpn_mentor}").get_data(True)
    assert f'value="{bpn_mentor}" selected' not in html and "(1)" in html
    # The fragment the regency drop-down swaps in.
    fragment = client.get("/periksa/pilihan-pendamping?wilayah=6471").get_data(True)
    assert "<html" not in fragment and _mentor_options(fragment) == [str(bpn_mentor)]
    assert 'id="filter-mentor"' in fragment


def test_supervisor_mentor_choices_stay_in_scope(login_as, world):
    client = login_as("supervisor")
    fragment = client.get("/periksa/pilihan-pendamping?wilayah=6471").get_data(True)
    assert set(_mentor_options(fragment)) == {str(world.users[k].id) for k in ("mentor", "mentor_same_region")}


def test_approve_with_htmx_swaps_the_card_away(login_as, pending):
    client = login_as("supervisor")
    response = decide(client, pending, "disetujui", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="decided"' in html and "Disetujui" in html
    db.session.refresh(pending)
    assert pending.review_state == "disetujui" and pending.reviewed_by.username == "koordinator-smd"
    decision = db.session.scalar(select(ReviewDecision))
    assert (decision.round, decision.decision) == (1, "disetujui")


def test_the_queue_count_follows_a_decision_for_the_filters_on_screen(login_as, world, pending):
    """The header's count comes back out of band, counted with the filters of the page the decision was taken on."""
    from . import factories

    factories.visit(world.recipients["own"], review_state="menunggu", lat=None, lon=None)  # no flag 'akurasi'
    factories.visit(world.recipients["own"], review_state="menunggu", visited_at=dt.datetime(2026, 10, 1, 2))
    db.session.commit()
    client = login_as("supervisor")
    assert "3 kunjungan menunggu diperiksa" in client.get("/periksa/").get_data(as_text=True)
    token = csrf_token(client, "/periksa/")
    response = client.post(
        f"/periksa/{pending.id}",
        data={"csrf_token": token, "decision": "disetujui", "note": "", "round": pending.round},
        headers={**HX, "HX-Current-URL": "http://localhost/periksa/?dari=2026-11-01&wilayah=6472"},
    )
    html = response.get_data(as_text=True)
    assert 'class="decided"' in html
    assert 'id="review-count" hx-swap-oob="true"' in html
    assert "1 kunjungan menunggu diperiksa" in html  # of November's two, one is left (October's is filtered out)
    response = client.post(
        f"/periksa/{pending.id}",
        data={"csrf_token": token, "decision": "disetujui", "note": "", "round": pending.round},
        headers=HX,
    )
    assert response.status_code == 409 and "hx-swap-oob" not in response.get_data(as_text=True)


@pytest.mark.parametrize("decision", ["perbaikan", "ditolak"])
def test_send_back_and_reject_need_a_note(login_as, pending, decision):
    client = login_as("supervisor")
    response = decide(client, pending, decision, note="  ", htmx=True)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(True) and "Tulis catatan" in response.get_data(True)
    db.session.refresh(pending)
    assert pending.review_state == "menunggu" and not pending.decisions
    assert decide(client, pending, decision, note="Foto buram").status_code == 303
    db.session.refresh(pending)
    assert pending.review_state == decision and pending.review_note == "Foto buram"


def test_unknown_decision_is_refused(login_as, pending):
    client = login_as("supervisor")
    assert decide(client, pending, "hapus", htmx=True).status_code == 422
    db.session.refresh(pending)
    assert pending.review_state == "menunggu"


def test_second_decision_gets_already_decided_and_changes_nothing(app, login_as, world, pending):
    client = login_as("supervisor")
    decide(client, pending, "disetujui")
    admin = app.test_client()
    login(admin, world.users["admin"].username)
    response = decide(admin, pending, "ditolak", note="tidak", htmx=True, round_=1)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Sudah diputuskan oleh" in html and world.users["supervisor"].full_name in html
    db.session.refresh(pending)
    assert pending.review_state == "disetujui" and len(pending.decisions) == 1


def test_concurrent_decisions_on_the_same_round_keep_the_first(world, pending):
    """Two reviewers who both loaded the pending visit: the database lets only one decision per round in."""
    from sqlalchemy.orm import Session

    with Session(db.engine) as other_session:
        theirs = other_session.get(Visit, pending.id)
        other_session.add(
            ReviewDecision(visit=theirs, round=1, decision="ditolak", note="x", decided_by_id=world.users["admin"].id)
        )
        theirs.review_state = "ditolak"
        other_session.commit()
    # our copy still says "menunggu": the round check passes, the unique constraint does not
    db.session.expire_all()
    pending_copy = db.session.get(Visit, pending.id)
    pending_copy.review_state = "menunggu"  # what this reviewer's stale page believed
    with pytest.raises(decisions.AlreadyDecided) as info:
        decisions.decide(pending_copy, world.users["supervisor"], "disetujui", None, 1)
    assert info.value.decision.decision == "ditolak"
    db.session.expire_all()
    assert db.session.get(Visit, pending.id).review_state == "ditolak"


def test_mentors_cannot_decide(login_as, pending):
    client = login_as("mentor")
    assert decide(client, pending, "disetujui").status_code == 403
    db.session.refresh(pending)
    assert pending.review_state == "menunggu"


def test_first_good_approval_registers_the_business_location(login_as, world):
    from webapp import photos, recording

    family = world.recipients["same_region"]
    assert not family.has_business_location
    upload = recording.PhotoUpload(photos.process(demo_photo("baru", 2)), "usaha_berjalan")
    data = recording.VisitInput(
        uuid="7b1b6f0e-2d1c-4c55-9a43-3a0d9f3c1002",
        kind="pendampingan",
        visited_at=dt.datetime(2026, 11, 20, 2, 0),
        lat=-0.49,
        lon=117.14,
        accuracy_m=15.0,
    )
    visit, _ = recording.record_visit(
        family, world.users["mentor_same_region"], data, [upload], current_app.config["UPLOAD_DIR"]
    )
    decide(login_as("supervisor"), visit, "disetujui")
    db.session.refresh(family)
    assert (family.business_lat, family.business_lon) == (-0.49, 117.14)


def test_send_back_reaches_the_mentor_and_resubmission_keeps_both_rounds(app, client, world, pending):
    login(client, world.users["supervisor"].username)
    decide(client, pending, "perbaikan", note="Foto usaha dari depan, ya")
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/periksa/")})

    login(client, world.users["mentor"].username)
    home = client.get("/kunjungan/").get_data(as_text=True)
    assert "Perlu diperbaiki" in home and "Foto usaha dari depan, ya" in home
    assert f"/kunjungan/{pending.id}/perbaiki" in home
    form = client.get(f"/kunjungan/{pending.id}/perbaiki").get_data(as_text=True)
    assert "Foto usaha dari depan, ya" in form and 'value="100.000"' in form
    assert 'name="round" value="1"' in form and 'name="status"' not in form
    data = {
        "csrf_token": csrf_token(client, f"/kunjungan/{pending.id}/perbaiki"),
        "round": "1",
        "operating": "ya",
        "item-0": "dipakai",
        "item-1": "rusak",
        "turnover": "150.000",
        "turnover_period": "hari",
        "mentoring": "Foto ulang dari depan",
        "photo-1": (io.BytesIO(demo_photo("depan", 9)), "depan.jpg"),
        "tag-1": "usaha_berjalan",
    }
    response = client.post(f"/kunjungan/{pending.id}/perbaiki", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, re.findall(r'class="field__error"[^>]*>([^<]*)<', response.get_data(True))
    db.session.refresh(pending)
    assert pending.round == 2 and pending.review_state == "menunggu" and len(pending.photos) == 2
    assert pending.answers["turnover"] == 150000 and pending.answers["items"]["Kompor gas"] == "rusak"
    # a retried resubmission changes nothing
    again = dict(data, **{"photo-1": (io.BytesIO(demo_photo("depan", 9)), "d.jpg")})
    assert (
        client.post(f"/kunjungan/{pending.id}/perbaiki", data=again, content_type="multipart/form-data").status_code
        == 303
    )
    db.session.refresh(pending)
    assert pending.round == 2 and len(pending.photos) == 2
    work_list = client.get("/kunjungan/", headers={"HX-Request": "true"}).get_data(True)  # the list, not the outbox
    assert "Perlu diperbaiki" not in work_list
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/kunjungan/")})

    login(client, world.users["supervisor"].username)
    queue = client.get("/periksa/").get_data(as_text=True)
    assert "ronde 2" in queue
    assert decide(client, pending, "disetujui", round_=2).status_code == 303
    page = client.get(f"/penerima/{pending.recipient_id}").get_data(as_text=True)
    assert "Ronde 1: Dikirim balik untuk perbaikan" in page and "Foto usaha dari depan, ya" in page
    assert "Ronde 2: Disetujui" in page


def test_resubmission_validates_like_a_visit(login_as, world, pending):
    client = login_as("supervisor")
    decide(client, pending, "perbaikan", note="Lengkapi")
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/periksa/")})
    login(client, world.users["mentor"].username)
    data = {"csrf_token": csrf_token(client, "/kunjungan/"), "round": "1", "operating": "", "turnover": "abc"}
    response = client.post(f"/kunjungan/{pending.id}/perbaiki", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="operating-error"' in html
    db.session.refresh(pending)
    assert pending.round == 1 and pending.review_state == "perbaikan"


def test_other_mentors_cannot_resubmit(login_as, world, pending):
    client = login_as("mentor_same_region")
    assert client.get(f"/kunjungan/{pending.id}/perbaiki").status_code == 404


def test_map_page_lists_latest_visits_and_loads_points_for_the_area(login_as, world, pending):
    client = login_as("supervisor")
    html = client.get("/peta/?wilayah=6472").get_data(as_text=True)
    assert 'data-src="/peta/titik.json?wilayah=6472"' in html and "Siti Aminah" in html  # the table
    data = client.get("/peta/titik.json").get_json()
    assert [(v["name"], v["state"], v["when"]) for v in data["visits"]] == [("Siti Aminah", "menunggu", "2026-11-20")]
    assert data["visits"][0]["url"] == f"/penerima/{pending.recipient_id}"
    assert data["visits"][0]["mentor"] == world.users["mentor"].full_name
    assert all("Hasnah Daeng" != f["name"] for f in data["families"])  # another regency's family
    assert data["summary"].startswith("1 kunjungan dan") and not data["more_visits"]
    # Only the area asked for (west,south,east,north): the visit is at -0.5, 117.15.
    assert len(client.get("/peta/titik.json?bbox=117,-1,118,0").get_json()["visits"]) == 1
    assert client.get("/peta/titik.json?bbox=100,-1,101,0").get_json()["visits"] == []
    # Zoomed out past the world is clamped; nonsense means the whole scope, never an error.
    for bbox in ("-720,-95,720,95", "x,1,2,3", "1,2,3", "nan,0,1,1", "2,0,1,1", ""):
        response = client.get(f"/peta/titik.json?bbox={bbox}")
        assert response.status_code == 200 and len(response.get_json()["visits"]) == 1, bbox


def test_map_points_are_capped_and_say_so(login_as, world, pending, monkeypatch):
    from webapp.review import mapdata

    monkeypatch.setattr(mapdata, "LIMIT", 0)
    world.recipients["own"].business_lat, world.recipients["own"].business_lon = -0.5, 117.15
    data = login_as("admin").get("/peta/titik.json").get_json()
    assert data["visits"] == [] and data["more_visits"] and data["more_families"]
    assert "Perbesar peta" in data["summary"]


def test_mentor_activity_and_csv(login_as, world, pending):
    client = login_as("supervisor")
    decide(client, pending, "disetujui")
    html = client.get("/periksa/pendamping?bulan=2026-11").get_data(as_text=True)
    assert world.users["mentor"].full_name in html and world.users["mentor_other_region"].full_name not in html
    csv_response = client.get("/periksa/pendamping?bulan=2026-11&format=csv")
    assert csv_response.mimetype == "text/csv"
    assert csv_response.headers["Content-Disposition"] == "attachment; filename=kunjungan-disetujui-2026-11.csv"
    body = csv_response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # like the other CSV exports: a byte-order mark for Excel
    rows = body.removeprefix("\ufeff").splitlines()
    assert rows[0].startswith("pendamping,nama,wilayah,kunjungan_disetujui_2026_11")
    row = next(r for r in rows if r.startswith("pendamping-smd,"))
    assert row.split(",")[3] == "1"
    assert client.get("/periksa/pendamping?bulan=bukan-bulan").status_code == 200


def test_mentor_activity_csv_neutralises_formulas(login_as, world):
    world.users["mentor"].full_name = '=HYPERLINK("http://x")'
    client = login_as("supervisor")
    rows = client.get("/periksa/pendamping?format=csv").get_data(as_text=True).splitlines()
    row = next(r for r in rows if r.startswith("pendamping-smd,"))
    assert row.split(",")[1].startswith("\"'=HYPERLINK")


def test_nobody_approves_their_own_visit(world, pending):
    with pytest.raises(decisions.DecisionError, match="orang lain"):
        decisions.decide(pending, world.users["mentor"], "disetujui", None, 1)
    db.session.refresh(pending)
    assert pending.review_state == "menunggu"


def test_supervisors_do_not_record_visits(login_as, world):
    client = login_as("supervisor")
    assert client.get(f"/penerima/{world.recipients['own'].id}/kunjungan/baru").status_code == 403
    assert "Catat kunjungan" not in client.get(f"/penerima/{world.recipients['own'].id}").get_data(True)


def test_resubmission_must_change_something(client, world, pending):
    login(client, world.users["supervisor"].username)
    decide(client, pending, "perbaikan", note="Foto ulang")
    client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/periksa/")})
    login(client, world.users["mentor"].username)
    data = {
        "csrf_token": csrf_token(client, "/kunjungan/"),
        "round": "1",
        "operating": "ya",
        "item-0": "dipakai",
        "item-1": "dipakai",
        "turnover": "100.000",
        "turnover_period": "hari",
        "mentoring": "",
    }
    response = client.post(f"/kunjungan/{pending.id}/perbaiki", data=data)
    assert response.status_code == 422 and "Belum ada yang diperbaiki" in response.get_data(True)
    db.session.refresh(pending)
    assert pending.round == 1
