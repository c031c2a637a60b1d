"""Host header and download names (issue 16, item 11): links in files that leave the app come from PUBLIC_URL,
never from the request's Host header; other Host headers are refused (TRUSTED_HOSTS); download file names are
encoded per RFC 6266 (an ASCII fallback plus filename* in UTF-8), whatever the name holds."""

from __future__ import annotations

import csv
import io
import json

import pytest

from webapp import config, exporting
from webapp.extensions import db

from .. import factories
from ..conftest import csrf_token, login


def test_unknown_host_header_is_refused(client, app):
    assert client.get("/akun/masuk").status_code == 200
    assert client.get("/akun/masuk", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    refused = client.get("/akun/masuk", headers={"Host": "evil.example"})
    assert refused.status_code == 400 and b"evil" not in refused.data
    behind_proxy = client.get("/akun/masuk", headers={"Host": "localhost", "X-Forwarded-Host": "evil.example"})
    assert behind_proxy.status_code == 200  # forwarded headers count only with TRUST_PROXY_HOPS


def test_trusted_hosts_default_to_the_public_url_and_localhost(tmp_path, monkeypatch):
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    monkeypatch.setenv("PUBLIC_URL", "https://kail.dinsos.example.go.id/")
    cfg = config.build_config(tmp_path, {"SECRET_KEY": "x"})
    assert cfg["PUBLIC_URL"] == "https://kail.dinsos.example.go.id"
    assert cfg["TRUSTED_HOSTS"] == ["kail.dinsos.example.go.id", "localhost", "127.0.0.1"]
    monkeypatch.setenv("TRUSTED_HOSTS", "kail.example.go.id, .dinsos.example.go.id")
    assert config.build_config(tmp_path, {"SECRET_KEY": "x"})["TRUSTED_HOSTS"] == [
        "kail.example.go.id",
        ".dinsos.example.go.id",
    ]
    monkeypatch.setenv("TRUSTED_HOSTS", "*")
    assert config.build_config(tmp_path, {"SECRET_KEY": "x"})["TRUSTED_HOSTS"] is None
    monkeypatch.setenv("PUBLIC_URL", "kail.example.go.id")
    with pytest.raises(ValueError, match="PUBLIC_URL"):
        config.build_config(tmp_path, {"SECRET_KEY": "x"})


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_export_photo_links_use_public_url_not_the_host_header(client, world, fmt):
    visit = factories.visit(world.recipients["own"], lat=-0.5, lon=117.15)
    photo = factories.photo(visit, "ab/abc.jpg", "ab/abc-t.jpg")
    db.session.commit()
    app = client.application
    app.config["PUBLIC_URL"] = "https://kail.example.go.id"
    try:
        login(client, world.users["admin"].username)
        response = client.get(f"/kelola-data/ekspor/kunjungan.{fmt}")  # asked of http://localhost/
    finally:
        app.config["PUBLIC_URL"] = "http://localhost:5000"
    text = response.get_data(as_text=True)
    assert "localhost" not in text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0]["Tautan Foto"] == f"https://kail.example.go.id/foto/{photo.id}"
    else:
        feature = json.loads(text)["features"][0]
        assert feature["properties"]["foto"] == [f"https://kail.example.go.id/foto/{photo.id}"]


def test_download_headers_encode_non_ascii_names_per_rfc_6266():
    headers = exporting.download_headers("kail-penerima-Kutai Kartanegara–Tenggarong Seberang é.csv")
    value = headers["Content-Disposition"]
    value.encode("latin-1")  # a header value a server can send
    assert value.startswith("attachment; filename=")
    assert "filename*=UTF-8''kail-penerima-Kutai%20Kartanegara%E2%80%93Tenggarong%20Seberang%20%C3%A9.csv" in value
    assert '"kail-penerima-Kutai KartanegaraTenggarong Seberang e.csv"' in value  # the ASCII fallback
    injected = exporting.download_headers('a"\r\nSet-Cookie: x=1.csv')["Content-Disposition"]
    assert "\r" not in injected and "\n" not in injected


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_error_file_named_after_a_non_ascii_upload(client, app, fmt):
    admin = factories.user("admin", regions=[])
    db.session.commit()
    login(client, admin.username)
    token = csrf_token(client, "/kelola-data/impor")
    text = factories.csv_text([factories.import_row(1, Desil="9")])
    response = client.post(
        "/kelola-data/impor",
        data={
            "csrf_token": token,
            "budget_year": "2026",
            "file": (io.BytesIO(text.encode()), "Penerima Kutai Kartanegara – Loa Janan ü.csv"),
        },
    )
    assert response.status_code == 303
    errors = client.get(response.headers["Location"] + f"/kesalahan.{fmt}")
    assert errors.status_code == 200
    value = errors.headers["Content-Disposition"]
    value.encode("latin-1")
    assert (
        "filename*=UTF-8''Penerima%20Kutai%20Kartanegara%20%E2%80%93%20Loa%20Janan%20%C3%BC-kesalahan." + fmt
    ) in value
    assert errors.headers["Cache-Control"] == "no-store"


def test_exports_and_activity_csv_use_encoded_names(client, world):
    login(client, world.users["admin"].username)
    response = client.get("/kelola-data/ekspor/penerima.csv")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=kail-penerima-semua-")
    activity = client.get("/periksa/pendamping?format=csv")
    assert activity.headers["Content-Disposition"].startswith("attachment; filename=")
    assert '"' not in activity.headers["Content-Disposition"]
