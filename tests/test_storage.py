"""The S3 photo store against a real S3 server (SeaweedFS, started once per session by `s3_server`): atomic,
never-replacing writes, pruning with its grace period and put-back, a store that stops answering mid-visit, a
wrong bucket or key at start, `storage migrate` and `storage check`."""

import hashlib
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config
from sqlalchemy import func, select

from webapp import create_app, photos, storage
from webapp.demo import demo_photo
from webapp.extensions import db
from webapp.models import Photo, Visit

from .test_visits import form_url, good_data


@pytest.fixture
def s3_store(s3_url):
    return storage.S3Storage(s3_url)


def _fast_client(endpoint: str):
    """A client that gives up within about a second (the app's waits 3 s to connect, 10 s to read)."""
    import boto3

    config = Config(
        connect_timeout=1,
        read_timeout=1,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)


def test_save_is_atomic_never_replaces_and_marks_a_stored_name_as_in_use(s3_store):
    photo = photos.process(demo_photo("sama", seed=9))
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda _: photos.save(s3_store, photo), range(16)))
    assert sorted(c.name for paths in created for c in paths) == sorted((photo.stored_name, photo.thumb_name))
    assert s3_store.read(photo.stored_name) == photo.display
    assert s3_store.read(photo.thumb_name) == photo.thumb
    before = dict(s3_store.listing())
    time.sleep(1.1)  # S3 times are whole seconds
    assert photos.save(s3_store, photo) == []
    after = dict(s3_store.listing())
    assert after[photo.stored_name] > before[photo.stored_name]  # touched: prune leaves it alone
    assert sorted(after) == sorted((photo.stored_name, photo.thumb_name))  # nothing else written


def test_prune_deletes_only_old_unreferenced_objects_and_keeps_the_rest(s3_store):
    kept, orphan = (photos.process(demo_photo("p", seed=s)) for s in (1, 3))
    for p in (kept, orphan):
        photos.save(s3_store, p)
    names = {kept.stored_name, kept.thumb_name}
    assert photos.orphans(s3_store, names) == []  # within the grace period
    deleted = photos.prune(s3_store, lambda name: name in names, now=time.time() + 25 * 3600, referenced=names)
    assert {p.name for p in deleted} == {orphan.stored_name, orphan.thumb_name}
    assert {name for name, _ in s3_store.listing()} == names


def test_prune_puts_back_what_is_committed_meanwhile_and_a_read_restores_from_the_trash(s3_store):
    photo = photos.process(demo_photo("p", seed=4))
    photos.save(s3_store, photo)
    time.sleep(2)
    limit = time.time() - 1  # the objects are older than this; what prune writes now is not

    assert s3_store.prune([photo.stored_name], lambda name: True, limit) == []  # referenced: untouched
    calls = []

    def committed_after_the_delete(name):  # a visit with the same picture commits while prune deletes
        calls.append(name)
        return len(calls) > 1

    assert s3_store.prune([photo.stored_name], committed_after_the_delete, limit) == []
    assert s3_store.read(photo.stored_name) == photo.display  # put back from the trash

    s3_store.prune([photo.thumb_name], lambda name: False, limit)  # deleted, but kept in the trash a while
    assert not s3_store.exists(photo.thumb_name)
    assert s3_store.read(photo.thumb_name) == photo.thumb  # a row committed meanwhile reads it: restored
    assert s3_store.exists(photo.thumb_name)


def _outbox_post(client, family, **overrides):
    data = good_data(client, family, **overrides)
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": data.pop("csrf_token")}
    return data, client.post(form_url(family), data=data, headers=headers, content_type="multipart/form-data")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fault", ["stopped", "refused"])
def test_a_store_that_stops_answering_mid_visit_stores_nothing_and_the_retry_succeeds(
    app, s3_server, s3_url, world, login_as, monkeypatch, fault
):
    """The first photo is written, then the S3 server stops (SIGSTOP: it accepts connections and never answers)
    or refuses connections: the phone gets 503 "coba lagi", no visit or photo row exists, and nothing counts as
    stored; the outbox's retry of the same visit is stored once the server is back."""
    client = login_as("mentor")
    family = world.recipients["own"]
    endpoint = s3_server["endpoint"] if fault == "stopped" else "http://127.0.0.1:9"  # discard: nothing listens
    app.config["PHOTO_STORAGE"] = s3_url
    fast = storage.S3Storage(s3_url, client=_fast_client(s3_server["endpoint"]))
    app.extensions["kail_storage"] = {(s3_url, app.config["UPLOAD_DIR"]): fast}
    real_save, saved = storage.S3Storage.save, []

    def save_then_fail(self, name, content):
        result = real_save(self, name, content)
        saved.append(name)
        if len(saved) == 2:  # the first photo's display copy and thumbnail are stored: now the store goes away
            if fault == "stopped":
                os.killpg(s3_server["process"].pid, signal.SIGSTOP)
            else:
                self.client = _fast_client(endpoint)
        return result

    monkeypatch.setattr(storage.S3Storage, "save", save_then_fail)
    try:
        data, response = _outbox_post(client, family)
    finally:
        os.killpg(s3_server["process"].pid, signal.SIGCONT)
        fast.client = _fast_client(s3_server["endpoint"])
    assert response.status_code == 503 and response.json["status"] == "retry"
    assert "coba lagi" in response.json["message"]
    assert _count(Visit) == 0 and _count(Photo) == 0
    monkeypatch.setattr(storage.S3Storage, "save", real_save)
    retry = good_data(client, family, uuid=data["uuid"])
    headers = {"X-Kail-Outbox": "1", "X-CSRFToken": retry.pop("csrf_token")}
    again = client.post(form_url(family), data=retry, headers=headers, content_type="multipart/form-data")
    assert again.status_code == 201, again.get_data(True)
    stored = db.session.scalars(select(Photo).join(Visit).where(Visit.uuid == data["uuid"])).all()
    assert len(stored) == 2 and all(fast.exists(p.stored_name) and fast.exists(p.thumb_name) for p in stored)
    app.config["PHOTO_STORAGE"] = ""


def test_a_photo_the_phone_holds_is_answered_without_the_store(app, s3_server, s3_url, world, login_as):
    from .factories import photo as photo_row
    from .factories import visit

    client = login_as("mentor")
    processed = photos.process(demo_photo("p", seed=7))
    app.config["PHOTO_STORAGE"] = s3_url
    try:
        photos.save(storage.current(), processed)
        family = world.recipients["own"]
        row = photo_row(visit(family, family.mentor), processed.stored_name, processed.thumb_name)
        db.session.commit()
        first = client.get(f"/foto/{row.id}")
        assert first.status_code == 200 and first.data == processed.display
        os.killpg(s3_server["process"].pid, signal.SIGSTOP)
        try:
            cached = client.get(f"/foto/{row.id}", headers={"If-None-Match": first.headers["ETag"]})
        finally:
            os.killpg(s3_server["process"].pid, signal.SIGCONT)
        assert cached.status_code == 304 and cached.headers["ETag"] == first.headers["ETag"]
    finally:
        app.config["PHOTO_STORAGE"] = ""


def test_healthz_reports_an_unreachable_bucket(app, client, s3_url):
    app.config["PHOTO_STORAGE"] = s3_url
    try:
        assert client.get("/healthz").json == {"status": "ok", "database": "ok", "uploads": "ok"}
        app.config["PHOTO_STORAGE"] = "s3://no-such-bucket-kail"
        broken = client.get("/healthz")
        assert broken.status_code == 503 and broken.json["uploads"] == "error"
    finally:
        app.config["PHOTO_STORAGE"] = ""


@pytest.mark.parametrize(
    ("setting", "secret", "reason"),
    [
        ("s3://no-such-bucket-kail", None, "bucket not found"),
        ("s3://kail-test", "a-wrong-secret", "AWS_SECRET_ACCESS_KEY"),
    ],
)
def test_the_app_refuses_to_start_with_a_wrong_bucket_or_key(app, s3_server, monkeypatch, setting, secret, reason):
    if secret:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    config = {k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR", "SECRET_KEY")}
    with pytest.raises(SystemExit) as refused:
        create_app({**config, "PHOTO_STORAGE": setting})
    message = str(refused.value)
    assert "\n" not in message and message.startswith("Kail cannot start: PHOTO_STORAGE") and reason in message


def test_migrate_copies_verified_resumes_and_check_finds_every_photo(app, runner, s3_url, tmp_path):
    local = storage.LocalStorage(app.config["UPLOAD_DIR"])
    pictures = [photos.process(demo_photo("m", seed=s)) for s in range(3)]
    for p in pictures:
        photos.save(local, p)
    broken = pictures[2]
    local.path(broken.thumb_name).write_bytes(b"not the bytes this name promises")

    result = runner.invoke(args=["storage", "migrate", "--to", s3_url])
    assert result.exit_code == 1 and "5 copied, 0 already there, 1 failed the sha256 check" in result.output
    assert f"corrupt: {broken.thumb_name}" in result.output
    target = storage.S3Storage(s3_url)
    assert target.read(pictures[0].stored_name) == pictures[0].display
    assert not target.exists(broken.thumb_name)  # never copied

    local.path(broken.thumb_name).write_bytes(broken.thumb)  # repaired: run again, only what is missing moves
    result = runner.invoke(args=["storage", "migrate", "--to", s3_url])
    assert result.exit_code == 0 and "1 copied, 5 already there, 0 failed" in result.output, result.output

    from .factories import photo as photo_row
    from .factories import recipient, user, visit

    family = recipient(mentor=user("mentor"))
    row = photo_row(visit(family), pictures[0].stored_name, pictures[0].thumb_name)
    db.session.commit()
    app.config["PHOTO_STORAGE"] = s3_url
    try:
        assert runner.invoke(args=["storage", "check"]).exit_code == 0
        target.client.delete_object(Bucket=target.bucket, Key=target.key(pictures[0].thumb_name))
        result = runner.invoke(args=["storage", "check"])
        assert result.exit_code == 1 and f"photo {row.id}: {pictures[0].thumb_name} missing" in result.output
        assert "1 files missing" in result.output
    finally:
        app.config["PHOTO_STORAGE"] = ""
    copied = target.read(pictures[1].stored_name)
    assert hashlib.sha256(copied).hexdigest() + ".jpg" == pictures[1].stored_name


def test_an_import_staged_in_the_bucket_is_previewed_and_committed_without_local_files(app, client, s3_url):
    """A second app server has no local copy: everything the preview and the import read is in the bucket."""
    import io
    from pathlib import Path

    from webapp.models import Recipient

    from . import factories
    from .conftest import csrf_token, login

    admin = factories.user("admin", regions=[], username="admin-s3")
    db.session.commit()
    login(client, admin.username)
    app.config["PHOTO_STORAGE"] = s3_url
    try:
        token = csrf_token(client, "/kelola-data/impor")
        text = factories.csv_text([factories.import_row(1), factories.import_row(2)])
        response = client.post(
            "/kelola-data/impor",
            data={"csrf_token": token, "budget_year": "2026", "file": (io.BytesIO(text.encode()), "daftar.csv")},
        )
        assert response.status_code == 303, response.get_data(True)
        preview_url = response.headers["Location"]
        local = Path(app.config["UPLOAD_DIR"]) / "imports"
        assert not local.exists() or not any(local.iterdir())  # nothing of it on this server's disk
        staged = {key.rsplit("/", 1)[-1] for key, _ in storage.current()._objects(storage.current().prefix)}
        upload_token = preview_url.rstrip("/").rsplit("/", 1)[-1]
        assert f"{upload_token}.json" in staged and f"{upload_token}.csv" in staged
        assert client.get(preview_url).status_code == 200
        response = client.post(preview_url, data={"csrf_token": token, "expected": "2"})
        assert response.status_code == 303 and _count(Recipient) == 2
        assert "Sudah diimpor: 2 keluarga" in client.get(preview_url).get_data(True)
    finally:
        app.config["PHOTO_STORAGE"] = ""


def test_a_plain_form_post_gets_a_coba_lagi_page_when_the_store_refuses(app, s3_url, world, login_as):
    """Without JavaScript (no outbox): a 503 page that says to try again, never a 500; nothing stored."""
    client = login_as("mentor")
    family = world.recipients["own"]
    app.config["PHOTO_STORAGE"] = s3_url
    app.extensions["kail_storage"] = {
        (s3_url, app.config["UPLOAD_DIR"]): storage.S3Storage(s3_url, client=_fast_client("http://127.0.0.1:9"))
    }
    try:
        response = client.post(form_url(family), data=good_data(client, family), content_type="multipart/form-data")
    finally:
        app.config["PHOTO_STORAGE"] = ""
        app.extensions["kail_storage"] = {}
    assert response.status_code == 503 and "coba lagi" in response.get_data(True)
    assert _count(Visit) == 0 and _count(Photo) == 0


def test_check_walks_the_listing_beside_the_names_and_asks_the_store_before_reporting(tmp_path):
    """`storage check` in constant memory: the database's names (in name order) walked beside the store's listing
    (in name order too); a shared file matches every row naming it; a name the walk misses is asked of the store
    itself, so a listing out of order costs time, never a false "missing"."""
    local = storage.LocalStorage(tmp_path)
    names = sorted(f"{digit * 64}.jpg" for digit in "0a5f")
    for name in names[1:]:
        local.save(name, b"photo")
    assert [name for name, _modified in local.listing()] == names[1:]  # in name order, as a bucket lists
    named = [(names[0], 1), (names[1], 2), (names[1], 3), (names[2], 4), ("b" * 64 + ".jpg", 5), (names[3], 6)]
    assert list(storage.missing(local, named)) == [(names[0], 1), ("b" * 64 + ".jpg", 5)]

    class Shuffled(storage.LocalStorage):
        def listing(self):
            return reversed(list(super().listing()))

    assert list(storage.missing(Shuffled(tmp_path), named)) == [(names[0], 1), ("b" * 64 + ".jpg", 5)]
