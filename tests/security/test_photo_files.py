"""A stored photo's file is never lost: files are created atomically and never overwritten, no request deletes a
content-addressed file (a concurrent visit with the same picture may be committing it), and `photos-prune`
removes only files no committed photo names, after a grace period. Threads with their own app contexts and
real files, on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

import datetime as dt
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp import integrity, photos, recording, storage
from webapp.demo import demo_photo
from webapp.extensions import db
from webapp.models import Photo, Recipient, User, Visit

from .. import factories

NOON = dt.datetime(2026, 11, 20, 4, 0)


@pytest.fixture
def family(app):
    mentor = factories.user("mentor")
    family = factories.recipient(mentor=mentor)
    db.session.commit()
    return family.id, mentor.id


def _record(app, family_id, mentor_id, data: bytes) -> str:
    """One visit with one photo, recorded in this thread's own app context and session."""
    with app.app_context():
        try:
            recipient = db.session.get(Recipient, family_id)
            mentor = db.session.get(User, mentor_id)
            visit_input = recording.VisitInput(
                uuid=str(uuid.uuid4()), kind="pendampingan", visited_at=NOON, lat=-0.5, lon=117.15, accuracy_m=10.0
            )
            upload = recording.PhotoUpload(photos.process(data), "usaha_berjalan")
            visit, _ = recording.record_visit(recipient, mentor, visit_input, [upload], app.config["UPLOAD_DIR"])
            return visit.uuid
        finally:
            db.session.remove()


def _missing_files(app) -> list[str]:
    db.session.expire_all()
    missing = []
    store = storage.current()
    for photo in db.session.scalars(select(Photo)):
        for name in (photo.stored_name, photo.thumb_name):
            if not store.exists(name):
                missing.append(name)
    return missing


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_a_failed_visit_does_not_delete_the_file_a_concurrent_visit_commits(app, family, monkeypatch):
    """A writes the file, B (same picture) finds it stored, A fails, B commits: B's photo must still be there."""
    real_save = photos.save
    a_saved, b_saved, a_done = threading.Event(), threading.Event(), threading.Event()

    real_flags = integrity.compute_flags

    def save(upload_dir, photo):
        if threading.current_thread().name == "A":
            created = real_save(upload_dir, photo)
            a_saved.set()
            assert b_saved.wait(10)
            return created
        assert a_saved.wait(10)
        created = real_save(upload_dir, photo)  # already stored by A: nothing new
        b_saved.set()
        assert a_done.wait(10)  # A has failed (and, before, cleaned up) before B commits
        return created

    def compute_flags(visit, thresholds=None):
        if threading.current_thread().name == "A":
            raise RuntimeError("disk full")  # A fails after writing the file
        return real_flags(visit, thresholds)

    monkeypatch.setattr(photos, "save", save)
    monkeypatch.setattr(integrity, "compute_flags", compute_flags)
    data = demo_photo("sama", seed=7)
    outcome = {}

    def run(name):
        try:
            outcome[name] = _record(app, *family, data)
        except RuntimeError as exc:
            outcome[name] = exc
        finally:
            if name == "A":
                a_done.set()

    threads = [threading.Thread(target=run, args=(name,), name=name) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(outcome["A"], RuntimeError) and isinstance(outcome["B"], str)
    assert db.session.scalar(select(Visit).where(Visit.uuid == outcome["B"])) is not None
    assert _missing_files(app) == []


@pytest.mark.usefixtures("photo_store")  # the local folder and a real S3 server
def test_many_concurrent_visits_with_the_same_picture_keep_every_file(app, family, monkeypatch):
    """40 visits at once, the same picture, every other one failing after its files were written."""
    real_flags = integrity.compute_flags
    failing = threading.local()

    def compute_flags(visit, thresholds=None):
        time.sleep(0.002)
        if getattr(failing, "yes", False):
            raise RuntimeError("disk full")  # after the files were written
        return real_flags(visit, thresholds)

    monkeypatch.setattr(integrity, "compute_flags", compute_flags)
    data = demo_photo("sama", seed=8)

    def run(n):
        failing.yes = n % 2 == 0
        try:
            return _record(app, *family, data)
        except RuntimeError:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(40)))
    assert sum(1 for r in results if r) == 20
    assert _missing_files(app) == []


def test_save_is_atomic_and_never_overwrites(tmp_path):
    photo = photos.process(demo_photo("sama", seed=9))
    with ThreadPoolExecutor(max_workers=16) as pool:
        created = list(pool.map(lambda _: photos.save(tmp_path, photo), range(32)))
    path = photos.stored_path(tmp_path, photo.stored_name)
    assert sorted(c.name for paths in created for c in paths) == sorted((photo.stored_name, photo.thumb_name))
    assert path.read_bytes() == photo.display
    inode = path.stat().st_ino
    os.utime(path, (0, 0))
    assert photos.save(tmp_path, photo) == []
    assert path.stat().st_ino == inode  # the stored file itself, not a replacement
    assert path.stat().st_mtime > time.time() - 60  # found stored: marked as in use again
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]  # no temporary left


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_prune_deletes_only_old_files_no_photo_names(tmp_path):
    kept, recent, orphan = (photos.process(demo_photo("p", seed=s)) for s in (1, 2, 3))
    for p in (kept, recent, orphan):
        photos.save(tmp_path, p)
    for p in (kept, orphan):
        _age(photos.stored_path(tmp_path, p.stored_name), 48)
        _age(photos.stored_path(tmp_path, p.thumb_name), 48)
    other = tmp_path / "imports" / ("a" * 64 + ".jpg")  # not a photo shard: never touched
    other.parent.mkdir()
    other.write_bytes(b"x")
    _age(other, 48)
    names = {kept.stored_name, kept.thumb_name}
    deleted = photos.prune(tmp_path, lambda name: name in names, referenced=names)
    assert {p.name for p in deleted} == {orphan.stored_name, orphan.thumb_name}
    remaining = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert remaining == {kept.stored_name, kept.thumb_name, recent.stored_name, recent.thumb_name, other.name}


def test_prune_puts_back_a_file_a_request_saves_or_commits_meanwhile(tmp_path):
    photo = photos.process(demo_photo("p", seed=4))
    photos.save(tmp_path, photo)
    for name in (photo.stored_name, photo.thumb_name):
        _age(photos.stored_path(tmp_path, name), 48)

    def committed_meanwhile(name):  # seen as an orphan when listed; a visit commits it before deletion
        return True

    assert photos.prune(tmp_path, committed_meanwhile) == []
    assert photos.stored_path(tmp_path, photo.stored_name).read_bytes() == photo.display

    def saved_meanwhile(name):  # a request saves the same picture while prune holds the file aside
        photos.save(tmp_path, photo)
        return False

    photos.prune(tmp_path, saved_meanwhile)
    assert photos.stored_path(tmp_path, photo.stored_name).read_bytes() == photo.display
    assert photos.stored_path(tmp_path, photo.thumb_name).read_bytes() == photo.thumb
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".")]


def test_photos_prune_command_checks_the_database(app, family, runner):
    _record(app, *family, demo_photo("p", seed=5))
    orphan = photos.process(demo_photo("p", seed=6))
    photos.save(app.config["UPLOAD_DIR"], orphan)
    for path in Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"):
        _age(path, 48)
    result = runner.invoke(args=["photos-prune", "--dry-run"])
    assert result.exit_code == 0 and "2 orphan" in result.output
    result = runner.invoke(args=["photos-prune"])
    assert result.exit_code == 0 and "2 orphan photo files deleted" in result.output, result.output
    assert _missing_files(app) == []
    assert not photos.stored_path(app.config["UPLOAD_DIR"], orphan.stored_name).exists()
    assert len(list(Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))) == 2
