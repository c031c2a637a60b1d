"""Training sessions, other assistance (pillars 1 and 3), their dashboard counts and the printable report."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, true

from webapp import pillars
from webapp.extensions import db
from webapp.models import OtherAssistance, Recipient, TrainingSession

from . import factories
from .conftest import csrf_token, login


def test_supervisor_records_a_training_and_ticks_attendance(client, world):
    login(client, world.users["supervisor"].username)
    token = csrf_token(client, "/pelatihan/")
    response = client.post(
        "/pelatihan/",
        data={
            "csrf_token": token,
            "region": "6472",
            "held_on": "2026-11-02",
            "place": "Aula Kelurahan Air Hitam",
            "topic": "Pembukuan",
        },
    )
    assert response.status_code == 303
    session = db.session.scalar(select(TrainingSession))
    own, same = world.recipients["own"], world.recipients["same_region"]
    page = client.get(f"/pelatihan/{session.id}").get_data(as_text=True)
    assert own.name in page and same.name in page and world.recipients["other_region"].name not in page
    response = client.post(
        f"/pelatihan/{session.id}/hadir", data={"csrf_token": token, "shown": [own.id, same.id], "hadir": [own.id]}
    )
    assert response.status_code == 200 and "Daftar hadir tersimpan." in response.get_data(as_text=True)
    assert [r.id for r in db.session.get(TrainingSession, session.id).attendees] == [own.id]
    assert "2 Nov 2026 · Pembukuan" in client.get(f"/penerima/{own.id}").get_data(as_text=True)
    # unticking on a later save removes only the families shown
    client.post(f"/pelatihan/{session.id}/hadir", data={"csrf_token": token, "shown": [same.id], "hadir": [same.id]})
    assert {r.id for r in db.session.get(TrainingSession, session.id).attendees} == {own.id, same.id}
    client.post(f"/pelatihan/{session.id}/hadir", data={"csrf_token": token, "shown": [own.id, same.id]})
    assert db.session.get(TrainingSession, session.id).attendees == []


def test_attendance_refuses_families_from_another_regency(client, world):
    session = factories.training(world.recipients["own"].region)
    db.session.commit()
    login(client, world.users["supervisor"].username)
    token = csrf_token(client, "/pelatihan/")
    other = world.recipients["other_region"].id
    for data in ({"shown": [other], "hadir": [other]}, {"shown": ["x"]}, {"shown": [], "hadir": [other]}):
        response = client.post(f"/pelatihan/{session.id}/hadir", data={"csrf_token": token, **data})
        assert response.status_code == 422
        assert "Muat ulang halaman" in response.get_data(as_text=True)
    assert db.session.get(TrainingSession, session.id).attendees == []


def test_training_form_errors_keep_what_was_typed(client, world):
    login(client, world.users["supervisor"].username)
    token = csrf_token(client, "/pelatihan/")
    response = client.post(
        "/pelatihan/",
        data={"csrf_token": token, "region": "6472", "held_on": "kemarin", "place": "", "topic": "Harga jual <b>"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Isi tempat pelatihan." in page and "Tanggal tidak valid." in page
    assert 'value="Harga jual &lt;b&gt;"' in page
    response = client.post(
        "/pelatihan/",
        data={"csrf_token": token, "region": "6471", "held_on": "2026-11-02", "place": "Aula", "topic": "Pembukuan"},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0


def test_mentor_records_other_assistance_once_and_removes_it(client, world):
    own = world.recipients["own"]
    login(client, world.users["mentor"].username)
    token = csrf_token(client, f"/penerima/{own.id}")
    data = {
        "csrf_token": token,
        "kind": "rtlh",
        "office": "Dinas PUPR",
        "received_on": "2026-08-17",
        "note": "Atap dan lantai",
    }
    for _ in range(2):  # a double tap stores it once
        response = client.post(f"/penerima/{own.id}/bantuan-lain", data=data, headers={"HX-Request": "true"})
        assert response.status_code == 200
    assert "Sudah tercatat sebelumnya." in response.get_data(as_text=True)
    records = db.session.scalars(select(OtherAssistance)).all()
    assert [(r.kind, r.office, r.received_on) for r in records] == [("rtlh", "Dinas PUPR", dt.date(2026, 8, 17))]
    page = client.get(f"/penerima/{own.id}").get_data(as_text=True)
    assert "Rehabilitasi rumah (RTLH)" in page and "Dinas PUPR" in page
    response = client.post(f"/penerima/{own.id}/bantuan-lain/{records[0].id}/hapus", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OtherAssistance)) == 0


def test_bad_assistance_input_gets_messages_and_nothing_is_saved(client, world):
    own = world.recipients["own"]
    login(client, world.users["mentor"].username)
    token = csrf_token(client, f"/penerima/{own.id}")
    response = client.post(
        f"/penerima/{own.id}/bantuan-lain",
        data={"csrf_token": token, "kind": "uang_tunai", "office": "", "received_on": "1899-01-01"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pilihan tidak valid." in page and "Isi instansi pemberi bantuan." in page
    assert "Tanggal sebelum tahun 2000: periksa lagi." in page
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/penerima/{own.id}/bantuan-lain",
        data={"csrf_token": token, "kind": "blt", "office": "Dinas Sosial", "received_on": tomorrow},
    )
    assert "Tanggal diterima tidak boleh setelah hari ini." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OtherAssistance)) == 0


def test_assistance_of_another_family_cannot_be_removed_through_mine(client, world):
    other = factories.assistance(world.recipients["same_region"])
    db.session.commit()
    login(client, world.users["mentor"].username)
    own = world.recipients["own"]
    token = csrf_token(client, f"/penerima/{own.id}")
    response = client.post(f"/penerima/{own.id}/bantuan-lain/{other.id}/hapus", data={"csrf_token": token})
    assert response.status_code == 404
    assert db.session.get(OtherAssistance, other.id) is not None


def test_reach_counts_distributed_families_by_pillar(app):
    mentor = factories.user("mentor")
    a, b, c, d = (factories.recipient(mentor=mentor, distributed_on=dt.date(2026, 3, 1)) for _ in range(4))
    not_yet = factories.recipient(mentor=mentor, status="calon", distributed_on=None)
    factories.training(attendees=[a, b, not_yet])
    factories.assistance(a, "blt")
    factories.assistance(a, "pkh", received_on=dt.date(2026, 10, 1))
    factories.assistance(a, "air_bersih")
    factories.assistance(b, "sembako")
    factories.assistance(c, "sanitasi")
    factories.assistance(not_yet, "blt")
    db.session.commit()
    factories.recipient(mentor=mentor, status="keluar", distributed_on=dt.date(2026, 3, 1))  # left: not counted
    db.session.commit()
    reach = pillars.reach(true())
    assert (reach.families, reach.trained, reach.pillar_1, reach.pillar_3, reach.all_three) == (5, 3, 3, 2, 1)
    assert reach.pct(reach.trained) == 60
    assert d.id  # counted among the families, reached by nothing


def test_reach_by_regency_counts_every_regency_in_one_grouped_query(app):
    smd, bpn = factories.region("6472"), factories.region("6471")
    a, b = (factories.recipient(smd, distributed_on=dt.date(2026, 3, 1)) for _ in range(2))
    c = factories.recipient(bpn, distributed_on=dt.date(2026, 3, 1))
    factories.recipient(bpn, status="keluar", distributed_on=dt.date(2026, 3, 1))  # left: not counted
    factories.training(smd, attendees=[a])
    factories.assistance(a, "blt")
    factories.assistance(a, "rtlh")
    factories.assistance(c, "sanitasi")
    db.session.commit()
    by_regency = pillars.reach_by(true(), Recipient.region_id)
    assert by_regency == {(smd.id,): pillars.Reach(2, 1, 1, 1, 1), (bpn.id,): pillars.Reach(1, 0, 0, 1, 0)}
    assert pillars.reach(Recipient.region_id == smd.id) == by_regency[(smd.id,)]
    assert pillars.reach(true()) == pillars.Reach(3, 1, 1, 2, 1)
    assert b.id and pillars.reach(Recipient.region_id == -1) == pillars.NO_REACH


def test_dashboard_and_printable_report_show_the_pillars(client, world):
    own = world.recipients["own"]
    own.distributed_on = dt.date(2026, 3, 1)
    factories.training(own.region, attendees=[own])
    db.session.commit()
    login(client, world.users["admin"].username)
    page = client.get("/dasbor/").get_data(as_text=True)
    assert "Pelatihan dan tiga pilar" in page and "Laporan cetak (A4)" in page
    report = client.get("/dasbor/laporan?wilayah=6472")
    text = report.get_data(as_text=True)
    assert report.status_code == 200
    assert "Kota Samarinda" in text and "Cetak / simpan PDF" in text and "Pelatihan dan tiga pilar" in text
    assert "Simpan target" not in text and "Konfirmasi mandiri" not in text and 'class="tabs"' not in text


def test_attendance_of_a_session_still_to_come_waits_for_its_day(client, world):
    session = factories.training(world.recipients["own"].region, held_on=dt.date.today() + dt.timedelta(days=10))
    db.session.commit()
    login(client, world.users["supervisor"].username)
    assert "belum berlangsung" in client.get(f"/pelatihan/{session.id}").get_data(as_text=True)
    own = world.recipients["own"].id
    response = client.post(
        f"/pelatihan/{session.id}/hadir",
        data={"csrf_token": csrf_token(client, "/pelatihan/"), "shown": [own], "hadir": [own]},
    )
    assert response.status_code == 422
    assert "Daftar hadir bisa diisi mulai hari pelatihan" in response.get_data(as_text=True)
    assert db.session.get(TrainingSession, session.id).attendees == []


def test_attendance_filter_offers_each_kecamatan_once_whatever_its_spelling(client, world):
    own, same = world.recipients["own"], world.recipients["same_region"]
    own.kecamatan, same.kecamatan = "SAMARINDA ULU", "Samarinda  Ulu"
    session = factories.training(own.region)
    db.session.commit()
    login(client, world.users["supervisor"].username)
    page = client.get(f"/pelatihan/{session.id}").get_data(as_text=True)
    assert page.count(">Samarinda  Ulu</option>") == 1 and "SAMARINDA ULU</option>" not in page
    for asked in ("SAMARINDA ULU", "samarinda ulu", "Samarinda  Ulu"):
        page = client.get(f"/pelatihan/{session.id}", query_string={"kec": asked}).get_data(as_text=True)
        assert own.name in page and same.name in page
        assert "selected>Samarinda  Ulu</option>" in page
    page = client.get(f"/pelatihan/{session.id}", query_string={"kec": "Tidak Ada"}).get_data(as_text=True)
    assert own.name in page and "selected>" not in page.split('id="kec"')[1].split("</select>")[0]
