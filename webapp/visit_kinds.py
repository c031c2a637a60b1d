"""The visit vocabulary: the kinds of visit, what each asks and concludes, its answer codes and the photo tags.

Adding a kind of visit means adding one `VisitKind` to `KINDS` here, plus its template
`templates/visits/kinds/_<code>.html` (the questions it asks). Forms, recording, the schedule, the dashboard,
histories and exports all read the kinds from here; nothing here needs a request or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from . import lifecycle

# --- answer codes, as stored in Visit.answers, and what people read ---------------------------------------------

ITEM_CONDITIONS = [
    ("dipakai", _l("Ada, dipakai")),
    ("tidak_dipakai", _l("Ada, tidak dipakai")),
    ("dijual", _l("Dijual")),
    ("rusak", _l("Rusak")),
    ("hilang", _l("Hilang")),
]
ITEM_IN_USE = "dipakai"
NO_LOCATION_REASONS = [
    ("izin_ditolak", _l("Izin lokasi ditolak di HP")),
    ("gps_mati", _l("GPS mati atau tidak ada di HP")),
    ("sinyal_lemah", _l("Sinyal GPS lemah, lokasi tidak didapat")),
    ("lainnya", _l("Alasan lain")),
]
PROBLEMS = [
    ("modal", _l("Modal kurang")),
    ("pembeli", _l("Sepi pembeli")),
    ("bahan", _l("Bahan baku mahal atau langka")),
    ("alat", _l("Alat rusak")),
    ("tempat", _l("Tempat usaha")),
    ("keluarga", _l("Sakit atau urusan keluarga")),
    ("lainnya", _l("Lainnya")),
]
OPERATING = [("ya", _l("Ya")), ("sebagian", _l("Sebagian")), ("tidak", _l("Tidak"))]
NOT_OPERATING = "tidak"
TURNOVER_PERIODS = [("hari", _l("hari")), ("minggu", _l("minggu"))]
EMBRYO = [("ya", _l("Ya")), ("tidak", _l("Tidak"))]
ELIGIBILITY = [("layak", _l("Layak menerima")), ("tidak_layak", _l("Tidak layak"))]
DECILES = tuple(range(1, 6))  # registry deciles (DTKS, now DTSEN) the program serves

ANSWER_LABELS = {
    **dict(ITEM_CONDITIONS),
    **dict(PROBLEMS),
    **dict(NO_LOCATION_REASONS),
    **dict(OPERATING),
    **dict(TURNOVER_PERIODS),
    **dict(EMBRYO),
    **dict(ELIGIBILITY),
}


def answer_label(code) -> str:
    """A stored answer code as people read it (unknown codes as they are)."""
    return str(ANSWER_LABELS.get(code, code))


# --- photos --------------------------------------------------------------------------------------------------

PHOTO_TAG_LABELS = {
    "usaha_berjalan": _l("Usaha berjalan"),
    "barang_bantuan": _l("Barang bantuan"),
    "serah_terima": _l("Serah terima"),
    "nota_pembelian": _l("Nota pembelian"),
}
PHOTO_TAGS = tuple(PHOTO_TAG_LABELS)
OTHER_PHOTO_TAG = "barang_bantuan"  # preselected for every photo slot after the first
MAX_PHOTOS = 5


def photo_tag_label(tag: str) -> str:
    return str(PHOTO_TAG_LABELS.get(tag, tag))


# --- the kinds -----------------------------------------------------------------------------------------------

Values = Mapping[str, Any]
"""What a filled-in visit form carries, cleaned: field name -> value (`turnover` already parsed to an int or
None, `items` the condition of each package item, `received` the items handed over)."""


def _text(values: Values, name: str) -> str:
    return (values.get(name) or "").strip()


@dataclass(frozen=True)
class Required:
    """An answer a kind of visit must have: `field` may not be empty, unless `unless` = (field, value) holds.

    Declarative on purpose: the server checks these (`missing_answers`) and the phone reads the very same list,
    exported into the form page, to refuse offline what the server would refuse (DECISIONS: "Offline").
    """

    field: str
    message: Any
    unless: tuple[str, str] | None = None

    def missing(self, values: Values) -> bool:
        if self.unless and values.get(self.unless[0]) == self.unless[1]:
            return False
        value = values.get(self.field)
        return value is None or (isinstance(value, str | list | tuple | dict) and not value)


@dataclass(frozen=True)
class VisitKind:
    """One kind of visit: its names, when it is offered, what it concludes, what it asks and which photo it needs."""

    code: str
    label: Any  # short, on the form's kind switch
    title: Any  # in histories, review cards and exports
    offered_at: frozenset[str]  # the family statuses at which the form offers this kind
    concludes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    """From a status: (the status preselected, the statuses accepted). Such a visit must set one of them."""
    required_tag: str | None = None  # a photo with this tag must be among the visit's photos
    first_tag: str = "usaha_berjalan"  # preselected for the first photo slot
    asks_items: bool = False  # the condition of each package item
    asks_received: bool = False  # which package items the family received
    is_followup: bool = False  # counts as the follow-up that the schedule and the dashboard measure
    answers: Callable[[Values], dict] = lambda values: {}
    """The kind's own answers, as stored in `Visit.answers` (beside the `mentoring` notes every kind has)."""
    requires: tuple[Required, ...] = ()
    """The kind's required answers, in the order the form asks them."""


def _followup_answers(v: Values) -> dict:
    operating = v.get("operating")
    return {
        "operating": operating,
        "items": dict(v.get("items") or {}),
        "turnover": v.get("turnover") if operating != NOT_OPERATING else 0,
        "turnover_period": v.get("turnover_period") or "hari",
        "problems": list(v.get("problems") or []),
        "problem_notes": _text(v, "problem_notes"),
    }


def _verification_answers(v: Values) -> dict:
    return {
        "decile": int(v["decile"]),
        "embryo": v.get("embryo"),
        "embryo_notes": _text(v, "embryo_notes"),
        "eligible": v.get("eligible"),
    }


PENDAMPINGAN, PENYALURAN, VERIFIKASI = "pendampingan", "penyaluran", "verifikasi"
_BEFORE_HANDOVER = frozenset({lifecycle.CALON, lifecycle.TERVERIFIKASI})

# In the order the form's kind switch shows them; at each status the first one offered is preselected.
KINDS: dict[str, VisitKind] = {
    k.code: k
    for k in (
        VisitKind(
            PENDAMPINGAN,
            _l("Pendampingan"),
            _l("Kunjungan pendampingan"),
            offered_at=frozenset(lifecycle.STATUSES) - _BEFORE_HANDOVER,
            required_tag="usaha_berjalan",
            asks_items=True,
            is_followup=True,
            answers=_followup_answers,
            requires=(
                Required("operating", _l("Pilih apakah usaha beroperasi hari ini.")),
                Required(
                    "turnover", _l("Isi perkiraan omzet (boleh perkiraan kasar)."), unless=("operating", NOT_OPERATING)
                ),
            ),
        ),
        VisitKind(
            PENYALURAN,
            _l("Penyaluran"),
            _l("Penyaluran bantuan"),
            offered_at=frozenset({lifecycle.TERVERIFIKASI}),
            concludes={lifecycle.TERVERIFIKASI: (lifecycle.DISALURKAN, (lifecycle.DISALURKAN,))},
            required_tag="serah_terima",
            first_tag="serah_terima",
            asks_received=True,
            answers=lambda v: {"received": list(v.get("received") or [])},
            requires=(Required("received", _l("Centang barang yang diterima keluarga.")),),
        ),
        VisitKind(
            VERIFIKASI,
            _l("Verifikasi"),
            _l("Kunjungan verifikasi"),
            offered_at=_BEFORE_HANDOVER,
            concludes={
                lifecycle.CALON: (lifecycle.TERVERIFIKASI, (lifecycle.TERVERIFIKASI, lifecycle.TIDAK_MEMENUHI_SYARAT))
            },
            answers=_verification_answers,
            requires=(
                Required("decile", _l("Pilih desil hasil pengecekan.")),
                Required("embryo", _l("Pilih apakah sudah ada usaha.")),
                Required("eligible", _l("Pilih kesimpulan verifikasi.")),
            ),
        ),
    )
}
CODES = tuple(KINDS)
FOLLOWUP_KINDS = tuple(code for code, kind in KINDS.items() if kind.is_followup)


def get(code: str) -> VisitKind | None:
    return KINDS.get(code)


def kinds_offered(status: str) -> tuple[str, ...]:
    """The kinds of visit the form offers for a family at `status`, the preselected one first."""
    return tuple(code for code, kind in KINDS.items() if status in kind.offered_at)


def concluding(kind: str, status: str) -> tuple[str, tuple[str, ...]] | None:
    """(preselected, accepted) statuses when a visit of `kind` at `status` must conclude with one; else None."""
    visit_kind = KINDS.get(kind)
    return visit_kind.concludes.get(status) if visit_kind else None


def kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return str(kind.label) if kind else code


def kind_title(code: str) -> str:
    kind = KINDS.get(code)
    return str(kind.title) if kind else code


def answers_for(code: str, values: Values) -> dict:
    """The answers a visit of kind `code` stores: every kind's mentoring notes plus the kind's own."""
    return {"mentoring": _text(values, "mentoring"), **KINDS[code].answers(values)}


def missing_answers(code: str, values: Values) -> dict[str, Any]:
    """field name -> message for each answer a visit of kind `code` must have and lacks."""
    return {r.field: r.message for r in KINDS[code].requires if r.missing(values)}
