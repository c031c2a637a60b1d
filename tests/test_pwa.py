"""Manifest, service worker and offline page as served (the browser tests prove they work in Chromium)."""

import re


def test_manifest_is_complete(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    m = response.json
    assert m["short_name"] == "Kail" and m["display"] == "standalone" and m["lang"] == "id"
    assert m["start_url"].startswith("/") and m["scope"] == "/" and m["id"]
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in m["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_every_page_links_the_manifest(client):
    assert 'rel="manifest" href="/manifest.webmanifest"' in client.get("/akun/masuk").get_data(True)


def test_service_worker_is_served_at_the_root_and_revalidated(client):
    response = client.get("/sw.js")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/javascript" and response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    version = re.search(r'var VERSION = "([0-9a-f]{12})"', body).group(1)
    assert f"kail-shell-{version}" in body.replace('"kail-shell-" + VERSION', f"kail-shell-{version}")
    for url in re.findall(r'"(/static/[^"]+)"', body):
        assert client.get(url).status_code == 200, url  # everything precached exists
    assert "/offline" in body


def test_offline_page(client):
    response = client.get("/offline")
    assert response.status_code == 200 and "Tidak ada koneksi" in response.get_data(True)


def test_pages_are_compressed(client):
    response = client.get("/akun/masuk", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers.get("Content-Encoding") in ("br", "gzip")
    assert "Accept-Encoding" in response.headers.get("Vary", "")
