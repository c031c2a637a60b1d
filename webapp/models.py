"""Database models. Constraints live here (and so in the database), not only in forms."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import lifecycle, photohash, review_states, visit_kinds
from .extensions import db

ROLES = ("admin", "supervisor", "mentor")
ROLE_ADMIN, ROLE_SUPERVISOR, ROLE_MENTOR = ROLES
GENDERS = ("L", "P")
FUNDING_SOURCES = ("APBD", "APBD-P")
# The national welfare registry a family's decile comes from: DTSEN (Data Tunggal Sosial dan Ekonomi Nasional)
# replaced DTKS in 2025; families imported before keep DTKS.
REGISTRIES = ("DTKS", "DTSEN")
VISIT_KINDS = visit_kinds.CODES
REVIEW_STATES = review_states.STATES
PHOTO_TAGS = visit_kinds.PHOTO_TAGS
DECISIONS = review_states.DECISIONS
FLAG_CODES = (
    "tanpa_lokasi",
    "akurasi_rendah",
    "jauh_dari_usaha",
    "di_luar_wilayah",
    "foto_duplikat",
    "foto_lama",
    "perjalanan_mustahil",
    "di_luar_jam",
)
FLAG_SEVERITIES = ("peringatan", "info")
ASSISTANCE_KINDS = ("blt", "sembako", "pkh", "rtlh", "sanitasi", "air_bersih")
PHASH_BANDS = 4  # the 64-bit photo hash split into four 16-bit bands, each indexed


def utcnow() -> dt.datetime:
    """Naive UTC, the one time zone stored (shown in WITA)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _lat_lon_checks(prefix: str) -> tuple[CheckConstraint, CheckConstraint]:
    return (
        CheckConstraint(
            f"{prefix}lat IS NULL OR ({prefix}lat >= -90 AND {prefix}lat <= 90)", name=f"{prefix}lat_range"
        ),
        CheckConstraint(
            f"{prefix}lon IS NULL OR ({prefix}lon >= -180 AND {prefix}lon <= 180)", name=f"{prefix}lon_range"
        ),
    )


user_regions = Table(
    "user_regions",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True),
)


class Region(db.Model):
    """A regency (kabupaten) or city (kota) of Kaltim, with its Kemendagri code and quota."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("kind IN ('Kabupaten', 'Kota')", name="kind"),
        CheckConstraint("quota >= 0", name="quota_positive"),
        *_lat_lon_checks(""),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    capital: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    quota: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def full_name(self) -> str:
        return f"{self.kind} {self.name}"

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Raised by logout, password change, reset and deactivation: every session cookie carrying an older value
    # stops working at once (see accounts.py).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A password set by someone else (reset, new account) must be replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Replaced (a new random value) by every commit that changes what this mentor's work list shows: the key its
    # cached rendering is filed under (webapp/caseload.py). Random, not a counter: a new user whose id an old one
    # had, or a database restored from a backup, can never match a page cached for other data.
    caseload_stamp: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex, server_default="0")

    regions: Mapped[list[Region]] = relationship(secondary=user_regions, order_by=Region.code)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in or stay logged in
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role == ROLE_SUPERVISOR

    @property
    def is_mentor(self) -> bool:
        return self.role == ROLE_MENTOR

    @property
    def region_ids(self) -> list[int]:
        return [r.id for r in self.regions]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class Recipient(db.Model):
    """A beneficiary family (KPM) of the UEP productive-business aid."""

    __tablename__ = "recipients"
    __table_args__ = (
        UniqueConstraint("nik", "budget_year", name="uq_recipients_nik_budget_year"),
        CheckConstraint("length(nik) = 16", name="nik_length"),
        CheckConstraint("length(kk_number) = 16", name="kk_length"),
        CheckConstraint("decile >= 1 AND decile <= 5", name="decile_range"),
        CheckConstraint(_in("status", lifecycle.STATUSES), name="status"),
        CheckConstraint(_in("gender", GENDERS), name="gender"),
        CheckConstraint(_in("funding_source", FUNDING_SOURCES), name="funding_source"),
        CheckConstraint(_in("decile_registry", REGISTRIES), name="decile_registry"),
        CheckConstraint("budget_year >= 2000 AND budget_year <= 2100", name="budget_year_range"),
        *_lat_lon_checks("business_"),
        # The review map asks for the families inside the area on screen.
        Index("ix_recipients_business_lat_lon", "business_lat", "business_lon"),
        # The dashboard's counts by status and by budget year, regency and funding read these, not the rows.
        Index("ix_recipients_status_distributed_on", "status", "distributed_on"),
        Index("ix_recipients_budget_year_region_id_funding_source", "budget_year", "region_id", "funding_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nik: Mapped[str] = mapped_column(String(16), index=True)
    kk_number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), index=True)
    gender: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255), default="")
    kecamatan: Mapped[str] = mapped_column(String(80))
    desa: Mapped[str] = mapped_column(String(80))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    decile: Mapped[int] = mapped_column(Integer)
    decile_registry: Mapped[str] = mapped_column(String(8), default="DTKS", server_default="DTKS")  # DTKS or DTSEN
    business_type: Mapped[str] = mapped_column(String(80))
    business_description: Mapped[str] = mapped_column(Text, default="")
    package_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    funding_source: Mapped[str] = mapped_column(String(8))
    budget_year: Mapped[int] = mapped_column(Integer)
    distributed_on: Mapped[dt.date | None] = mapped_column(Date)
    # active_history: a reassignment keeps the old mentor, whose work list changes too (webapp/caseload.py).
    mentor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, active_history=True
    )
    business_lat: Mapped[float | None] = mapped_column(Float)
    business_lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(24), default=lifecycle.CALON)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    mentor: Mapped[User | None] = relationship()
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="recipient",
        order_by="StatusChange.changed_at.desc(), StatusChange.id.desc()",
        cascade="all, delete-orphan",
    )
    visits: Mapped[list[Visit]] = relationship(
        back_populates="recipient",
        order_by="Visit.visited_at.desc()",
        cascade="all, delete-orphan",
    )
    other_assistance: Mapped[list[OtherAssistance]] = relationship(
        back_populates="recipient",
        order_by="OtherAssistance.received_on.desc()",
        cascade="all, delete-orphan",
    )
    trainings: Mapped[list[TrainingSession]] = relationship(
        secondary="training_attendance",
        order_by="TrainingSession.held_on.desc()",
        viewonly=True,
    )

    # Optimistic locking: every UPDATE checks and bumps `version`.
    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return lifecycle.status_label(self.status)

    @property
    def has_business_location(self) -> bool:
        return self.business_lat is not None and self.business_lon is not None

    def __repr__(self) -> str:
        return f"<Recipient {self.nik} {self.name}>"


class StatusChange(db.Model):
    __tablename__ = "status_changes"
    __table_args__ = (
        CheckConstraint(_in("to_status", lifecycle.STATUSES), name="to_status"),
        CheckConstraint(f"from_status IS NULL OR {_in('from_status', lifecycle.STATUSES)}", name="from_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))

    recipient: Mapped[Recipient] = relationship(back_populates="status_changes")
    changed_by: Mapped[User | None] = relationship()
    visit: Mapped[Visit | None] = relationship()

    @property
    def from_label(self) -> str:
        return lifecycle.status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return lifecycle.status_label(self.to_status)


class Visit(db.Model):
    """A mentor's visit to a family's business; `uuid` is made on the phone so retries store it once."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_in("kind", VISIT_KINDS), name="kind"),
        CheckConstraint(_in("review_state", REVIEW_STATES), name="review_state"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy_positive"),
        *_lat_lon_checks(""),
        # The review queue: waiting visits, oldest first, without walking every visit ever made; with the family,
        # "approved in the last 30 days" (dashboard coverage) is read from the index alone.
        Index("ix_visits_review_state_visited_at_id", "review_state", "visited_at", "id", "recipient_id"),
        # The review map asks for the visits inside the area on screen (a latitude band, then longitude).
        Index("ix_visits_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=visit_kinds.PENDAMPINGAN)
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    location_fixed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    no_location_reason: Mapped[str | None] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A status change the visit asked for that no longer applied when it arrived (the family was moved meanwhile):
    # {"to", "reason", "from" (the status the mentor saw), "found" (the status on arrival)}. See recording.py.
    status_set_aside: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    review_state: Mapped[str] = mapped_column(String(12), default=review_states.WAITING, index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    next_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    # 1 on arrival; +1 each time the mentor resubmits after a send-back. Decisions are per round.
    round: Mapped[int] = mapped_column(Integer, default=1)
    # Copies of a few answers, kept by the before-insert/update hook below so the dashboard aggregates plain
    # columns in SQL instead of parsing every visit's JSON.
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    items_in_use: Mapped[int] = mapped_column(Integer, default=0)
    operating: Mapped[str | None] = mapped_column(String(12))
    turnover_per_day: Mapped[int | None] = mapped_column(Integer)

    recipient: Mapped[Recipient] = relationship(back_populates="visits")
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    photos: Mapped[list[Photo]] = relationship(
        back_populates="visit",
        order_by="Photo.id",
        cascade="all, delete-orphan",
    )
    flags: Mapped[list[EvidenceFlag]] = relationship(
        back_populates="visit",
        order_by="EvidenceFlag.id",
        cascade="all, delete-orphan",
    )
    decisions: Mapped[list[ReviewDecision]] = relationship(
        back_populates="visit",
        order_by="ReviewDecision.round",
        cascade="all, delete-orphan",
    )
    # The status move this visit made, or the proposal it filed: the review card shows it (read-only here).
    status_changes: Mapped[list[StatusChange]] = relationship(viewonly=True, order_by="StatusChange.id")
    status_proposals: Mapped[list[StatusProposal]] = relationship(viewonly=True, order_by="StatusProposal.id")

    @property
    def warnings(self) -> list[EvidenceFlag]:
        return [f for f in self.flags if f.severity == "peringatan"]


def item_counts(answers: dict[str, Any] | None) -> tuple[int, int]:
    """(items reported on, items still in use) from a visit's answers."""
    items = (answers or {}).get("items") or {}
    if not isinstance(items, dict):
        return 0, 0
    return len(items), sum(1 for state in items.values() if state == visit_kinds.ITEM_IN_USE)


def turnover_per_day(answers: dict[str, Any] | None) -> int | None:
    """The turnover given at a visit, per day (a weekly figure divided by 7); None when none was given."""
    answers = answers or {}
    turnover = answers.get("turnover")
    if not isinstance(turnover, int) or isinstance(turnover, bool) or turnover <= 0:
        return None
    return round(turnover / 7) if answers.get("turnover_period") == "minggu" else turnover


def answer_columns(answers: dict[str, Any] | None) -> dict[str, Any]:
    """The columns copied from a visit's answers (also used by the migration that filled them in)."""
    total, in_use = item_counts(answers)
    operating = (answers or {}).get("operating")
    return {
        "items_total": total,
        "items_in_use": in_use,
        "turnover_per_day": turnover_per_day(answers),
        "operating": operating if isinstance(operating, str) else None,
    }


@event.listens_for(Visit, "before_insert")
@event.listens_for(Visit, "before_update")
def _copy_answers(_mapper, _connection, visit: Visit) -> None:
    for name, value in answer_columns(visit.answers).items():
        setattr(visit, name, value)


class Photo(db.Model):
    """A photo of a visit: stored under a generated name, never the client's."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint("bytes > 0", name="bytes_positive"),
        CheckConstraint(_in("tag", PHOTO_TAGS), name="tag"),
        *_lat_lon_checks("exif_"),
        *(Index(f"ix_photos_band{band}_lookup", f"phash_b{band}", "phash_lookup", "id") for band in range(4)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(24), default="usaha_berjalan")
    # Content-addressed (sha256 of the stored bytes): the same picture sent twice shares one file.
    stored_name: Mapped[str] = mapped_column(String(80))
    thumb_name: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The perceptual hashes (webapp.photohash): "4:" + three (lookup, check) pairs in hex, or "4:-" for a picture
    # with too little structure to be compared (dark, flat, a few flat areas) or whose file was missing when it
    # was rehashed.
    # Looked up through the bands below, never by value: no index of its own.
    phash: Mapped[str] = mapped_column(String(photohash.TEXT_LENGTH))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    exif_taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    # The stored lookup hash (signed 64-bit) and its four 16-bit bands; each band is indexed together with the
    # hash and the id, so the lookup reads candidates from the indexes alone (integrity.similar_photos). NULL for
    # a picture that cannot be compared: it is never a candidate.
    phash_b0: Mapped[int | None] = mapped_column(Integer)
    phash_b1: Mapped[int | None] = mapped_column(Integer)
    phash_b2: Mapped[int | None] = mapped_column(Integer)
    phash_b3: Mapped[int | None] = mapped_column(Integer)
    phash_lookup: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="photos")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.phash and self.phash_b0 is None:
            for column, value in phash_columns(self.phash).items():
                setattr(self, column, value)

    @property
    def comparable(self) -> bool:
        """False for a picture with too little structure (or no file) to say whether it is a duplicate."""
        return photohash.parse(self.phash) is not None


def phash_bands(phash: str) -> tuple[int, int, int, int] | tuple[None, None, None, None]:
    """The indexed bands of a stored hash text: the lookup hash's four 16-bit integers (most significant first),
    or four NULLs for a picture that cannot be compared."""
    parsed = photohash.parse(phash)
    return photohash.bands(parsed.stored.lookup) if parsed is not None else (None, None, None, None)


def phash_columns(phash: str) -> dict[str, int | None]:
    """The indexed columns of a stored hash text: phash_b0..b3 and phash_lookup (all NULL if not comparable)."""
    parsed = photohash.parse(phash)
    lookup = photohash.signed64(parsed.stored.lookup) if parsed is not None else None
    return dict(zip(PHASH_INDEX_COLUMNS, (*phash_bands(phash), lookup), strict=True))


PHASH_INDEX_COLUMNS = ("phash_b0", "phash_b1", "phash_b2", "phash_b3", "phash_lookup")


class EvidenceFlag(db.Model):
    """An automatic integrity flag on a visit, with the numbers that raised it (shown to the supervisor)."""

    __tablename__ = "evidence_flags"
    __table_args__ = (
        UniqueConstraint("visit_id", "code", name="uq_evidence_flags_visit_code"),
        CheckConstraint(_in("code", FLAG_CODES), name="code"),
        CheckConstraint(_in("severity", FLAG_SEVERITIES), name="severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(24), index=True)
    severity: Mapped[str] = mapped_column(String(12), default="peringatan")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="flags")


class ReviewDecision(db.Model):
    """A supervisor's decision on one round of a visit. One per round: a second decision is refused."""

    __tablename__ = "review_decisions"
    __table_args__ = (
        UniqueConstraint("visit_id", "round", name="uq_review_decisions_visit_round"),
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="decisions")
    decided_by: Mapped[User | None] = relationship()


class StatusProposal(db.Model):
    """A mentor's proposal to graduate a family or end its participation, until a supervisor confirms or declines
    it. At most one proposal per family waits at a time."""

    __tablename__ = "status_proposals"
    __table_args__ = (
        CheckConstraint(_in("to_status", lifecycle.STATUSES), name="to_status"),
        CheckConstraint(_in("from_status", lifecycle.STATUSES), name="from_status"),
        CheckConstraint(_in("state", lifecycle.PROPOSAL_STATES), name="state"),
        Index(
            "ix_status_proposals_one_waiting",
            "recipient_id",
            unique=True,
            sqlite_where=text("state = 'menunggu'"),
            postgresql_where=text("state = 'menunggu'"),
        ),
        Index("ix_status_proposals_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(12), default=lifecycle.PROPOSAL_WAITING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    recipient: Mapped[Recipient] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    visit: Mapped[Visit | None] = relationship()


class PhotoUpload(db.Model):
    """A photo the phone is sending in chunks (resumable over a link that drops): what it declared (length and
    sha256) and, once every byte arrived and matched, when it was handed to the visit's staging. Deleted when the
    visit commits, or by `flask photos-prune` when it never does (see uploads.py)."""

    __tablename__ = "photo_uploads"
    __table_args__ = (
        CheckConstraint("length > 0", name="length_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    visit_uuid: Mapped[str] = mapped_column(String(36), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    length: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PhotoUploadChunk(db.Model):
    """Bytes of a photo upload from `start` on; chunks are only ever appended at the end, so an upload's
    offset is the sum of its chunks' lengths. The primary key makes a chunk sent twice at once land once."""

    __tablename__ = "photo_upload_chunks"

    upload_id: Mapped[int] = mapped_column(ForeignKey("photo_uploads.id", ondelete="CASCADE"), primary_key=True)
    start: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LoginAttempt(db.Model):
    """One try to log in, kept to slow down password guessing (per username and per IP)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str | None] = mapped_column(String(45), index=True)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who did what to which object, when and from where."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    user: Mapped[User | None] = relationship()


training_attendance = Table(
    "training_attendance",
    db.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("recipient_id", ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class TrainingSession(db.Model):
    """A business-management training session (part of UEP) and the families who attended it."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(160))
    topic: Mapped[str] = mapped_column(String(160))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    region: Mapped[Region] = relationship()
    created_by: Mapped[User | None] = relationship()
    attendees: Mapped[list[Recipient]] = relationship(secondary=training_attendance, order_by="Recipient.name")


class OtherAssistance(db.Model):
    """Help from the other two pillars a UEP family also receives (BLT, sembako, PKH; RTLH, sanitation, water)."""

    __tablename__ = "other_assistance"
    __table_args__ = (
        UniqueConstraint("recipient_id", "kind", "received_on", name="uq_other_assistance_recipient_kind_date"),
        CheckConstraint(_in("kind", ASSISTANCE_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    office: Mapped[str] = mapped_column(String(120))
    received_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(255), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    recipient: Mapped[Recipient] = relationship(back_populates="other_assistance")
    recorded_by: Mapped[User | None] = relationship()


class DashboardSnapshot(db.Model):
    """The dashboard's outcome figures for a large scope, computed at most once a period and shared by every
    worker and restart (see `outcomes.build`; `flask refresh-dashboard` keeps them fresh from cron)."""

    __tablename__ = "dashboard_snapshots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the scope and the settings
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
