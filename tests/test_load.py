"""Reliability under load: many phones sending visits with photos at once, each visit sent twice (and some
twice at the same moment, as a retry racing its original) — against a real threaded server, on whichever
database the suite runs on. Nothing lost, nothing stored twice, no 500s."""

import http.cookiejar
import io
import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

from PIL import Image
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from webapp.extensions import db
from webapp.models import Photo, Visit

from . import factories

MENTORS = 6
VISITS_EACH = 4


def _photo(seed: int) -> bytes:
    image = Image.new("RGB", (640, 480), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.paste((255 - seed % 256, 20, 20), (seed % 300, seed % 200, seed % 300 + 200, seed % 200 + 150))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class Phone:
    """One mentor's phone: its own cookies, a login, and the outbox's way of sending."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{base}/akun/masuk").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": factories.PASSWORD, "csrf_token": token}
        ).encode()
        self.opener.open(f"{base}/akun/masuk", data=body)

    def send(self, recipient_id: int, visit_uuid: str, photo_uuid: str, seed: int) -> int:
        token = json.loads(self.opener.open(f"{self.base}/csrf-token").read())["token"]
        fields = {
            "uuid": visit_uuid,
            "kind": "pendampingan",
            "lat": "-0.5",
            "lon": "117.15",
            "accuracy": "10",
            "operating": "ya",
            "item-0": "dipakai",
            "turnover": "100.000",
            "turnover_period": "hari",
            "tag-1": "usaha_berjalan",
            "photo-1-uuid": photo_uuid,
            "photo-1": (io.BytesIO(_photo(seed)), "p.jpg"),
        }
        from werkzeug.datastructures import FileStorage, MultiDict

        data = MultiDict(
            {
                k: (FileStorage(v[0], filename=v[1], content_type="image/jpeg") if isinstance(v, tuple) else v)
                for k, v in fields.items()
            }
        )
        boundary, body = encode_multipart(data)
        request = urllib.request.Request(
            f"{self.base}/penerima/{recipient_id}/kunjungan/baru",
            data=body,
            method="POST",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Kail-Outbox": "1",
                "X-CSRFToken": token,
            },
        )
        try:
            return self.opener.open(request).status
        except urllib.error.HTTPError as error:
            return error.code


def test_concurrent_phones_with_retries_lose_nothing_and_store_nothing_twice(app):
    region = factories.region("6472")
    plan = []  # (username, recipient id, visit uuid, photo uuid, seed)
    for m in range(MENTORS):
        mentor = factories.user("mentor", regions=[region], username=f"beban{m}")
        for v in range(VISITS_EACH):
            family = factories.recipient(region, mentor, package_items=["Wajan"])
            plan.append((mentor.username, family.id, str(uuid.uuid4()), str(uuid.uuid4()), m * 100 + v))
    db.session.commit()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        phones = {}
        for username in {p[0] for p in plan}:
            phones[username] = Phone(base, username)
        # every visit twice at the same moment (a retry racing the original), then once more later
        jobs = [job for job in plan for _ in range(2)]
        with ThreadPoolExecutor(max_workers=12) as pool:
            first = list(pool.map(lambda j: phones[j[0]].send(*j[1:]), jobs))
            later = list(pool.map(lambda j: phones[j[0]].send(*j[1:]), plan))
    finally:
        server.shutdown()

    statuses = first + later
    assert 500 not in statuses and set(statuses) <= {200, 201}, statuses
    assert first.count(201) == len(plan)  # each visit created exactly once ...
    assert later == [200] * len(plan)  # ... and every other send answered "already stored"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Visit)) == len(plan)
    assert db.session.scalar(select(func.count()).select_from(Photo)) == len(plan)
    stored = set(db.session.scalars(select(Visit.uuid)))
    assert stored == {p[2] for p in plan}
