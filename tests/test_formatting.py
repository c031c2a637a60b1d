"""The one number formatter: Indonesian by default, English when chosen, the same through filters and domain text."""

import datetime as dt

import pytest
from flask_babel import force_locale

from webapp import formatting, integrity
from webapp.models import EvidenceFlag


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("id", ["1.250", "60,1", "60,0", "1.234,5", "Rp 1.250.000", "850 m", "60,1 km", "1.200 m"]),
        ("en", ["1,250", "60.1", "60.0", "1,234.5", "Rp 1,250,000", "850 m", "60.1 km", "1,200 m"]),
    ],
)
def test_numbers_follow_the_language(app, locale, expected):
    with app.test_request_context(), force_locale(locale):
        got = [
            formatting.number(1250),
            formatting.decimal(60.06),
            formatting.decimal(60),
            formatting.decimal(1234.5),
            formatting.rupiah(1250000),
            formatting.distance(850.4),
            formatting.distance(60080),
            formatting.number(1199.6) + " m",
        ]
    assert got == expected


def test_filters_are_the_formatter(app):
    filters = app.jinja_env.filters
    with app.test_request_context(), force_locale("id"):
        assert filters["angka"](1500) == "1.500"
        assert filters["desimal"](40.26) == "40,3"
        assert filters["desimal"](2.0) == "2,0"
        assert filters["jarak"](412.4) == "412 m"
        assert filters["rupiah"](None) == "—" and filters["desimal"](None) == "—"


def test_outside_a_request_numbers_are_indonesian():
    assert formatting.decimal(60.1) == "60,1" and formatting.number(1500) == "1.500"


@pytest.mark.parametrize(
    ("code", "evidence", "id_text", "en_text"),
    [
        ("jauh_dari_usaha", {"distance_m": 60120, "limit_m": 300.0}, "60,1 km", "60.1 km"),
        ("foto_lama", {"photo_index": 1, "days": 40.3, "taken_at": "2026-10-11 09:15"}, "40,3 hari", "40.3 days"),
        ("perjalanan_mustahil", {"km": 60.1, "minutes": 12, "speed_kmh": 1500}, "60,1 km", "60.1 km"),
        ("akurasi_rendah", {"accuracy_m": 1250.0, "limit_m": 100.0}, "± 1.250 m", "± 1,250 m"),
    ],
)
def test_flag_explanations_use_the_formatter(app, code, evidence, id_text, en_text):
    flag = EvidenceFlag(code=code, evidence=evidence)
    with app.test_request_context():
        with force_locale("id"):
            text = integrity.explain(flag)
            assert id_text in text and "60.1" not in text and "40.3" not in text, text
        with force_locale("en"):
            assert en_text in integrity.explain(flag)


def test_photo_time_reads_as_a_date(app):
    flag = EvidenceFlag(code="foto_lama", evidence={"photo_index": 1, "days": 4.0, "taken_at": "2026-11-16 09:15"})
    with app.test_request_context(), force_locale("id"):
        assert "(16 Nov 2026, 09.15)" in integrity.explain(flag)


def test_day_formats_dates_not_times():
    assert formatting.day(dt.date(2026, 11, 20)) == "20 Nov 2026" and formatting.day(None) == "—"


def test_counts_in_sentences_are_formatted(app):
    """ngettext's %(num)s goes through the formatter too: '1.680 penerima', not '1680 penerima'."""
    template = app.jinja_env.from_string("{{ ngettext('%(num)s penerima', '%(num)s penerima', n) }}")
    with app.test_request_context():
        with force_locale("id"):
            assert template.render(n=1680) == "1.680 penerima"
        with force_locale("en"):
            assert template.render(n=1680) == "1,680 recipients"
            assert template.render(n=1) == "1 recipient"
    escaped = app.jinja_env.from_string("{{ ngettext('%(num)s dari %(who)s', '%(num)s dari %(who)s', 2, who=w) }}")
    with app.test_request_context():
        assert "&lt;b&gt;" in escaped.render(w="<b>")
