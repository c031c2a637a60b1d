"""The visit vocabulary: which kinds are offered at each status, what they conclude and require."""

import pytest

from webapp import lifecycle, visit_kinds


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (lifecycle.CALON, ("verifikasi",)),
        (lifecycle.TERVERIFIKASI, ("penyaluran", "verifikasi")),
        (lifecycle.DISALURKAN, ("pendampingan",)),
        (lifecycle.USAHA_KESULITAN, ("pendampingan",)),
        (lifecycle.MANDIRI, ("pendampingan",)),
    ],
)
def test_kinds_offered_at_each_status_preselected_first(status, offered):
    assert visit_kinds.kinds_offered(status) == offered


def test_every_status_offers_some_kind():
    assert all(visit_kinds.kinds_offered(s) for s in lifecycle.STATUSES)


def test_verification_and_handover_conclude_with_a_status():
    assert visit_kinds.concluding("verifikasi", lifecycle.CALON) == (
        lifecycle.TERVERIFIKASI,
        (lifecycle.TERVERIFIKASI, lifecycle.TIDAK_MEMENUHI_SYARAT),
    )
    assert visit_kinds.concluding("penyaluran", lifecycle.TERVERIFIKASI)[1] == (lifecycle.DISALURKAN,)
    assert visit_kinds.concluding("pendampingan", lifecycle.USAHA_BERJALAN) is None
    assert visit_kinds.concluding("unknown", lifecycle.CALON) is None


def test_followup_requires_operating_and_turnover_unless_closed():
    assert set(visit_kinds.missing_answers("pendampingan", {})) == {"operating", "turnover"}  # all at once
    assert set(visit_kinds.missing_answers("pendampingan", {"operating": "ya", "turnover": None})) == {"turnover"}
    assert visit_kinds.missing_answers("pendampingan", {"operating": "tidak", "turnover": None}) == {}
    assert visit_kinds.missing_answers("pendampingan", {"operating": "sebagian", "turnover": 0}) == {}


def test_verification_requires_its_three_answers():
    assert set(visit_kinds.missing_answers("verifikasi", {"decile": "2"})) == {"embryo", "eligible"}
    assert visit_kinds.missing_answers("verifikasi", {"decile": "2", "embryo": "ya", "eligible": "layak"}) == {}


def test_handover_requires_received_items():
    assert set(visit_kinds.missing_answers("penyaluran", {"received": []})) == {"received"}
    assert visit_kinds.missing_answers("penyaluran", {"received": ["Kompor"]}) == {}


def test_answers_store_only_what_the_kind_asks():
    values = {
        "mentoring": "  Catatan ",
        "operating": "tidak",
        "turnover": 50_000,
        "items": {"Kompor": "dipakai"},
        "received": ["Kompor"],
        "decile": "3",
        "embryo": "ya",
        "eligible": "layak",
        "problems": ["modal"],
    }
    followup = visit_kinds.answers_for("pendampingan", values)
    assert followup["mentoring"] == "Catatan"
    assert followup["turnover"] == 0  # a closed business has no turnover, whatever was typed
    assert "received" not in followup and "decile" not in followup
    assert visit_kinds.answers_for("penyaluran", values) == {"mentoring": "Catatan", "received": ["Kompor"]}
    verification = visit_kinds.answers_for("verifikasi", values)
    assert verification["decile"] == 3 and "operating" not in verification


def test_labels_from_one_table(app):
    with app.test_request_context():
        assert visit_kinds.kind_label("penyaluran") == "Penyaluran"
        assert visit_kinds.kind_title("penyaluran") == "Penyaluran bantuan"
        assert visit_kinds.answer_label("tidak_layak") == "Tidak layak"
        assert visit_kinds.answer_label("gps_mati").startswith("GPS mati")
        assert visit_kinds.answer_label("no-such-code") == "no-such-code"
        assert visit_kinds.photo_tag_label("serah_terima") == "Serah terima"


def test_the_database_accepts_exactly_the_kinds_and_tags():
    from webapp.models import PHOTO_TAGS, VISIT_KINDS

    assert set(VISIT_KINDS) == set(visit_kinds.KINDS)
    assert set(PHOTO_TAGS) == set(visit_kinds.PHOTO_TAG_LABELS)
    assert all(k.required_tag in (None, *PHOTO_TAGS) for k in visit_kinds.KINDS.values())


def test_every_kind_has_its_template():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "templates" / "visits" / "kinds"
    assert {p.stem.lstrip("_") for p in folder.glob("_*.html")} == set(visit_kinds.KINDS)
