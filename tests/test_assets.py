"""Static files: content-hashed URLs, a year of caching for the current hash only, compressed."""

import re

from flask import url_for


def test_static_urls_carry_the_file_hash_and_are_cached_for_a_year(app, client):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    assert re.fullmatch(r"/static/css/app\.css\?v=[0-9a-f]{10}", url)
    response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] in ("br", "gzip")


def test_an_old_or_missing_hash_is_revalidated_not_cached(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0123456789"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"


def test_pages_link_hashed_assets(client):
    page = client.get("/akun/masuk").get_data(as_text=True)
    assert re.search(r'href="/static/css/app\.css\?v=[0-9a-f]{10}"', page)
    assert re.search(r'src="/static/vendor/htmx-2\.0\.11\.min\.js\?v=[0-9a-f]{10}"', page)


def test_service_worker_precaches_the_same_hashed_urls(client):
    body = client.get("/sw.js").get_data(as_text=True)
    assert re.search(r"/static/js/outbox-core\.js\?v=[0-9a-f]{10}", body)
