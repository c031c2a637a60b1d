"""English mode leaves no Indonesian in system text: every code -> label table reads in English."""

import pytest
from flask_babel import force_locale

from webapp import integrity, lifecycle, pillars, review_states, visit_kinds
from webapp.models import EvidenceFlag

# Names that are the same in both languages (programme names, abbreviations).
SAME_IN_BOTH = {"PKH (Program Keluarga Harapan)"}

TABLES = {
    "answers (item conditions, problems, no-location reasons, ...)": visit_kinds.ANSWER_LABELS,
    "photo tags": visit_kinds.PHOTO_TAG_LABELS,
    "visit kinds": {code: kind.title for code, kind in visit_kinds.KINDS.items()},
    "family statuses": lifecycle.STATUS_LABELS,
    "proposal states": lifecycle.PROPOSAL_STATE_LABELS,
    "review states": review_states.STATE_LABELS,
    "review decisions": review_states.DECISION_LABELS,
    "other assistance": pillars.ASSISTANCE_LABELS,
    "evidence flags": integrity.FLAG_LABELS,
}


@pytest.mark.parametrize("table", TABLES, ids=list(TABLES))
def test_every_label_has_english(app, table):
    untranslated = []
    with app.test_request_context():
        for code, label in TABLES[table].items():
            with force_locale("id"):
                indonesian = str(label)
            with force_locale("en"):
                english = str(label)
            if english == indonesian and indonesian not in SAME_IN_BOTH:
                untranslated.append(f"{code}: {indonesian}")
    assert not untranslated, untranslated


def test_the_no_location_reason_reads_in_the_readers_language(app):
    """The flag stored the Indonesian label when the visit arrived; an English reader sees English."""
    code, _ = visit_kinds.NO_LOCATION_REASONS[0]
    flag = EvidenceFlag(code="tanpa_lokasi", evidence={"reason": code, "reason_label": "label lama"})
    with app.test_request_context():
        with force_locale("en"):
            english = integrity.explain(flag)
            assert str(visit_kinds.ANSWER_LABELS[code]) in english and "label lama" not in english
            assert "Alasan" not in english
        with force_locale("id"):
            assert "Alasan pendamping" in integrity.explain(flag)
