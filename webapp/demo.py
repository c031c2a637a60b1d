"""Demo data: plausible regions, accounts, 1,680 families, their histories and a few visits with photos.

A living program on the day it is loaded: histories end today (WITA), and 60-80 % of the families still in the
program (a different share in each regency) had an approved visit in the last 30 days. Deterministic for a given
day (fixed random seeds) and idempotent: running it again adds only what is missing.
Demo accounts exist only here and can log in only when DEMO_MODE is on.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
from dataclasses import dataclass, field

from PIL import ExifTags, Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash

from . import areas, integrity, lifecycle, localtime, photos, recording, review_states, schedule, visit_kinds
from .extensions import db
from .models import (
    OtherAssistance,
    Photo,
    Recipient,
    Region,
    ReviewDecision,
    StatusChange,
    TrainingSession,
    User,
    Visit,
)

DEMO_PASSWORD = "kail-demo"  # demo data only; refused at login unless DEMO_MODE is on
BUDGET_YEAR = 2025
APBD_PER_REGION, APBD_P_PER_REGION = 150, 18  # 1,500 + 180 = 1,680 over 10 regions
MENTORS_PER_REGION = 3
# The share of a regency's families still in the program visited (and approved) in the last 30 days: each regency
# draws its own from this range, so the dashboard's regencies differ as real ones do.
RECENT_COVERAGE = (0.52, 0.72)  # plus the milestone visits that fell in the window: about 70 % in all

MALE_NAMES = [
    "Ahmad",
    "Budi",
    "Rahmat",
    "Agus",
    "Slamet",
    "Hendra",
    "Yusuf",
    "Syahrani",
    "Andi",
    "Muhammad",
    "Fajar",
    "Rudi",
    "Sugianto",
    "Irwan",
    "Darmawan",
    "Jumadi",
    "Arifin",
    "Hasanuddin",
    "Usman",
    "Gusti",
    "Lukas",
    "Petrus",
    "Markus",
    "Daeng",
    "Baharuddin",
    "Saipul",
    "Taufik",
    "Wahyu",
    "Imam",
    "Samsul",
]
FEMALE_NAMES = [
    "Siti",
    "Nurhayati",
    "Sri",
    "Rahmawati",
    "Dewi",
    "Aminah",
    "Fatimah",
    "Yuliani",
    "Hasnah",
    "Masitah",
    "Rosmini",
    "Nurul",
    "Wulan",
    "Endang",
    "Rina",
    "Hartini",
    "Suriani",
    "Marlina",
    "Maria",
    "Yohana",
    "Asmah",
    "Kartini",
    "Lestari",
    "Halimah",
    "Jamilah",
    "Zainab",
    "Norhayati",
    "Salmah",
    "Rusmini",
    "Ani",
]
FAMILY_NAMES = [
    "Saputra",
    "Hidayat",
    "Setiawan",
    "Wijaya",
    "Syahrir",
    "Rahman",
    "Nugroho",
    "Pratama",
    "Kurniawan",
    "Hamzah",
    "Ramli",
    "Jaya",
    "Lawing",
    "Ingan",
    "Hakim",
    "Salim",
    "Sulaiman",
    "Aripin",
    "Mulyadi",
    "Santoso",
    "Iskandar",
    "Gani",
    "Anwar",
    "Tulung",
    "Daud",
    "Kadir",
    "Lahang",
    "Mahmud",
    "Effendi",
    "Noor",
]
STREETS = [
    "Jl. Merdeka",
    "Jl. Pahlawan",
    "Jl. Mulawarman",
    "Jl. Gajah Mada",
    "Jl. Sungai",
    "Gg. Mawar",
    "Jl. Poros",
    "Jl. Pelabuhan",
    "RT 05",
    "Jl. Kesuma Bangsa",
    "Jl. Anggrek",
    "Jl. Cendana",
]

# Business types and the in-kind package each one gets (docs/DOMAIN.md: goods, never cash).
PACKAGES: dict[str, list[str]] = {
    "Gorengan": [
        "Tepung terigu 10 kg",
        "Minyak goreng 10 L",
        "Kompor gas",
        "Tabung gas 3 kg",
        "Wajan",
        "Sutil",
        "Etalase kecil",
    ],
    "Warung sembako": ["Rak barang", "Timbangan", "Beras 50 kg", "Minyak goreng 10 L", "Gula 10 kg", "Etalase"],
    "Jahit pakaian": ["Mesin jahit", "Mesin obras", "Gunting kain", "Meteran", "Benang dan jarum"],
    "Pangkas rambut": ["Kursi cukur", "Mesin cukur", "Gunting rambut", "Cermin besar", "Handuk"],
    "Tambal ban": ["Kompresor", "Kunci set", "Dongkrak", "Alat tambal ban"],
    "Kue basah": ["Oven", "Mixer", "Loyang", "Tepung terigu 10 kg", "Gula 10 kg", "Kompor gas"],
    "Minuman dan es": ["Blender", "Freezer box", "Termos es", "Gelas plastik", "Sirup"],
    "Warung makan": ["Kompor gas", "Tabung gas 3 kg", "Panci besar", "Wajan", "Meja", "Kursi plastik"],
    "Olahan ikan": ["Para-para jemur", "Garam 50 kg", "Cool box", "Timbangan"],
    "Budidaya sayur": ["Cangkul", "Sprayer", "Benih sayur", "Pupuk", "Selang air"],
}

# Share of families at each status by late 2026 (the 2025 cohort, mostly a year past distribution).
STATUS_WEIGHTS = {
    lifecycle.CALON: 3,
    lifecycle.TERVERIFIKASI: 4,
    lifecycle.DISALURKAN: 8,
    lifecycle.USAHA_BERJALAN: 52,
    lifecycle.USAHA_KESULITAN: 14,
    lifecycle.USAHA_BERHENTI: 5,
    lifecycle.MANDIRI: 8,
    lifecycle.KELUAR: 4,
    lifecycle.TIDAK_MEMENUHI_SYARAT: 2,
}
# The path a family walked to reach each status (exits branch off part-way).
PATHS = {
    lifecycle.CALON: [lifecycle.CALON],
    lifecycle.TERVERIFIKASI: [lifecycle.CALON, lifecycle.TERVERIFIKASI],
    lifecycle.DISALURKAN: [lifecycle.CALON, lifecycle.TERVERIFIKASI, lifecycle.DISALURKAN],
    lifecycle.USAHA_BERJALAN: [
        lifecycle.CALON,
        lifecycle.TERVERIFIKASI,
        lifecycle.DISALURKAN,
        lifecycle.USAHA_BERJALAN,
    ],
    lifecycle.USAHA_KESULITAN: [
        lifecycle.CALON,
        lifecycle.TERVERIFIKASI,
        lifecycle.DISALURKAN,
        lifecycle.USAHA_BERJALAN,
        lifecycle.USAHA_KESULITAN,
    ],
    lifecycle.USAHA_BERHENTI: [
        lifecycle.CALON,
        lifecycle.TERVERIFIKASI,
        lifecycle.DISALURKAN,
        lifecycle.USAHA_BERJALAN,
        lifecycle.USAHA_KESULITAN,
        lifecycle.USAHA_BERHENTI,
    ],
    lifecycle.MANDIRI: [
        lifecycle.CALON,
        lifecycle.TERVERIFIKASI,
        lifecycle.DISALURKAN,
        lifecycle.USAHA_BERJALAN,
        lifecycle.MANDIRI,
    ],
    lifecycle.KELUAR: [
        lifecycle.CALON,
        lifecycle.TERVERIFIKASI,
        lifecycle.DISALURKAN,
        lifecycle.USAHA_BERJALAN,
        lifecycle.KELUAR,
    ],
    lifecycle.TIDAK_MEMENUHI_SYARAT: [lifecycle.CALON, lifecycle.TIDAK_MEMENUHI_SYARAT],
}
REASONS = {
    lifecycle.USAHA_BERHENTI: "Modal habis untuk biaya berobat keluarga; barang dijual.",
    lifecycle.KELUAR: "Keluarga pindah ke luar provinsi.",
    lifecycle.TIDAK_MEMENUHI_SYARAT: "Saat verifikasi ternyata desil 7 dan sudah punya usaha besar.",
}


@dataclass
class SeedReport:
    regions: int = 0
    users: int = 0
    recipients: int = 0
    visits: int = 0
    photos: int = 0
    logins: list[str] = field(default_factory=list)


def seed_regions() -> int:
    """Insert or update the 10 regencies/cities; returns how many were added."""
    added = 0
    existing = {r.code: r for r in db.session.scalars(select(Region))}
    for row in areas.region_rows():
        region = existing.get(row["code"])
        if region is None:
            db.session.add(Region(**row))
            added += 1
    db.session.flush()
    return added


def _seed_users(regions: list[Region], report: SeedReport) -> None:
    password_hash = generate_password_hash(DEMO_PASSWORD)  # one hash for all: seeding stays fast
    existing = set(db.session.scalars(select(User.username)))

    def add(username: str, full_name: str, role: str, region: Region | None, phone: str) -> None:
        if username in existing:
            return
        db.session.add(
            User(
                username=username,
                full_name=full_name,
                role=role,
                phone=phone,
                is_demo=True,
                password_hash=password_hash,
                regions=[region] if region else [],
            )
        )
        report.users += 1

    add("admin", "Admin Dinsos Kaltim", "admin", None, "081100000000")
    rng = random.Random(7)
    for i, region in enumerate(regions, start=1):
        add(
            f"koordinator{i}",
            f"{rng.choice(MALE_NAMES + FEMALE_NAMES)} {rng.choice(FAMILY_NAMES)}",
            "supervisor",
            region,
            f"0812{i:08d}",
        )
        for j in range(MENTORS_PER_REGION):
            n = (i - 1) * MENTORS_PER_REGION + j + 1
            add(
                f"pendamping{n}",
                f"{rng.choice(MALE_NAMES + FEMALE_NAMES)} {rng.choice(FAMILY_NAMES)}",
                "mentor",
                region,
                f"0813{n:08d}",
            )
    db.session.flush()


def make_nik(rng: random.Random, region_code: str, district_no: int, born: dt.date, female: bool) -> str:
    """A well-formed NIK: 64, regency, district, birth date DDMMYY (women: day + 40), serial."""
    day = born.day + (40 if female else 0)
    return f"{region_code}{district_no:02d}{day:02d}{born:%m%y}{rng.randint(1, 9999):04d}"


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _step_times(rng: random.Random, start: dt.datetime, steps: int, now: dt.datetime) -> list[dt.datetime]:
    """Increasing times for a family's status steps: weeks to verify and hand over, a few weeks until the business
    runs with the package, months after that (some struggle within the first three months)."""
    times = [start]
    for i in range(1, steps):
        gap = rng.randint(20, 60) if i <= 2 else rng.randint(7, 30) if i == 3 else rng.randint(40, 150)
        times.append(
            min(times[-1] + dt.timedelta(days=gap, hours=rng.randint(0, 6)), now - dt.timedelta(days=steps - i))
        )
    return times


def _seed_recipients(regions: list[Region], report: SeedReport, now: dt.datetime) -> None:
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    counts = dict(db.session.execute(select(Recipient.region_id, func.count()).group_by(Recipient.region_id)).all())
    mentors = {
        r.id: list(
            db.session.scalars(
                select(User).where(User.role == "mentor", User.regions.any(Region.id == r.id)).order_by(User.id)
            )
        )
        for r in regions
    }
    used_niks: set[str] = set()
    for region in regions:
        if counts.get(region.id):
            continue
        rng = random.Random(f"kail-demo-{region.code}")
        kecamatan = areas.districts_of(region.kind, region.name)
        kec_names = list(kecamatan)
        region_mentors = mentors[region.id]
        for k in range(APBD_PER_REGION + APBD_P_PER_REGION):
            female = rng.random() < 0.6  # many UEP recipients are women running home businesses
            first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
            name = f"{first} {rng.choice(FAMILY_NAMES)}"
            kec_index = rng.randrange(len(kec_names))
            kec = kec_names[kec_index]
            desa = rng.choice(kecamatan[kec])
            born = _random_date(rng, dt.date(1962, 1, 1), dt.date(1998, 12, 31))
            nik = make_nik(rng, region.code, kec_index + 1, born, female)
            while nik in used_niks:
                nik = make_nik(rng, region.code, kec_index + 1, born, female)
            used_niks.add(nik)
            kk_issued = _random_date(rng, dt.date(2008, 1, 1), dt.date(2022, 12, 31))
            kk = f"{region.code}{kec_index + 1:02d}{kk_issued:%d%m%y}{rng.randint(1, 9999):04d}"
            business = rng.choice(list(PACKAGES))
            status = rng.choices(statuses, weights)[0]
            path = PATHS[status]
            apbd_p = k >= APBD_PER_REGION
            created = dt.datetime(2025, 8 if apbd_p else 1, rng.randint(2, 28), rng.randint(1, 8))
            times = _step_times(rng, created, len(path), now)
            distributed_on = times[path.index(lifecycle.DISALURKAN)].date() if lifecycle.DISALURKAN in path else None
            located = distributed_on is not None and rng.random() < 0.7
            recipient = Recipient(
                nik=nik,
                kk_number=kk,
                name=name,
                gender="P" if female else "L",
                phone=f"08{rng.choice(['11', '12', '13', '21', '52', '53', '57'])}{rng.randint(10**7, 10**8 - 1)}",
                address=f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}",
                kecamatan=kec,
                desa=desa,
                region=region,
                decile=rng.choices([1, 2, 3, 4, 5], [30, 28, 20, 14, 8])[0],
                business_type=business,
                business_description=f"Usaha {business.lower()} di rumah, dijalankan bersama keluarga.",
                package_items=list(PACKAGES[business]),
                funding_source="APBD-P" if apbd_p else "APBD",
                budget_year=BUDGET_YEAR,
                distributed_on=distributed_on,
                mentor=region_mentors[k % len(region_mentors)] if region_mentors else None,
                business_lat=round(region.lat + rng.uniform(-0.08, 0.08), 6) if located else None,
                business_lon=round(region.lon + rng.uniform(-0.08, 0.08), 6) if located else None,
                status=status,
                created_at=created,
            )
            previous = None
            for step, when in zip(path, times, strict=True):
                recipient.status_changes.append(
                    StatusChange(
                        from_status=previous,
                        to_status=step,
                        reason=REASONS.get(step),
                        changed_at=when,
                        changed_by=recipient.mentor if previous else None,
                    )
                )
                previous = step
            db.session.add(recipient)
            report.recipients += 1
        db.session.flush()


def demo_photo(text: str, seed: int, taken_at: dt.datetime | None = None) -> bytes:
    """A generated 'photo' of a stall: coloured shapes and a caption, different for every seed.

    `taken_at` (camera local time) goes into EXIF DateTimeOriginal, as a phone camera would write it.
    """
    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), tuple(rng.randint(120, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randint(0, 900), rng.randint(0, 660)
        draw.rectangle(
            (x, y, x + rng.randint(40, 300), y + rng.randint(40, 200)),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    # Texture over the shapes, as a real photo has (flat shapes alone are "cannot be compared": webapp.photohash).
    grain = Image.new("L", (48, 36))
    grain.putdata([rng.randint(0, 255) for _ in range(48 * 36)])
    image = Image.blend(image, grain.resize(image.size, Image.Resampling.BICUBIC).convert("RGB"), 0.3)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 600, 960, 720), fill=(20, 20, 20))
    draw.text((24, 630), text, fill=(255, 255, 255), font=ImageFont.load_default(size=40))
    exif = Image.Exif()
    if taken_at is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = f"{taken_at:%Y:%m:%d %H:%M:%S}"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


ENDED = (lifecycle.KELUAR, lifecycle.TIDAK_MEMENUHI_SYARAT, lifecycle.MANDIRI)


def _seed_history(report: SeedReport, now: dt.datetime) -> None:
    """Past follow-up visits, approved, recorded from the paper forms used before Kail (so without photos).

    Most milestones (1, 3, 6, 12 months after distribution) were visited, with mentoring visits between them
    (2, 4, 9, 15, 18 months) so every month of the program has visits; about one in eight was missed, which
    makes the mentors' lists show a realistic handful of overdue families.
    """
    rng = random.Random(13)
    recipients = db.session.scalars(
        select(Recipient)
        .where(Recipient.distributed_on.is_not(None))
        .options(selectinload(Recipient.status_changes))
        .order_by(Recipient.id)
    ).all()
    rows = []
    for r in recipients:
        # Visits end when the family leaves or graduates; answers turn to struggling from the day it did.
        ended = min((c.changed_at for c in r.status_changes if c.to_status in ENDED), default=now)
        struggled = min(
            (c.changed_at for c in r.status_changes if c.to_status == lifecycle.USAHA_KESULITAN), default=now
        )
        for months in (1, 2, 3, 4, 6, 9, 12, 15, 18):
            due = schedule.add_months(r.distributed_on, months)
            when = dt.datetime.combine(due + dt.timedelta(days=rng.randint(-5, 20)), dt.time(rng.randint(0, 8)))
            if when >= min(now, ended) or rng.random() < 0.12:
                continue
            struggling = when >= struggled
            rows.append(
                Visit(
                    uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                    recipient_id=r.id,
                    mentor_id=r.mentor_id,
                    kind=visit_kinds.PENDAMPINGAN,
                    visited_at=when,
                    received_at=min(when + dt.timedelta(days=rng.randint(1, 10)), now),  # never after today
                    no_location_reason="lainnya",
                    review_state=review_states.APPROVED,
                    reviewed_at=min(when + dt.timedelta(days=12), now),
                    answers={
                        "operating": "sebagian" if struggling else "ya",
                        "turnover": rng.randrange(30_000, 120_000 if struggling else 400_000, 5_000),
                        "turnover_period": "hari",
                        "problems": ["pembeli"] if struggling else [],
                        "mentoring": "Dicatat dari formulir kertas sebelum Kail dipakai.",
                        "paper_form": True,
                    },
                )
            )
    db.session.add_all(rows)
    db.session.flush()
    report.visits += len(rows)


def _demo_photo_row(upload_dir: str, data: bytes, tag: str, rng: random.Random) -> Photo:
    upload = recording.PhotoUpload(photos.process(data), tag, str(uuid.UUID(int=rng.getrandbits(128))))
    photos.save(upload_dir, upload.processed)
    return recording.photo_row(upload)


# Recent visits in the first regency (koordinator1's) that each trip one integrity flag, so that supervisor's
# queue shows every kind.
FLAG_SCENARIOS = [
    "jauh_dari_usaha",
    "akurasi_rendah",
    "tanpa_lokasi",
    "di_luar_wilayah",
    "foto_duplikat",
    "foto_lama",
    "perjalanan_mustahil",
    "di_luar_jam",
]


def _seed_recent(report: SeedReport, now: dt.datetime) -> None:
    """The last 30 days of a program at work: in each regency a share (`RECENT_COVERAGE`) of the families still in
    the program had a visit, approved by the regency's supervisor (families that already had one keep it)."""
    since = now - dt.timedelta(days=30)
    covered = set(
        db.session.scalars(
            select(Visit.recipient_id).where(Visit.review_state == review_states.APPROVED, Visit.visited_at >= since)
        )
    )
    supervisors = {
        r.id: u for u in db.session.scalars(select(User).where(User.role == "supervisor")) for r in u.regions
    }
    rows = []
    for region in db.session.scalars(select(Region).order_by(Region.code)):
        rng = random.Random(f"kail-demo-recent-{region.code}")
        share = rng.uniform(*RECENT_COVERAGE)
        families = db.session.scalars(
            select(Recipient)
            .where(
                Recipient.region_id == region.id,
                Recipient.distributed_on.is_not(None),
                Recipient.status.not_in(lifecycle.EXITS),
            )
            .order_by(Recipient.id)
        ).all()
        for r in families:
            if rng.random() >= share or r.id in covered:
                continue
            when = now - dt.timedelta(days=rng.randint(1, 28), hours=rng.randint(8, 16), minutes=rng.randint(0, 59))
            struggling = r.status in (lifecycle.USAHA_KESULITAN, lifecycle.USAHA_BERHENTI)
            located = r.has_business_location
            reviewer = supervisors.get(region.id)
            visit = Visit(
                uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                recipient_id=r.id,
                mentor_id=r.mentor_id,
                kind=visit_kinds.PENDAMPINGAN,
                visited_at=when,
                received_at=when + dt.timedelta(minutes=rng.randint(2, 300)),
                lat=round(r.business_lat + rng.uniform(-0.0005, 0.0005), 6) if located else None,
                lon=round(r.business_lon + rng.uniform(-0.0005, 0.0005), 6) if located else None,
                accuracy_m=round(rng.uniform(5, 40), 1) if located else None,
                location_fixed_at=when if located else None,
                no_location_reason=None if located else "sinyal_lemah",
                review_state=review_states.APPROVED,
                reviewed_by=reviewer,
                reviewed_at=when + dt.timedelta(days=1),
                answers={
                    "operating": "sebagian" if struggling else "ya",
                    "turnover": rng.randrange(30_000, 120_000 if struggling else 400_000, 5_000),
                    "turnover_period": "hari",
                    "items": {item: "dipakai" for item in r.package_items},
                    "problems": ["pembeli"] if struggling else [],
                    "problem_notes": "",
                    "mentoring": "Membahas pencatatan penjualan harian dan menyisihkan modal untuk stok.",
                },
            )
            visit.decisions.append(
                ReviewDecision(
                    round=1,
                    decision=review_states.APPROVED,
                    decided_by=reviewer,
                    decided_at=when + dt.timedelta(days=1),
                )
            )
            rows.append(visit)
    db.session.add_all(rows)
    db.session.flush()
    report.visits += len(rows)


def _seed_visits(upload_dir: str, report: SeedReport, now: dt.datetime, per_mentor: int = 2) -> None:
    """Paper-era history, the last 30 days' approved visits, then two visits per mentor with photos, decisions
    and integrity flags."""
    if db.session.scalar(select(func.count()).select_from(Visit)):
        return
    _seed_history(report, now)
    _seed_recent(report, now)
    rng = random.Random(11)
    mentors = db.session.scalars(select(User).where(User.role == "mentor").order_by(User.id)).all()
    supervisors = {
        r.id: u for u in db.session.scalars(select(User).where(User.role == "supervisor")) for r in u.regions
    }
    state_cycle = [review_states.WAITING, review_states.WAITING, review_states.APPROVED, review_states.SENT_BACK]
    recent: list[Visit] = []
    first_photo_seed = None
    scenarios = list(FLAG_SCENARIOS)
    first_region = mentors[0].regions[0].id if mentors else None
    for mentor in mentors:
        in_first_region = mentor.regions and mentor.regions[0].id == first_region
        candidates = db.session.scalars(
            select(Recipient)
            .where(
                Recipient.mentor_id == mentor.id,
                Recipient.status.in_([lifecycle.USAHA_BERJALAN, lifecycle.USAHA_KESULITAN]),
                Recipient.business_lat.is_not(None),
            )
            .order_by(Recipient.id)
            .limit(per_mentor + 2 if in_first_region else per_mentor)
        ).all()
        for n, recipient in enumerate(candidates):
            first_of_all = mentor is mentors[0] and n == 0  # pendamping1's send-back, for the mentor's home
            scenario = scenarios.pop(0) if in_first_region and not first_of_all and scenarios else None
            day = now - dt.timedelta(days=rng.randint(1, 24))
            visited = day.replace(hour=rng.randint(0, 8), minute=rng.randint(0, 59))  # 08.00-16.59 WITA
            state = (
                review_states.SENT_BACK
                if first_of_all
                else (review_states.WAITING if scenario else state_cycle[(mentor.id + n) % len(state_cycle)])
            )
            lat = recipient.business_lat + rng.uniform(-0.0005, 0.0005)
            lon = recipient.business_lon + rng.uniform(-0.0005, 0.0005)
            accuracy = round(rng.uniform(5, 40), 1)
            reason = None
            taken_at = visited + dt.timedelta(hours=8, minutes=-3)  # camera clock: WITA, just before saving
            photo_seed = recipient.id * 10
            if scenario == "jauh_dari_usaha":
                lat += 0.011  # about 1.2 km north
            elif scenario == "akurasi_rendah":
                accuracy = 250.0
            elif scenario == "tanpa_lokasi":
                lat = lon = accuracy = None
                reason = "izin_ditolak"
            elif scenario == "di_luar_wilayah":
                lat, lon = -3.3194, 114.5908  # Banjarmasin, Kalimantan Selatan
            elif scenario == "foto_duplikat":
                photo_seed = first_photo_seed  # the very picture another mentor sent for another family
            elif scenario == "foto_lama":
                taken_at = visited - dt.timedelta(days=40)
            elif scenario == "di_luar_jam":
                visited = visited.replace(hour=14, minute=30)  # 22.30 WITA
                taken_at = visited + dt.timedelta(hours=8, minutes=-3)
            visit = Visit(
                uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                recipient=recipient,
                mentor=mentor,
                kind=visit_kinds.PENDAMPINGAN,
                visited_at=visited,
                received_at=visited + dt.timedelta(minutes=5),
                lat=lat,
                lon=lon,
                accuracy_m=accuracy,
                location_fixed_at=visited if lat is not None else None,
                no_location_reason=reason,
                answers={
                    "operating": "ya",
                    "turnover": rng.randrange(50_000, 400_000, 5_000),
                    "turnover_period": "hari",
                    "items": {item: "dipakai" for item in recipient.package_items},
                    "problems": [],
                    "problem_notes": "",
                    "mentoring": "Membahas pencatatan penjualan harian dan menyisihkan modal untuk stok.",
                },
                review_state=state,
            )
            db.session.add(visit)
            if state != review_states.WAITING:
                reviewer = supervisors.get(recipient.region_id)
                note = "Foto depan usaha kurang jelas; mohon foto ulang." if state == review_states.SENT_BACK else None
                reviewed_at = min(visited + dt.timedelta(days=1), now)
                visit.reviewed_by, visit.reviewed_at, visit.review_note = reviewer, reviewed_at, note
                visit.decisions.append(
                    ReviewDecision(
                        round=1,
                        decision=state,
                        note=note,
                        decided_by=reviewer,
                        decided_at=reviewed_at,
                    )
                )
            recent.append(visit)
            report.visits += 1
            for p in range(2):
                data = demo_photo(
                    f"{recipient.business_type} - {recipient.name}", seed=photo_seed + p, taken_at=taken_at
                )
                visit.photos.append(
                    _demo_photo_row(upload_dir, data, "usaha_berjalan" if p == 0 else "barang_bantuan", rng)
                )
                report.photos += 1
            if first_photo_seed is None:
                first_photo_seed = photo_seed
            if scenario == "perjalanan_mustahil":
                # The same mentor "at" another family 60 km away a quarter of an hour later.
                db.session.flush()
                other = Visit(
                    uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                    recipient=recipient,
                    mentor=mentor,
                    kind=visit_kinds.PENDAMPINGAN,
                    visited_at=visited + dt.timedelta(minutes=15),
                    received_at=visited,
                    lat=recipient.business_lat + 0.54,
                    lon=recipient.business_lon,
                    accuracy_m=12.0,
                    location_fixed_at=visited,
                    answers={"operating": "ya", "mentoring": "Kunjungan singkat."},
                    review_state=review_states.WAITING,
                )
                data = demo_photo(
                    f"{recipient.business_type} - {recipient.name} (2)",
                    seed=photo_seed + 7,
                    taken_at=visited + dt.timedelta(hours=8, minutes=14),
                )
                other.photos.append(_demo_photo_row(upload_dir, data, "usaha_berjalan", rng))
                db.session.add(other)
                recent.append(other)
                report.visits += 1
                report.photos += 1
    db.session.flush()
    for visit in sorted(recent, key=lambda v: v.visited_at):
        integrity.compute_flags(visit)
    db.session.flush()


TRAINING_TOPICS = (
    "Pembukuan sederhana dan memisahkan uang usaha",
    "Menghitung harga jual dan untung",
    "Pemasaran lewat WhatsApp dan media sosial",
    "Menjaga mutu dan kebersihan produk",
)
ASSISTANCE_OFFICES = {
    "blt": "Dinas Sosial",
    "sembako": "Kementerian Sosial",
    "pkh": "Kementerian Sosial",
    "rtlh": "Dinas Perumahan dan Permukiman",
    "sanitasi": "Dinas PUPR",
    "air_bersih": "PDAM",
}


def _seed_pillars(regions: list[Region], today: dt.date) -> None:
    """Two training sessions per regency (most distributed families attended one) and other-pillar assistance
    for about half the families, so the dashboard's three-pillar figures have something to show."""
    if db.session.scalar(select(func.count()).select_from(TrainingSession)):
        return
    rng = random.Random(2025_3)
    for region in regions:
        families = list(
            db.session.scalars(
                select(Recipient)
                .where(Recipient.region_id == region.id, Recipient.distributed_on.is_not(None))
                .order_by(Recipient.id)
            )
        )
        for n, topic in enumerate(rng.sample(TRAINING_TOPICS, 2)):
            session = TrainingSession(
                region=region,
                held_on=dt.date(BUDGET_YEAR, 4 + 3 * n, 10 + n),
                place=f"Aula Kantor Dinas Sosial {region.name}",
                topic=topic,
            )
            session.attendees = [f for f in families if rng.random() < 0.7]
            db.session.add(session)
        for family in families:
            for kind in ASSISTANCE_OFFICES:
                chance = 0.35 if kind in ("blt", "sembako", "pkh") else 0.08
                if rng.random() < chance:
                    db.session.add(
                        OtherAssistance(
                            recipient=family,
                            kind=kind,
                            office=ASSISTANCE_OFFICES[kind],
                            received_on=_random_date(rng, dt.date(2024, 1, 1), today),
                        )
                    )
    db.session.flush()


def seed_demo(upload_dir: str, visits_per_mentor: int = 2, today: dt.date | None = None) -> SeedReport:
    """Load everything that is missing, histories ending on `today` (WITA; default: today); the caller commits."""
    today = today or localtime.today()
    now = localtime.day_start(today)  # every generated time lies before the day of loading began
    report = SeedReport()
    report.regions = seed_regions()
    regions = list(db.session.scalars(select(Region).order_by(Region.code)))
    _seed_users(regions, report)
    _seed_recipients(regions, report, now)
    _seed_visits(upload_dir, report, now, per_mentor=visits_per_mentor)
    _seed_pillars(regions, today)
    report.logins = ["admin", "koordinator1 … koordinator10", "pendamping1 … pendamping30"]
    return report
