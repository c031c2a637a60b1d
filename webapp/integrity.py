"""Integrity flags: computed when a visit arrives, stored with their evidence, explained to the supervisor.

Each check is a small function of the visit (and, for duplicates and travel, of other stored data); none blocks
saving: flags help the supervisor's eye, they never refuse a mentor's work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ARRAY, BigInteger, Integer, bindparam, select, text, union_all

from . import access, formatting, photohash, visit_kinds
from .areas import KALTIM_BOUNDS, region_radius_km
from .extensions import db
from .localtime import to_wita, wita_date
from .models import EvidenceFlag, Photo, Recipient, User, Visit
from .schedule import haversine_km


@dataclass(frozen=True)
class Thresholds:
    accuracy_m: float = 100.0  # akurasi_rendah beyond this
    distance_m: float = 300.0  # jauh_dari_usaha beyond this
    duplicate_bits: int = photohash.LOOKUP_MAX  # foto_duplikat: lookup hash at most this many bits apart (of 64)
    duplicate_check_bits: int = photohash.CHECK_MAX  # ... and the check hash at most this many (of 256)
    old_photo_days: float = 3.0  # foto_lama when taken this long before the visit
    max_speed_kmh: float = 120.0  # perjalanan_mustahil above this
    min_travel_km: float = 2.0  # GPS noise: shorter moves never count as travel
    work_start_hour: int = 6  # di_luar_jam before this (WITA)
    work_end_hour: int = 20  # di_luar_jam from this hour on (WITA)
    region_margin_km: float = 0.0  # extra tolerance on a regency's radius

    @classmethod
    def from_config(cls, config) -> Thresholds:
        return cls(accuracy_m=config.get("FLAG_ACCURACY_M", 100.0), distance_m=config.get("FLAG_DISTANCE_M", 300.0))


FLAG_LABELS = {
    "tanpa_lokasi": _l("Tanpa lokasi"),
    "akurasi_rendah": _l("Akurasi GPS rendah"),
    "jauh_dari_usaha": _l("Jauh dari lokasi usaha"),
    "di_luar_wilayah": _l("Di luar wilayah"),
    "foto_duplikat": _l("Foto duplikat"),
    "foto_lama": _l("Foto lama"),
    # What a supervisor would say of two points too far apart for the time between them (the code stays).
    "perjalanan_mustahil": _l("Perjalanan terlalu cepat"),
    "di_luar_jam": _l("Di luar jam kerja"),
}


def flag_help(t: Thresholds) -> dict[str, str]:
    """What each flag means for the mentor, and how to avoid it (the help page), with the limits in force."""
    texts = {
        "tanpa_lokasi": _l("Tidak ada titik GPS. Nyalakan GPS dan tekan \u201cAmbil lokasi\u201d di depan usaha."),
        "akurasi_rendah": _l(
            "Titik GPS kurang tepat (lebih dari %(limit)s m). Tunggu beberapa detik di tempat "
            "terbuka sampai akurasi membaik.",
            limit=formatting.number(t.accuracy_m),
        ),
        "jauh_dari_usaha": _l(
            "Titik kunjungan lebih dari %(limit)s m dari lokasi usaha yang terdaftar. Ambil lokasi "
            "di tempat usaha, bukan di jalan atau di rumah.",
            limit=formatting.number(t.distance_m),
        ),
        "di_luar_wilayah": _l("Titik kunjungan di luar kabupaten/kota keluarga ini, atau di luar Kalimantan Timur."),
        "foto_duplikat": _l("Foto sama dengan foto kunjungan lain. Setiap kunjungan perlu foto baru hari itu."),
        "foto_lama": _l("Foto diambil lebih dari 3 hari sebelum kunjungan. Ambil foto baru saat berkunjung."),
        "perjalanan_mustahil": _l(
            "Dua kunjungan Anda terlalu jauh untuk waktu yang sedekat itu (lebih dari 120 "
            "km/jam). Periksa jam HP dan catat kunjungan saat berada di tempat."
        ),
        "di_luar_jam": _l("Kunjungan di luar pukul 06.00\u201320.00 WITA."),
    }
    return {code: str(text) for code, text in texts.items()}


def format_distance(metres: float) -> str:
    """'850 m' or '60,0 km', through the one number formatter."""
    return formatting.distance(metres)


def _figure(value, formatter) -> str:
    """A stored number through the formatter; '?' when the evidence lacks it."""
    return formatter(value) if isinstance(value, int | float) else "?"


def _photo_time(text: str | None) -> str:
    """The camera's stored 'YYYY-MM-DD HH:MM' (local time, WITA) as '20 Nov 2026, 09.15'."""
    try:
        taken = dt.datetime.strptime(text or "", "%Y-%m-%d %H:%M")
    except ValueError:
        return text or "?"
    return f"{formatting.day(taken.date())}, {taken:%H.%M}"


def _other_visit_day(evidence: dict) -> str:
    """The WITA day of the other visit a duplicate photo belongs to (evidence stored before this kept a UTC day)."""
    other = db.session.get(Visit, evidence["other_visit_id"]) if evidence.get("other_visit_id") else None
    if other is not None:
        return formatting.day(wita_date(other.visited_at))
    return evidence.get("other_date", "?")


def _current_viewer() -> User | None:
    """The signed-in user of this request, if any (templates pass theirs explicitly)."""
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()
    return None


def other_family(evidence: dict, viewer: User | None) -> str:
    """Who the other photo belongs to, as `viewer` may know it: the family's name only if `viewer` may see that
    family, otherwise "keluarga di wilayah lain" (no name, NIK or link). Nobody signed in sees no name."""
    recipient = None
    if evidence.get("other_recipient_id"):
        recipient = db.session.get(Recipient, evidence["other_recipient_id"])
    elif evidence.get("other_visit_id"):  # evidence stored before the recipient's id was kept
        other_visit = db.session.get(Visit, evidence["other_visit_id"])
        recipient = other_visit.recipient if other_visit is not None else None
    signed_in = getattr(viewer, "is_authenticated", False)
    if recipient is not None and signed_in and access.can_see_recipient(viewer, recipient):
        return recipient.name
    return str(_l("keluarga di wilayah lain"))


def explain(flag: EvidenceFlag, viewer: User | None = None) -> str:
    """One line in Indonesian saying what was seen, with its numbers, as `viewer` may see it.

    The evidence is stored when the visit arrives; what it names is decided here, per viewer: another family's
    name only for someone who may see that family. Without `viewer`, the signed-in user of the request.
    """
    e = flag.evidence or {}
    if viewer is None:
        viewer = _current_viewer()
    code = flag.code
    if code == "tanpa_lokasi":
        # The label in the reader's language (the stored `reason_label` is the Indonesian one, kept for old rows).
        reason = visit_kinds.answer_label(e["reason"]) if e.get("reason") else e.get("reason_label")
        return str(_l("Tidak ada titik GPS. Alasan pendamping: %(reason)s.", reason=reason or "—"))
    if code == "akurasi_rendah":
        return str(
            _l(
                "Akurasi GPS ± %(acc)s m (batas %(limit)s m): lokasi tidak bisa dipastikan.",
                acc=formatting.number(e.get("accuracy_m", 0)),
                limit=formatting.number(e.get("limit_m", 0)),
            )
        )
    if code == "jauh_dari_usaha":
        return str(
            _l(
                "Titik kunjungan %(d)s dari lokasi usaha yang terdaftar (batas %(limit)s m).",
                d=formatting.distance(e.get("distance_m", 0)),
                limit=formatting.number(e.get("limit_m", 0)),
            )
        )
    if code == "di_luar_wilayah":
        if e.get("outside") == "kaltim":
            return str(_l("Titik kunjungan di luar Kalimantan Timur."))
        return str(
            _l(
                "Titik kunjungan %(d)s km dari pusat %(region)s (radius wilayah ± %(r)s km).",
                d=formatting.number(e.get("distance_km", 0)),
                region=e.get("region", ""),
                r=formatting.number(e.get("radius_km", 0)),
            )
        )
    if code == "foto_duplikat" and "not_comparable" in e:
        return str(
            _l(
                "Foto %(n)s tidak bisa dibandingkan dengan foto lain (terlalu gelap, polos atau buram): "
                "tidak dicek apakah duplikat.",
                n=", ".join(str(i) for i in e["not_comparable"]) or "?",
            )
        )
    if code == "foto_duplikat":
        # The hash distance in bits means nothing to a supervisor: "the same" or "almost the same" does.
        words = dict(n=e.get("photo_index", "?"), who=other_family(e, viewer), date=_other_visit_day(e))
        if e.get("bits") == 0:
            return str(_l("Foto %(n)s sama persis dengan foto kunjungan lain (%(who)s, %(date)s).", **words))
        return str(_l("Foto %(n)s hampir sama dengan foto kunjungan lain (%(who)s, %(date)s).", **words))
    if code == "foto_lama":
        if e.get("exif") == "absent":
            return str(_l("Waktu pengambilan foto tidak tercatat di foto (EXIF kosong); tidak bisa dicek."))
        return str(
            _l(
                "Foto %(n)s diambil %(days)s hari sebelum kunjungan (%(taken)s).",
                n=e.get("photo_index", "?"),
                days=_figure(e.get("days"), formatting.decimal),
                taken=_photo_time(e.get("taken_at")),
            )
        )
    if code == "perjalanan_mustahil":
        return str(
            _l(
                "%(km)s km dari kunjungan lain pendamping ini dalam %(min)s menit (± %(speed)s km/jam).",
                km=_figure(e.get("km"), formatting.decimal),
                min=_figure(e.get("minutes"), formatting.number),
                speed=_figure(e.get("speed_kmh"), formatting.number),
            )
        )
    if code == "di_luar_jam":
        return str(_l("Kunjungan pukul %(time)s WITA, di luar jam 06.00–20.00.", time=e.get("local_time", "?")))
    return code


def flag_label(code: str | EvidenceFlag) -> str:
    """The flag's name; given a stored flag, "Tidak bisa dibandingkan" for the note on photos that could not be
    checked for duplicates (it is not a duplicate)."""
    if isinstance(code, EvidenceFlag):
        if code.code == "foto_duplikat" and "not_comparable" in (code.evidence or {}):
            return str(_l("Foto tidak bisa dibandingkan"))
        code = code.code
    return str(FLAG_LABELS.get(code, code))


# --- the checks ---------------------------------------------------------------------------------------------


def _location_flags(visit: Visit, t: Thresholds) -> list[EvidenceFlag]:
    if visit.lat is None or visit.lon is None:
        reason = visit.no_location_reason
        label = visit_kinds.answer_label(reason) if reason else None
        return [EvidenceFlag(code="tanpa_lokasi", evidence={"reason": reason, "reason_label": label})]
    flags = []
    if visit.accuracy_m is not None and visit.accuracy_m > t.accuracy_m:
        flags.append(
            EvidenceFlag(code="akurasi_rendah", evidence={"accuracy_m": visit.accuracy_m, "limit_m": t.accuracy_m})
        )
    recipient = visit.recipient
    if recipient.has_business_location:
        metres = haversine_km(visit.lat, visit.lon, recipient.business_lat, recipient.business_lon) * 1000
        if metres > t.distance_m:
            flags.append(
                EvidenceFlag(code="jauh_dari_usaha", evidence={"distance_m": round(metres), "limit_m": t.distance_m})
            )
    (lat_min, lat_max), (lon_min, lon_max) = KALTIM_BOUNDS
    if not (lat_min <= visit.lat <= lat_max and lon_min <= visit.lon <= lon_max):
        flags.append(EvidenceFlag(code="di_luar_wilayah", evidence={"outside": "kaltim"}))
    else:
        region = recipient.region
        km = haversine_km(visit.lat, visit.lon, region.lat, region.lon)
        radius = region_radius_km(region.code) + t.region_margin_km
        if km > radius:
            flags.append(
                EvidenceFlag(
                    code="di_luar_wilayah",
                    evidence={
                        "outside": "region",
                        "distance_km": round(km, 1),
                        "radius_km": radius,
                        "region": region.full_name,
                    },
                )
            )
    return flags


def _neighbour_values(value: int) -> list[int]:
    """A 16-bit band value and every value one bit away from it."""
    return [value] + [value ^ (1 << bit) for bit in range(16)]


BAND_COLUMNS = (Photo.phash_b0, Photo.phash_b1, Photo.phash_b2, Photo.phash_b3)
_MASK64 = (1 << 64) - 1


# PostgreSQL: one fixed statement (prepared once per connection by the driver, never recompiled): each band an
# index-only scan of (band, lookup hash, id), the lookup distance tested on the index entries.
_PG_CANDIDATES = text(
    " UNION ALL ".join(
        f"SELECT id, phash_lookup FROM photos WHERE phash_b{band} = ANY(:b{band}) AND ("  # noqa: S608 - band numbers only
        + " OR ".join(f"bit_count((phash_lookup # :p{i})::bit(64)) <= :max_bits" for i in range(photohash.PROBES))
        + ")"
        for band in range(len(BAND_COLUMNS))
    )
).bindparams(
    *(bindparam(f"b{band}", type_=ARRAY(Integer)) for band in range(len(BAND_COLUMNS))),
    *(bindparam(f"p{i}", type_=BigInteger) for i in range(photohash.PROBES)),
    bindparam("max_bits", type_=Integer),
)


def candidate_query(lookups: list[int], max_bits: int = photohash.LOOKUP_MAX):
    """(id, phash_lookup) of the photos whose band equals, or is one bit from, a band of one of `lookups`: one
    index-only scan a band; on PostgreSQL only those whose lookup hash is within `max_bits` (elsewhere the caller
    tests that)."""
    values: list[set[int]] = [set() for _ in BAND_COLUMNS]
    for lookup in lookups:
        for band, value in enumerate(photohash.bands(lookup)):
            values[band].update(_neighbour_values(value))
    if db.session.get_bind().dialect.name == "postgresql":
        probes = [photohash.signed64(v) for v in lookups] + [photohash.signed64(lookups[0])] * photohash.PROBES
        return _PG_CANDIDATES.bindparams(
            max_bits=max_bits,
            **{f"b{band}": sorted(v) for band, v in enumerate(values)},
            **{f"p{i}": probes[i] for i in range(photohash.PROBES)},
        ).columns(Photo.id, Photo.phash_lookup)
    return union_all(
        *(
            select(Photo.id, Photo.phash_lookup).where(c.in_(sorted(v)))
            for c, v in zip(BAND_COLUMNS, values, strict=True)
        )
    )


def similar_photos(
    phash: str,
    max_bits: int = photohash.LOOKUP_MAX,
    exclude_visit_id: int | None = None,
    check_bits: int = photohash.CHECK_MAX,
) -> list[tuple[Photo, int]]:
    """Stored photos that show the same picture as `phash` (a stored hash text): for one of its probes, the
    stored lookup hash is within `max_bits` and the check hash within `check_bits` (photohash.is_duplicate);
    closest first, with their lookup distance; found through the band indexes. A picture that cannot be compared
    (`photohash.NOT_COMPARABLE`) matches nothing, and is never a candidate itself.

    Pigeonhole: two 64-bit hashes at most 7 bits apart have, in at least one of the four 16-bit bands,
    at most one differing bit. So every match of a probe is among the photos whose band equals the probe's or
    one of its 16 one-bit neighbours, for some band: 4 x 17 indexed values a probe, 3 probes. Each band index
    holds (band, lookup hash, id), so the candidates (~0.3 % of the table) are read from the indexes alone, and
    their lookup distance is tested there (in SQL on PostgreSQL, in Python elsewhere); only the few within
    `max_bits` are fetched as rows and their check hash compared. The near rule (photohash.is_duplicate: up to
    10 lookup bits when a band differs in at most one bit and the check hash is very close) needs no other
    index read: its pairs are among the same candidates, fetched when within 10 bits.
    """
    if max_bits > 2 * len(BAND_COLUMNS) - 1:
        raise ValueError("the band index guarantees recall only up to 7 differing bits")
    target = photohash.parse(phash)
    if target is None:
        return []
    lookups = sorted({probe.lookup for probe in target.probes})
    fetch_bits = max(max_bits, photohash.NEAR_LOOKUP_MAX)  # the near rule's candidates come from the same scans
    near = {
        photo_id
        for photo_id, stored in db.session.execute(candidate_query(lookups, fetch_bits))
        if any(((stored & _MASK64) ^ lookup).bit_count() <= fetch_bits for lookup in lookups)
    }
    if not near:
        return []
    query = select(Photo).where(Photo.id.in_(near))
    if exclude_visit_id is not None:
        query = query.where(Photo.visit_id != exclude_visit_id)
    matches = []
    for photo in db.session.scalars(query):
        stored = photohash.parse(photo.phash)
        if stored is not None and photohash.is_duplicate(target, stored, max_bits, check_bits):
            matches.append((photo, photohash.distance(target, stored)[0]))
    return sorted(matches, key=lambda m: (m[1], m[0].id))


def _duplicate_flags(visit: Visit, t: Thresholds) -> list[EvidenceFlag]:
    not_comparable = []
    for index, photo in enumerate(visit.photos, start=1):
        if not photo.comparable:  # dark, flat: its hash says nothing, so it is neither flagged nor a match
            not_comparable.append(index)
            continue
        for other, bits in similar_photos(
            photo.phash, t.duplicate_bits, exclude_visit_id=visit.id, check_bits=t.duplicate_check_bits
        ):
            other_visit = other.visit
            same_recipient = other_visit.recipient_id == visit.recipient_id
            if same_recipient and other_visit.visited_at >= visit.visited_at:
                continue  # only an *earlier* visit of the same family makes this photo old evidence
            # No name here: who the other family is is decided when the flag is shown, per viewer (explain).
            return [
                EvidenceFlag(
                    code="foto_duplikat",
                    evidence={
                        "photo_index": index,
                        "photo_id": photo.id,
                        "other_photo_id": other.id,
                        "other_visit_id": other_visit.id,
                        "other_recipient_id": other_visit.recipient_id,
                        "same_recipient": same_recipient,
                        "other_date": f"{other_visit.visited_at:%Y-%m-%d}",
                        "bits": bits,
                    },
                )
            ]
    if not_comparable:
        return [EvidenceFlag(code="foto_duplikat", severity="info", evidence={"not_comparable": not_comparable})]
    return []


def _old_photo_flags(visit: Visit, t: Thresholds) -> list[EvidenceFlag]:
    if not visit.photos:
        return []
    visited_local = to_wita(visit.visited_at).replace(tzinfo=None)
    with_time = [(i, p) for i, p in enumerate(visit.photos, start=1) if p.exif_taken_at is not None]
    for index, photo in with_time:
        # Phone cameras write local time without a zone: read it as WITA.
        age = visited_local - photo.exif_taken_at
        if age > dt.timedelta(days=t.old_photo_days):
            return [
                EvidenceFlag(
                    code="foto_lama",
                    evidence={
                        "photo_index": index,
                        "days": round(age.total_seconds() / 86400, 1),
                        "taken_at": f"{photo.exif_taken_at:%Y-%m-%d %H:%M}",
                    },
                )
            ]
    if not with_time:
        return [EvidenceFlag(code="foto_lama", severity="info", evidence={"exif": "absent"})]
    return []


def _travel_flags(visit: Visit, t: Thresholds) -> list[EvidenceFlag]:
    if visit.lat is None or visit.mentor_id is None:
        return []
    window = dt.timedelta(hours=12)
    # Plain rows of four columns: a busy day's visits as ORM objects with their answers cost 10x more.
    others = db.session.execute(
        select(Visit.id, Visit.lat, Visit.lon, Visit.visited_at).where(
            Visit.mentor_id == visit.mentor_id,
            Visit.id != visit.id,
            Visit.lat.is_not(None),
            Visit.visited_at.between(visit.visited_at - window, visit.visited_at + window),
        )
    )
    worst = None
    for other in others:
        km = haversine_km(visit.lat, visit.lon, other.lat, other.lon)
        if km < t.min_travel_km:
            continue
        hours = max(abs((visit.visited_at - other.visited_at).total_seconds()) / 3600, 1 / 60)
        speed = km / hours
        if speed > t.max_speed_kmh and (worst is None or speed > worst["speed_kmh"]):
            worst = {
                "other_visit_id": other.id,
                "km": round(km, 1),
                "minutes": round(hours * 60),
                "speed_kmh": round(speed),
            }
    return [EvidenceFlag(code="perjalanan_mustahil", evidence=worst)] if worst else []


def _hours_flags(visit: Visit, t: Thresholds) -> list[EvidenceFlag]:
    local = to_wita(visit.visited_at)
    if local.hour < t.work_start_hour or local.hour >= t.work_end_hour:
        return [EvidenceFlag(code="di_luar_jam", evidence={"local_time": f"{local:%H.%M}"})]
    return []


CHECKS = (_location_flags, _duplicate_flags, _old_photo_flags, _travel_flags, _hours_flags)


def compute_flags(visit: Visit, thresholds: Thresholds | None = None) -> list[EvidenceFlag]:
    """(Re)compute the visit's flags and attach them; the visit and its photos must be flushed (have ids)."""
    t = thresholds or Thresholds()
    flags = [flag for check in CHECKS for flag in check(visit, t)]
    if visit.flags:  # recomputing (a resubmission): old flags go first, or (visit, code) would clash
        visit.flags.clear()
        db.session.flush()
    visit.flags.extend(flags)
    return flags
