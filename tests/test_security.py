"""Cross-cutting defences: CSRF on every state-changing route, security headers, stored XSS, hostile uploads."""

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Photo, Visit

from . import factories
from .conftest import csrf_token

ARGS = {
    "recipient_id": 1,
    "visit_id": 1,
    "photo_id": 1,
    "assistance_id": 1,
    "session_id": 1,
    "proposal_id": 1,
    "visit_uuid": "7d4c2f9e-1b3a-4c5d-8e6f-0a1b2c3d4e5f",
    "photo_uuid": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "token": "t" * 30,
    "user_id": 1,
}


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint != "static":
            yield rule


def test_every_post_route_refuses_a_request_without_csrf_token(app, login_as, world):
    client = login_as("admin")
    rules = list(_post_rules(app))
    assert len(rules) >= 6  # login, logout, status, visit, resubmit, decide
    for rule in rules:
        url = rule.build(ARGS, append_unknown=False)[1] if rule.arguments else rule.rule
        for headers in ({}, {"HX-Request": "true"}):
            response = client.post(url, data={"decision": "disetujui"}, headers=headers)
            assert response.status_code == 400, (rule.rule, response.status_code)
    assert client.get("/penerima/").status_code == 200  # still logged in: the logout was refused too


def test_wrong_csrf_token_is_refused(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    response = client.post(
        f"/penerima/{own.id}/status",
        data={"csrf_token": "forged", "status": "keluar", "reason": "x", "version": own.version},
    )
    assert response.status_code == 400
    db.session.refresh(own)
    assert own.status == "usaha_berjalan"


def test_security_headers_on_pages(login_as, world):
    client = login_as("supervisor")
    for url in ("/akun/masuk", "/periksa/", "/penerima/", "/peta/", "/periksa/pendamping"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Permissions-Policy"].startswith("geolocation=(self), camera=(self)")
    assert "no-store" in client.get("/penerima/").headers["Cache-Control"]  # family data stays off caches


def test_no_inline_script_or_style_in_templates():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text), template
        assert " style=" not in text and "<style" not in text, template
        tags = " ".join(re.findall(r"<[a-z][^>]*>", text))
        assert not re.search(r"\son[a-z]+\s*=", tags), template  # no onclick= and friends


PAYLOADS = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "'; DROP TABLE visits; --",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_free_text_is_rendered_inert_everywhere(app, login_as, world, payload):
    """A mentor's notes, a reason, a supervisor's note and a family's own data shown on every page."""
    from webapp import decisions, lifecycle

    own = world.recipients["own"]
    own.business_description = payload
    own.address = payload
    visit = factories.visit(
        own,
        answers={
            "mentoring": payload,
            "problem_notes": payload,
            "operating": "ya",
            "problems": [payload],
            "items": {payload: payload},
        },
    )
    lifecycle.advance_status(own, "usaha_kesulitan", world.users["mentor"], payload)
    db.session.commit()
    decisions.decide(visit, world.users["supervisor"], "perbaikan", payload, 1)
    for who, url in (
        ("supervisor", f"/penerima/{own.id}"),
        ("mentor", "/kunjungan/"),
        ("mentor", f"/kunjungan/{visit.id}/perbaiki"),
    ):
        client = login_as(who)
        html = client.get(url).get_data(as_text=True)
        assert '<script>alert("x")</script>' not in html and "<img src=x" not in html, url
        assert "49" not in re.findall(r">\s*49\s*<", html)
        client.post("/akun/keluar", data={"csrf_token": csrf_token(client, "/penerima/")})


def _jpeg_bytes(size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def _hostile_corpus():
    """Files an attacker (or a broken phone) may send as a 'photo'."""
    jpeg = _jpeg_bytes()
    png_bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(png_bomb, "PNG")  # 144 MP: a few KB on disk, 144 MB decoded
    gif, tiff = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (40, 40)).save(gif, "GIF")
    Image.new("RGB", (40, 40)).save(tiff, "TIFF")
    exif_image = Image.new("RGB", (64, 64))
    exif = Image.Exif()
    exif[0x010E] = "A" * 60000  # an oversized description
    exif[0x0132] = "\x00\xff garbage"
    exif_file = io.BytesIO()
    exif_image.save(exif_file, "JPEG", exif=exif)
    return {
        "jpeg-with-php.jpg": (jpeg + b"<?php system($_GET['c']); ?><script>alert(1)</script>", True),
        "svg-with-script.jpg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', False),
        "page.html.jpg": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", False),
        "bomb.png": (png_bomb.getvalue(), False),
        "empty.jpg": (b"", False),
        "truncated.jpg": (jpeg[: len(jpeg) // 3], False),
        "odd-exif.jpg": (exif_file.getvalue(), True),
        "animation.gif": (gif.getvalue(), False),
        "scan.tiff": (tiff.getvalue(), False),
        "../../etc/passwd.jpg": (jpeg, True),
        "\u202egpj.exe\u0000.jpg": (jpeg, True),
    }


@pytest.mark.parametrize("name", list(_hostile_corpus()))
def test_hostile_uploads_are_refused_or_neutralised(app, login_as, world, name):
    from .test_visits import _files, good_data, post

    data, acceptable = _hostile_corpus()[name]
    client = login_as("mentor")
    own = world.recipients["own"]
    response = post(client, own, good_data(client, own, **{"photo-1": (io.BytesIO(data), name), "photo-2": None}))
    if acceptable:  # a real picture: stored re-encoded, under its hash, with nothing of the original's extras
        assert response.status_code == 303
        photo = db.session.scalar(select(Photo))
        stored = [p for p in _files(app) if p.name == photo.stored_name][0]
        content = stored.read_bytes()
        assert b"<?php" not in content and b"<script" not in content and b"AAAAAAAAAA" not in content
        assert re.fullmatch(r"[0-9a-f]{64}\.jpg", stored.name) and ".." not in str(stored)
    else:
        assert response.status_code in (413, 422), response.status_code
        assert db.session.scalar(select(func.count()).select_from(Visit)) == 0 and _files(app) == []
    assert client.get("/healthz").status_code == 200  # and the server keeps answering


def test_a_30_mb_file_is_refused_with_a_message(app, login_as, world):
    from .test_visits import _files, good_data, post

    client = login_as("mentor")
    own = world.recipients["own"]
    big = _jpeg_bytes() + b"\0" * (30 * 1024 * 1024)
    response = post(client, own, good_data(client, own, **{"photo-1": (io.BytesIO(big), "big.jpg"), "photo-2": None}))
    assert response.status_code == 422 and "lebih dari 20 MB" in response.get_data(True)
    assert _files(app) == [] and db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_healthz_checks_database_and_photo_store(app, client, tmp_path):
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json == {"status": "ok", "database": "ok", "uploads": "ok"}
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app.config["UPLOAD_DIR"], saved = str(blocker / "uploads"), app.config["UPLOAD_DIR"]
    try:
        broken = client.get("/healthz")
    finally:
        app.config["UPLOAD_DIR"] = saved
    assert broken.status_code == 503 and broken.json["uploads"] == "error"


def test_every_response_carries_a_request_id_that_the_logs_share(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="kail.access"):
        response = client.get("/akun/masuk", headers={"X-Request-ID": "phone-abc123"})
        assert response.headers["X-Request-ID"] == "phone-abc123"
        generated = client.get("/akun/masuk", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["X-Request-ID"])
    records = [r for r in caplog.records if r.name == "kail.access"]
    assert any(r.path == "/akun/masuk" and r.status == 200 for r in records)
    import json

    from webapp.logs import JsonFormatter

    line = json.loads(JsonFormatter().format(records[0]))
    assert line["path"] == "/akun/masuk" and line["status"] == 200 and "ms" in line


def test_admins_read_and_filter_the_audit_log(login_as, world):
    from webapp import lifecycle

    own = world.recipients["own"]
    lifecycle.advance_status(own, "usaha_kesulitan", world.users["mentor"], "Sepi")
    from webapp import audit

    audit.record("status_change", own, user=world.users["mentor"], old="usaha_berjalan", new="usaha_kesulitan")
    db.session.commit()
    client = login_as("admin")
    html = client.get("/pengelola/audit").get_data(as_text=True)
    assert "status_change" in html and "pendamping-smd" in html and "login" in html
    only = client.get("/pengelola/audit?aksi=status_change", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in only and "status_change" in only and ">login<" not in only
    assert client.get("/pengelola/audit?aksi=bogus&pengguna=abc&dari=x").status_code == 200


def test_nul_bytes_get_a_clear_400_before_any_query(client, login_as, world):
    """PostgreSQL refuses NUL in text; found by Hypothesis on the login form. Everywhere: 400 with a message."""
    response = client.post("/akun/masuk", data={"username": "\x00", "password": "x", "csrf_token": csrf_token(client)})
    assert response.status_code == 400 and "karakter yang tidak diizinkan" in response.get_data(as_text=True)
    login_as("supervisor")
    assert client.get("/penerima/?q=Siti%00").status_code == 400
    assert client.get("/periksa/?dari=%00").status_code == 400
    assert client.get("/penerima/?q=Siti").status_code == 200
