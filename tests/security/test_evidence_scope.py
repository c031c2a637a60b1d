"""A duplicate-photo flag names the other family only to someone who may see that family (security issue, item 9).

The evidence is stored when the visit arrives; the explanation is rendered per viewer. A supervisor of another
regency, or a mentor who does not work with that family, reads "keluarga di wilayah lain" and the date, never the
family's name, NIK or a link to it.
"""

import io

import pytest
from PIL import Image

from webapp import integrity
from webapp.demo import demo_photo
from webapp.extensions import db

from ..test_integrity import record


def _reencoded(seed: int) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(demo_photo("uji", seed))).save(out, "JPEG", quality=60)
    return out.getvalue()


@pytest.fixture
def flagged(app, world):
    """A Balikpapan family's photo sent again, re-encoded, as a Samarinda family's visit evidence."""
    elsewhere, own = world.recipients["other_region"], world.recipients["own"]
    for recipient, (lat, lon) in ((elsewhere, (-1.2379, 116.8529)), (own, (-0.5022, 117.1536))):
        recipient.business_lat, recipient.business_lon = lat, lon
    db.session.commit()
    first = record(app, elsewhere, photo_seed=41)
    copy = record(app, own, photo_data=_reencoded(41))
    flag = next(f for f in copy.flags if f.code == "foto_duplikat")
    assert flag.evidence["other_visit_id"] == first.id
    return copy, flag, elsewhere


def test_the_stored_evidence_holds_no_name(flagged):
    _, flag, elsewhere = flagged
    assert elsewhere.name not in str(flag.evidence) and elsewhere.nik not in str(flag.evidence)


@pytest.mark.parametrize("who", ["supervisor", "mentor", "mentor_same_region"])
def test_viewers_outside_the_family_s_scope_see_no_name(flagged, world, who):
    _, flag, elsewhere = flagged
    text = integrity.explain(flag, world.users[who])
    assert elsewhere.name not in text and "keluarga di wilayah lain" in text
    assert "20 Nov 2026" in text  # the other visit's WITA day (12.00 WITA, 20 November)


@pytest.mark.parametrize("who", ["admin", "supervisor_other_region", "mentor_other_region"])
def test_viewers_who_may_see_the_family_see_its_name(flagged, world, who):
    _, flag, elsewhere = flagged
    assert elsewhere.name in integrity.explain(flag, world.users[who])


def test_without_a_viewer_no_name(flagged):
    _, flag, elsewhere = flagged
    assert elsewhere.name not in integrity.explain(flag)


def test_old_evidence_with_a_stored_name_is_not_shown(flagged, world):
    """Flags stored before this change carried the name itself: it is never read back."""
    _, flag, elsewhere = flagged
    old = {k: v for k, v in flag.evidence.items() if k != "other_recipient_id"} | {"other_recipient": elsewhere.name}
    flag.evidence = old
    assert elsewhere.name not in integrity.explain(flag, world.users["supervisor"])
    assert elsewhere.name in integrity.explain(flag, world.users["admin"])


def test_review_queue_of_another_regency_s_supervisor(flagged, login_as):
    copy, _, elsewhere = flagged
    html = login_as("supervisor").get("/periksa/").get_data(as_text=True)
    assert copy.recipient.name in html  # the card is there
    assert "keluarga di wilayah lain" in html and elsewhere.name not in html and elsewhere.nik not in html


def test_family_timeline_for_the_supervisor(flagged, login_as):
    copy, _, elsewhere = flagged
    html = login_as("supervisor").get(f"/penerima/{copy.recipient_id}").get_data(as_text=True)
    assert "keluarga di wilayah lain" in html and elsewhere.name not in html and elsewhere.nik not in html


def test_admin_queue_names_the_family(flagged, login_as):
    html = login_as("admin").get("/periksa/").get_data(as_text=True)
    assert flagged[2].name in html
