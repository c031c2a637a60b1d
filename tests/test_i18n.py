"""Indonesian first, English second: the browser's language decides unless the user chose one."""

from .conftest import csrf_token


def test_indonesian_by_default_and_for_unknown_languages(client):
    assert "Nama pengguna" in client.get("/akun/masuk").get_data(True)
    html = client.get("/akun/masuk", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(True)
    assert "Nama pengguna" in html and 'lang="id"' in html


def test_english_browser_gets_english(client):
    html = client.get("/akun/masuk", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(True)
    assert "Username" in html and 'lang="en"' in html and "Nama pengguna" not in html


def test_the_users_choice_wins_over_the_browser(login_as, world):
    client = login_as("mentor")
    page = client.get("/akun/", headers={"Accept-Language": "id"}).get_data(True)
    assert "Bahasa" in page
    token = csrf_token(client, "/akun/")
    assert client.post("/akun/", data={"csrf_token": token, "locale": "en"}).status_code == 303
    html = client.get("/kunjungan/", headers={"Accept-Language": "id"}).get_data(True)
    assert "My visits" in html
    token = csrf_token(client, "/akun/")
    assert client.post("/akun/", data={"csrf_token": token, "locale": "xx"}).status_code == 422
    client.post("/akun/", data={"csrf_token": token, "locale": ""})
    assert "Kunjungan saya" in client.get("/kunjungan/").get_data(True)


def test_money_and_dates_follow_the_language(app):
    from flask_babel import force_locale

    with app.test_request_context():
        rupiah = app.jinja_env.filters["rupiah"]
        with force_locale("id"):
            assert rupiah(1250000) == "Rp 1.250.000"
        with force_locale("en"):
            assert rupiah(1250000) == "Rp 1,250,000"


def test_help_page(login_as, world):
    html = login_as("mentor").get("/bantuan").get_data(True)
    assert "Foto yang lolos pemeriksaan" in html and "Foto duplikat" in html and "Kirim sekarang" in html


def test_texts_work_outside_requests(app):
    """Command-line tasks (seed-demo, backups) format texts with no request: Indonesian, no crash."""
    from flask_babel import lazy_gettext

    from webapp import create_app

    fresh = create_app({k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")})
    with fresh.app_context():
        assert str(lazy_gettext("Ya")) == "Ya"


def test_the_work_lists_count_on_the_phone_has_both_english_forms(login_as, world):
    """The phone re-counts the work list when it filters offline: it needs "1 family" and "{n} families"."""
    client = login_as("mentor")
    html = client.get("/kunjungan/", headers={"Accept-Language": "en"}).get_data(True)
    assert 'data-count-template="{n} families"' in html and 'data-count-one="1 family"' in html


def test_template_texts_follow_the_language_string_by_string(app):
    """Templates keep each language's catalogue (webapp/template_helpers.py); switching the language inside one
    request switches every kind of text, and the newstyle rules hold: variables escaped, `%%` a percent sign."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = (
        "{{ _('Kunjungan saya') }}|{{ pgettext('tab', 'Penerima') }}|"
        "{{ ngettext('%(num)s keluarga', '%(num)s keluarga', 1680) }}|{{ status_label('usaha_berjalan') }}|"
        "{{ _('Halaman %(page)s dari %(pages)s', page='<b>', pages=2) }}|{{ _('100%% terkirim') }}"
    )
    with app.test_request_context():
        for _round in range(2):
            with force_locale("id"):
                assert render_template_string(page) == (
                    "Kunjungan saya|Penerima|1.680 keluarga|Usaha berjalan|Halaman &lt;b&gt; dari 2|100% terkirim"
                )
            with force_locale("en"):
                assert render_template_string(page) == (
                    "My visits|Recipients|1,680 families|Business operating|Page &lt;b&gt; of 2|100% terkirim"
                )
