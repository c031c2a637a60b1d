"""Small factories for test data; each adds to the session and flushes (the test decides about commit)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from webapp import lifecycle
from webapp.extensions import db
from webapp.models import OtherAssistance, Photo, Recipient, Region, TrainingSession, User, Visit

PASSWORD = "rahasia-uji-123"
_seq = itertools.count(1)


@functools.cache
def _hash(password: str) -> str:
    """Hashing is slow on purpose; tests hash each password once."""
    return generate_password_hash(password)


def region(code: str = "6472") -> Region:
    return db.session.scalar(select(Region).where(Region.code == code))


def user(role: str = "mentor", regions: list[Region] | None = None, username: str | None = None, **kwargs) -> User:
    n = next(_seq)
    password = kwargs.pop("password", PASSWORD)
    full_name = kwargs.pop("full_name", f"{role.title()} Uji {n}")
    obj = User(
        username=username or f"{role}{n}",
        full_name=full_name,
        role=role,
        regions=regions if regions is not None else [region()],
        **kwargs,
    )
    obj.password_hash = _hash(password)
    db.session.add(obj)
    db.session.flush()
    return obj


def nik(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return f"647201{(n % 28) + 1:02d}0190{n % 10000:04d}"


def recipient(region_: Region | None = None, mentor: User | None = None, **kwargs) -> Recipient:
    n = next(_seq)
    values = dict(
        nik=nik(n),
        kk_number=f"6472010101{n % 1000000:06d}",
        name=f"Keluarga Uji {n}",
        gender="P",
        kecamatan="Samarinda Ulu",
        desa="Air Hitam",
        region=region_ or (mentor.regions[0] if mentor else region()),
        decile=2,
        business_type="Gorengan",
        package_items=["Wajan", "Kompor gas"],
        funding_source="APBD",
        budget_year=2025,
        mentor=mentor,
        status=lifecycle.USAHA_BERJALAN,
    )
    values.update(kwargs)
    obj = Recipient(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def visit(recipient_: Recipient, mentor: User | None = None, **kwargs) -> Visit:
    values = dict(
        uuid=str(uuid.uuid4()),
        recipient=recipient_,
        mentor=mentor or recipient_.mentor,
        kind="pendampingan",
        visited_at=dt.datetime(2026, 11, 20, 2, 0),
        lat=-0.5,
        lon=117.15,
        accuracy_m=12.0,
    )
    values.update(kwargs)
    obj = Visit(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def photo(visit_: Visit, stored_name: str, thumb_name: str, **kwargs) -> Photo:
    values = dict(
        uuid=str(uuid.uuid4()),
        visit=visit_,
        stored_name=stored_name,
        thumb_name=thumb_name,
        sha256="0" * 64,
        phash=f"{next(_seq) * 0x9E3779B97F4A7C15 % 2**64:016x}",
        width=800,
        height=600,
        bytes=1000,
    )
    values.update(kwargs)
    obj = Photo(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    recipients: dict[str, Recipient] = field(default_factory=dict)


def make_world() -> World:
    """Samarinda (6472) and Balikpapan (6471), each with a supervisor and mentors; one family per mentor.

    Roles are the ones the access rules distinguish: `mentor` owns recipients['own'];
    `mentor_same_region` works in the same regency but not with that family; `mentor_other_region`,
    `supervisor`, `supervisor_other_region` and `admin` as named.
    """
    smd, bpn = region("6472"), region("6471")
    w = World()
    w.users["admin"] = user("admin", regions=[], username="admin-uji")
    w.users["supervisor"] = user("supervisor", regions=[smd], username="koordinator-smd")
    w.users["supervisor_other_region"] = user("supervisor", regions=[bpn], username="koordinator-bpn")
    w.users["mentor"] = user("mentor", regions=[smd], username="pendamping-smd")
    w.users["mentor_same_region"] = user("mentor", regions=[smd], username="pendamping-smd2")
    w.users["mentor_other_region"] = user("mentor", regions=[bpn], username="pendamping-bpn")
    w.recipients["own"] = recipient(smd, w.users["mentor"], name="Siti Aminah")
    w.recipients["same_region"] = recipient(smd, w.users["mentor_same_region"], name="Budi Santoso")
    w.recipients["other_region"] = recipient(bpn, w.users["mentor_other_region"], name="Hasnah Daeng")
    db.session.commit()
    return w


def training(region_: Region | None = None, attendees: list[Recipient] | None = None, **kwargs) -> TrainingSession:
    values = dict(
        region=region_ or region(),
        held_on=dt.date(2026, 10, 15),
        place="Aula Kecamatan",
        topic="Pembukuan sederhana",
        attendees=attendees or [],
    )
    values.update(kwargs)
    obj = TrainingSession(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def assistance(recipient_: Recipient, kind: str = "blt", **kwargs) -> OtherAssistance:
    values = dict(recipient=recipient_, kind=kind, office="Dinas Sosial", received_on=dt.date(2026, 9, 1))
    values.update(kwargs)
    obj = OtherAssistance(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


IMPORT_HEADER = "NIK,No KK,Nama,Kabupaten/Kota,Kecamatan,Desa/Kelurahan,Desil,Jenis Usaha"


def import_row(n: int, **overrides) -> dict[str, str]:
    """One valid row for Samarinda, as the import reads it (canonical header -> text)."""
    row = {
        "NIK": f"64720141019{n:05d}",
        "No KK": f"64720101010{n:05d}",
        "Nama": f"Warga Impor {n}",
        "Kabupaten/Kota": "Samarinda",
        "Kecamatan": "Samarinda Ulu",
        "Desa/Kelurahan": "Air Hitam",
        "Desil": "2",
        "Jenis Usaha": "Gorengan",
    }
    row.update(overrides)
    return row


def csv_text(rows: list[dict[str, str]], headers: list[str] | None = None) -> str:
    import csv
    import io

    headers = headers or list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def stored_import(upload_dir: str, owner: User, text: str, budget_year: int = 2026) -> str:
    """An upload waiting at the preview step, as the import page stores it; returns its token."""
    import json
    import secrets
    from pathlib import Path

    folder = Path(upload_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.csv").write_text(text, encoding="utf-8")
    (folder / f"{token}.json").write_text(
        json.dumps(
            {
                "user_id": owner.id,
                "filename": "daftar.csv",
                "stored": f"{token}.csv",
                "budget_year": budget_year,
                "committed": None,
            }
        )
    )
    return token
