"""Recipient list and page: full page, htmx fragment, search and filters, and status changes by form."""

import datetime as dt

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEvent, StatusChange

from . import factories
from .conftest import csrf_token

HX = {"HX-Request": "true"}


def test_list_full_page_and_fragment(client, login_as, world):
    login_as("supervisor")
    page = client.get("/penerima/")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True) and 'id="recipient-list"' in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/penerima/?q=Siti", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="recipient-list"')
    assert "Siti Aminah" in html and "Budi Santoso" not in html
    assert "HX-Request" in fragment.headers["Vary"]


def test_boosted_and_history_restore_requests_get_full_pages(client, login_as, world):
    login_as("supervisor")
    for headers in ({**HX, "HX-Boosted": "true"}, {**HX, "HX-History-Restore-Request": "true"}):
        assert "<html" in client.get("/penerima/", headers=headers).get_data(as_text=True)


def test_search_by_nik_prefix_and_status_filter(client, login_as, world):
    login_as("supervisor")
    own = world.recipients["own"]
    html = client.get(f"/penerima/?q={own.nik[:12]}").get_data(as_text=True)
    assert own.name in html
    factories.recipient(
        world.users["mentor"].regions[0], world.users["mentor"], name="Rina Stop", status="usaha_berhenti"
    )
    html = client.get("/penerima/?status=usaha_berhenti").get_data(as_text=True)
    assert "Rina Stop" in html and own.name not in html


def test_hostile_query_strings_are_harmless(client, login_as, world):
    login_as("admin")
    for qs in (
        "q=%25",
        "q=_",
        "status=bogus",
        "wilayah=9999",
        "halaman=-3",
        "halaman=abc",
        "q=" + "x" * 5000,
        "q=%27%20OR%201%3D1--",
    ):
        response = client.get(f"/penerima/?{qs}")
        assert response.status_code == 200, qs
    html = client.get("/penerima/?q=%25").get_data(as_text=True)
    assert "Siti Aminah" not in html  # '%' is a literal, not a wildcard


def test_region_filter_for_admin(client, login_as, world):
    login_as("admin")
    html = client.get("/penerima/?wilayah=6471").get_data(as_text=True)
    assert "Hasnah Daeng" in html and "Siti Aminah" not in html


def test_pagination(app, client, login_as, world):
    for n in range(25):
        factories.recipient(world.users["mentor"].regions[0], world.users["mentor"], name=f"Zulfa {n:02d}")
    login_as("mentor")
    first = client.get("/penerima/").get_data(as_text=True)
    assert "Halaman 1 dari 2" in first and 'rel="next"' in first
    second = client.get("/penerima/?halaman=2").get_data(as_text=True)
    assert "Halaman 2 dari 2" in second and "Zulfa 24" in second


def test_detail_shows_identity_package_and_history(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    html = client.get(f"/penerima/{own.id}").get_data(as_text=True)
    for text in (own.name, own.nik, "Wajan", "Kompor gas", "Usaha berjalan", "Ubah status"):
        assert text in html


def test_address_without_a_street_starts_with_the_village(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    own.address = ""
    db.session.commit()
    html = client.get(f"/penerima/{own.id}").get_data(as_text=True)
    assert f"<dd>{own.desa}, {own.kecamatan}, " in html


def test_long_history_shows_the_newest_entries_then_all_on_request(client, login_as, world):
    own = world.recipients["own"]
    for n in range(23):
        factories.visit(
            own,
            visited_at=dt.datetime(2025, 1, 1) + dt.timedelta(days=20 * n),
            answers={"mentoring": f"Catatan ke-{n}"},
            uuid=f"00000000-0000-4000-8000-{n:012d}",
        )
    db.session.add(
        StatusChange(recipient=own, from_status="calon", to_status="terverifikasi", changed_at=dt.datetime(2024, 12, 1))
    )
    db.session.commit()
    login_as("mentor")
    html = client.get(f"/penerima/{own.id}").get_data(as_text=True)
    assert html.count("timeline__item--visit") == 20 and "timeline__item--status" not in html  # the oldest wait
    assert f"/penerima/{own.id}?riwayat=semua#timeline" in html and "Tampilkan seluruh riwayat" in html
    full = client.get(f"/penerima/{own.id}?riwayat=semua").get_data(as_text=True)
    assert full.count("timeline__item--visit") == 23 and full.count("timeline__item--status") == 1
    assert "Tampilkan seluruh riwayat" not in full
    # A status change made while the whole history shows keeps showing all of it.
    assert 'name="riwayat" value="semua"' in full
    swapped = _post_status(client, own, htmx=True, status="usaha_kesulitan", reason="Sepi pembeli", riwayat="semua")
    assert "Status tersimpan." in swapped.get_data(True)
    assert swapped.get_data(True).count("timeline__item--visit") == 23


def _post_status(client, recipient, htmx=False, **data):
    token = csrf_token(client, f"/penerima/{recipient.id}")
    payload = {"csrf_token": token, "version": recipient.version, **data}
    return client.post(f"/penerima/{recipient.id}/status", data=payload, headers=HX if htmx else {})


def _changes(recipient):
    return db.session.scalar(
        select(func.count()).select_from(StatusChange).where(StatusChange.recipient_id == recipient.id)
    )


def test_legal_status_change_is_saved_recorded_and_audited(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    response = _post_status(client, own, status="usaha_kesulitan", reason="Harga tepung naik")
    assert response.status_code == 302
    db.session.refresh(own)
    assert own.status == "usaha_kesulitan" and own.version == 2
    change = db.session.scalar(select(StatusChange).where(StatusChange.recipient_id == own.id))
    assert (change.from_status, change.to_status, change.reason) == (
        "usaha_berjalan",
        "usaha_kesulitan",
        "Harga tepung naik",
    )
    assert change.changed_by_id == world.users["mentor"].id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "status_change")).object_id == own.id


def test_status_change_by_htmx_returns_panel_and_timeline(client, login_as, world):
    login_as("supervisor")
    own = world.recipients["own"]
    response = _post_status(client, own, htmx=True, status="usaha_kesulitan", reason="Sepi pembeli")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="status-panel"' in html and 'hx-swap-oob="true"' in html and "<html" not in html
    assert "Status tersimpan." in html


def test_illegal_status_change_is_refused_and_nothing_saved(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    response = _post_status(client, own, status="terverifikasi", reason="coba")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid choice" not in html
    assert 'aria-invalid="true"' in html
    db.session.refresh(own)
    assert own.status == "usaha_berjalan" and _changes(own) == 0


def test_missing_reason_message_next_to_field_keeps_choice(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    response = _post_status(client, own, status="keluar", reason="  ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="reason-error"' in html and "Alasan wajib diisi" in html
    assert '<option selected value="keluar">' in html
    db.session.refresh(own)
    assert own.status == "usaha_berjalan" and _changes(own) == 0


def test_stale_form_is_refused_with_message(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    stale_version = own.version
    own.status = "usaha_kesulitan"  # someone else saved meanwhile
    db.session.commit()
    token = csrf_token(client, f"/penerima/{own.id}")
    response = client.post(
        f"/penerima/{own.id}/status", data={"csrf_token": token, "version": stale_version, "status": "mandiri"}
    )
    assert response.status_code == 422
    assert "baru saja diubah orang lain" in response.get_data(as_text=True)
    db.session.refresh(own)
    assert own.status == "usaha_kesulitan"


def test_status_change_rejects_garbage(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    token = csrf_token(client, f"/penerima/{own.id}")
    for data in (
        {"status": "mandiri"},
        {"status": "mandiri", "version": "abc"},
        {"status": "x" * 10000, "version": own.version},
    ):
        response = client.post(f"/penerima/{own.id}/status", data={"csrf_token": token, **data})
        assert response.status_code == 422, data
    db.session.refresh(own)
    assert own.status == "usaha_berjalan" and _changes(own) == 0


def test_reason_with_markup_is_rendered_inert(client, login_as, world):
    login_as("mentor")
    own = world.recipients["own"]
    _post_status(client, own, status="keluar", reason='<script>alert(1)</script>"><img src=x onerror=alert(1)>')
    html = client.get(f"/penerima/{own.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html


def test_forms_leave_checking_to_the_server_so_messages_are_indonesian_and_next_to_the_field(client, login_as, world):
    """With the browser's own check, an empty required field gets a bubble in the browser's language instead."""
    login_as("mentor")
    html = client.get(f"/penerima/{world.recipients['own'].id}").get_data(as_text=True)
    status_form = html[html.index("<form", html.index("status-form")) :]
    assert "novalidate" in status_form[: status_form.index(">")]
