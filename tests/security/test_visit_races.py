"""A visit that loses a unique-constraint race is explained, never a 500: photo codes reused from a stored form,
and a status proposal filed for the family meanwhile."""

import uuid

from sqlalchemy import func, select

from webapp import lifecycle
from webapp.extensions import db
from webapp.models import Photo, StatusProposal, Visit

from ..test_visits import form_url, good_data, post


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_photo_codes_from_a_stored_form_get_a_409_for_the_outbox(login_as, world):
    client = login_as("mentor")
    family = world.recipients["own"]
    photo_code = str(uuid.uuid4())
    first = good_data(client, family, **{"photo-1-uuid": photo_code})
    assert post(client, family, first).status_code == 303
    second = good_data(client, family, **{"photo-1-uuid": photo_code})  # a new visit, the same stored photo code
    token = second.pop("csrf_token")
    response = client.post(
        form_url(family),
        data=second,
        content_type="multipart/form-data",
        headers={"X-Kail-Outbox": "1", "X-CSRFToken": token},
    )
    assert response.status_code == 409
    assert response.json["status"] == "photo_conflict" and response.json["taken"] == [photo_code]
    assert _count(Visit) == 1 and _count(Photo) == 2


def test_photo_codes_from_a_stored_form_give_the_page_new_codes(login_as, world):
    client = login_as("mentor")
    family = world.recipients["own"]
    photo_code = str(uuid.uuid4())
    assert post(client, family, good_data(client, family, **{"photo-1-uuid": photo_code})).status_code == 303
    response = post(client, family, good_data(client, family, **{"photo-1-uuid": photo_code}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "sudah tersimpan bersama kunjungan lain" in html
    assert photo_code not in html
    assert "photo-1-uuid" not in html  # the phone mints photo codes when saving, never from the page
    assert _count(Visit) == 1


def test_a_proposal_filed_meanwhile_is_a_message_on_the_status(login_as, world, monkeypatch):
    """Two visits proposing for one family at the same instant: the loser hits the one-waiting index."""
    client = login_as("mentor")
    family = world.recipients["own"]  # usaha_berjalan: a mentor may propose mandiri
    other = StatusProposal(
        recipient=family,
        from_status=family.status,
        to_status=lifecycle.KELUAR,
        reason="Pindah ke luar provinsi",
        proposed_by=world.users["mentor"],
    )
    db.session.add(other)
    db.session.commit()
    real = lifecycle.waiting_proposal
    calls = {"n": 0}

    def blind_first(recipient):  # the visit's own check runs before the other proposal was committed
        calls["n"] += 1
        return None if calls["n"] == 1 else real(recipient)

    monkeypatch.setattr(lifecycle, "waiting_proposal", blind_first)
    data = good_data(client, family, status=lifecycle.MANDIRI, reason="Omzet stabil setahun")
    response = post(client, family, data)
    assert response.status_code == 422
    assert "menunggu persetujuan koordinator" in response.get_data(as_text=True)
    assert _count(Visit) == 0 and _count(StatusProposal) == 1
