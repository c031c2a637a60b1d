"""The visit form: the fields every kind shares, plus what verification and hand-over add.

Per-item conditions (`item-N`), received items (`received`) and photo slots (`photo-N`, `tag-N`) depend on the
family's package and are read by `parse_dynamic` below, so the whole form is validated in one pass.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    DateField,
    FloatField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import lifecycle, photos, visit_kinds
from ..formtools import KailForm, add_error, as_choices
from ..recording import PhotoUpload
from ..visit_kinds import (
    ELIGIBILITY,
    EMBRYO,
    ITEM_CONDITIONS,
    MAX_PHOTOS,
    NO_LOCATION_REASONS,
    OPERATING,
    PHOTO_TAG_LABELS,
    PROBLEMS,
    TURNOVER_PERIODS,
)

MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_BACKDATE = dt.timedelta(days=60)  # a phone may keep a visit offline for weeks, not months


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


TURNOVER_MAX = 1_000_000_000
TURNOVER_FORMAT = _l(
    "Tulis omzet dalam rupiah penuh dengan angka saja, misalnya 1.500.000 (bukan \u201c1,5 juta\u201d)."
)
TURNOVER_TOO_LARGE = _l("Omzet terlalu besar; periksa lagi angkanya.")
LOCATION_MISSING = _l("Ambil lokasi, atau pilih alasan kenapa lokasi tidak bisa diambil.")
PHOTO_MISSING = _l("Tambahkan minimal satu foto.")
NOTHING_CORRECTED = _l("Belum ada yang diperbaiki: tambahkan foto baru atau ubah isian sesuai catatan koordinator.")
PHOTO_NOT_ARRIVED = _l("foto ini belum sampai di server; HP akan mengirimnya lagi.")


# The messages the server and the phone (client_rules) both give: one wording each.
def item_missing(item):
    return _l("%(item)s: pilih kondisi barang.", item=item)


def tag_missing(slot):
    return _l("Foto %(n)s: pilih isi foto.", n=slot)


def photo_problem(slot, problem):
    return _l("Foto %(n)s: %(problem)s", n=slot, problem=problem)


def tag_required(tag):
    return _l("Sertakan minimal satu foto “%(tag)s”.", tag=PHOTO_TAG_LABELS[tag])


def concluding_message(accepted):
    return _l(
        "Kunjungan ini menentukan status: pilih %(choices)s.",
        choices=" / ".join(lifecycle.status_label(s) for s in accepted),
    )


RUPIAH_RE = re.compile(r"^(?:rp\.?\s*)?(\d{1,3}(?:[.,\s]\d{3})+|\d+)$", re.IGNORECASE)


def parse_rupiah(text: str | None) -> int | None:
    """'Rp 1.250.000', '1,250,000' or '1250000' -> 1250000; None when empty or not a plain whole amount.

    Anything else ('1,5 juta', '2jt', '12abc', '-5000', '150.000,00') is refused rather than guessed at:
    keeping only the digits would store '1,5 juta' as 15.
    """
    match = RUPIAH_RE.match((text or "").strip())
    return int(re.sub(r"\D", "", match.group(1))) if match else None


def parse_client_time(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """An ISO time from the phone as naive UTC; None if absent, unreadable or implausible."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if value > now + MAX_CLOCK_SKEW or value < now - MAX_BACKDATE:
        return None
    return value


def parse_exif_time(text: str | None) -> dt.datetime | None:
    """'2026:11:20 09:15:00' (EXIF, camera local time) or ISO; None when absent or implausible."""
    if not text:
        return None
    text = text.strip()[:19]
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return value if dt.datetime(2000, 1, 1) <= value <= dt.datetime(2100, 1, 1) else None
    return None


class VisitForm(KailForm):
    uuid = HiddenField(validators=[InputRequired()])
    kind = HiddenField(validators=[InputRequired()])
    visited_at = HiddenField()
    location_fixed_at = HiddenField()
    lat = FloatField(
        _l("Lintang"), validators=[Optional(), NumberRange(-90, 90, _l("Lintang harus antara -90 dan 90."))]
    )
    lon = FloatField(
        _l("Bujur"), validators=[Optional(), NumberRange(-180, 180, _l("Bujur harus antara -180 dan 180."))]
    )
    accuracy = FloatField(
        _l("Akurasi (m)"), validators=[Optional(), NumberRange(0, 100_000, _l("Akurasi tidak masuk akal."))]
    )
    no_location_reason = SelectField(
        _l("Alasan tanpa lokasi"),
        choices=as_choices([("", _l("— pilih alasan —")), *NO_LOCATION_REASONS]),
        validators=[Optional()],
    )

    # Follow-up (pendampingan)
    operating = RadioField(_l("Usaha beroperasi hari ini?"), choices=as_choices(OPERATING), validators=[Optional()])
    turnover = StringField(
        _l("Perkiraan omzet (Rp)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "0"},
    )
    turnover_period = RadioField(
        _l("Omzet per"), default="hari", validators=[Optional()], choices=as_choices(TURNOVER_PERIODS)
    )
    problems = MultiCheckboxField(_l("Kendala"), choices=as_choices(PROBLEMS), validators=[Optional()])
    problem_notes = TextAreaField(_l("Keterangan kendala"), validators=[Optional(), Length(max=2000)])
    mentoring = TextAreaField(_l("Pendampingan yang diberikan"), validators=[Optional(), Length(max=2000)])
    next_visit_on = DateField(_l("Kunjungan berikutnya"), validators=[Optional()])

    # Verification (verifikasi)
    decile = SelectField(
        _l("Desil (hasil cek)"),
        validators=[Optional()],
        choices=as_choices([("", "—")] + [(str(d), str(d)) for d in visit_kinds.DECILES]),
    )
    embryo = RadioField(_l("Sudah ada usaha (embrio usaha)?"), validators=[Optional()], choices=as_choices(EMBRYO))
    embryo_notes = TextAreaField(_l("Keterangan usaha"), validators=[Optional(), Length(max=2000)])
    eligible = RadioField(_l("Kesimpulan"), validators=[Optional()], choices=as_choices(ELIGIBILITY))

    # Status update
    status = SelectField(_l("Ubah status menjadi"), validators=[Optional()], validate_choice=False)
    reason = TextAreaField(_l("Alasan perubahan status"), validators=[Optional(), Length(max=1000)])

    def validate_uuid(self, field):
        try:
            field.data = str(uuid.UUID(field.data))
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError(_l("Formulir rusak: muat ulang halaman.")) from exc

    def validate_kind(self, field):
        if field.data not in visit_kinds.KINDS:
            raise ValidationError(_l("Jenis kunjungan tidak dikenal."))

    def validate_turnover(self, field):
        value = parse_rupiah(field.data)
        if (field.data or "").strip() and value is None:
            raise ValidationError(TURNOVER_FORMAT)
        if value is not None and value > TURNOVER_MAX:
            raise ValidationError(TURNOVER_TOO_LARGE)

    def set_status_choices(self, current: str, role: str = "mentor") -> None:
        """The moves `role` may make at a visit; graduation and exits are marked as proposals."""
        self.status.choices = as_choices(
            [("", _l("Tidak berubah (%(status)s)", status=lifecycle.status_label(current)))]
            + [
                (s, lifecycle.move_label(s, how))
                for s, how in lifecycle.moves_for(role, current).items()
                if how != lifecycle.CORRECTION
            ]
        )


@dataclass
class DynamicParts:
    """The parts of the form that depend on the family's package, with their errors."""

    item_conditions: dict[str, str] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)
    uploads: list[PhotoUpload] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    photos_dropped: bool = False  # photos were sent but the form failed: they must be chosen again
    missing_staged: list[str] = field(default_factory=list)  # photos named as sent ahead that never arrived


def parse_dynamic(
    form: VisitForm,
    package: list[str],
    formdata: MultiDict,
    files: MultiDict,
    max_photo_bytes: int,
    existing_tags: list[str] | tuple = (),
    slots: int = MAX_PHOTOS,
    staged=None,
) -> DynamicParts:
    """Read and check item conditions, received items and photo slots; photo errors go to their slot.

    `existing_tags` are the photos a resubmitted visit already has: they count towards the photo rules.
    """
    parts = DynamicParts()
    kind = visit_kinds.get(form.kind.data)
    conditions = dict(ITEM_CONDITIONS)
    if kind.asks_items:
        for index, item in enumerate(package):
            value = formdata.get(f"item-{index}", "")
            if value in conditions:
                parts.item_conditions[item] = value
            else:
                parts.errors[f"item-{index}"] = str(item_missing(item))
    if kind.asks_received:
        chosen = set(formdata.getlist("received"))
        parts.received = [item for index, item in enumerate(package) if str(index) in chosen]

    tags_seen = list(existing_tags)
    for slot in range(1, slots + 1):
        upload: FileStorage | None = files.get(f"photo-{slot}")
        ahead = formdata.get(f"photo-{slot}-staged") == "1" and staged is not None
        if not ahead and (upload is None or not upload.filename):
            continue
        tag = formdata.get(f"tag-{slot}", "")
        if tag not in PHOTO_TAG_LABELS:
            parts.errors[f"tag-{slot}"] = str(tag_missing(slot))
            continue
        if ahead:  # sent ahead on its own (see recording.stage_photo)
            data = staged(formdata.get(f"photo-{slot}-uuid", ""))
            if data is None:
                parts.errors[f"photo-{slot}"] = str(photo_problem(slot, PHOTO_NOT_ARRIVED))
                parts.missing_staged.append(formdata.get(f"photo-{slot}-uuid", ""))
                continue
        else:
            data = upload.stream.read(max_photo_bytes + 1)
        try:
            processed = photos.process(data, max_bytes=max_photo_bytes)
        except photos.PhotoError as exc:
            parts.errors[f"photo-{slot}"] = str(photo_problem(slot, exc))
            continue
        if processed.exif_taken_at is None:
            # Downscaled on the phone (which drops EXIF): the capture time read from the original comes along.
            processed.exif_taken_at = parse_exif_time(formdata.get(f"photo-{slot}-taken"))
        client_uuid = formdata.get(f"photo-{slot}-uuid", "")
        try:
            client_uuid = str(uuid.UUID(client_uuid))
        except ValueError:
            client_uuid = str(uuid.uuid4())  # a plain post (no JavaScript) sends none: the server mints it
        if client_uuid in (u.uuid for u in parts.uploads):
            client_uuid = str(uuid.uuid4())  # one code for two photos of one visit: only a tampered form does it
        parts.uploads.append(PhotoUpload(processed=processed, tag=tag, uuid=client_uuid))
        tags_seen.append(tag)
    if not tags_seen and not any(k.startswith(("photo-", "tag-")) for k in parts.errors):
        parts.errors["photos"] = str(PHOTO_MISSING)
    elif kind.required_tag and tags_seen and kind.required_tag not in tags_seen:
        parts.errors["photos"] = str(tag_required(kind.required_tag))
    return parts


def _values(form: VisitForm, parts: DynamicParts) -> dict:
    """The filled-in form as the visit vocabulary reads it (see `visit_kinds.Values`)."""
    values = {name: f.data for name, f in form._fields.items()}
    values.update(turnover=parse_rupiah(form.turnover.data), items=parts.item_conditions, received=parts.received)
    return values


def check_kind_fields(
    form: VisitForm, parts: DynamicParts, check_location: bool = True, current_status: str | None = None
) -> None:
    """What each kind of visit must answer, and the location-or-reason rule; errors go next to the field."""
    kind = form.kind.data
    concluding = visit_kinds.concluding(kind, current_status)
    if concluding and form.status.data not in concluding[1]:
        add_error(form.status, concluding_message(concluding[1]))
    if check_location and (form.lat.data is None) != (form.lon.data is None):
        add_error(form.lat, _l("Lokasi tidak lengkap. Ambil lokasi lagi."))
    if (
        check_location
        and form.lat.data is None
        and form.lon.data is None
        and not form.lat.errors
        and not form.no_location_reason.data
    ):
        add_error(form.no_location_reason, LOCATION_MISSING)
    for name, message in visit_kinds.missing_answers(kind, _values(form, parts)).items():
        if name in form._fields:
            if not form[name].errors:  # a field already marked (e.g. an unreadable amount) keeps its own message
                add_error(form[name], message)
        else:
            parts.errors[name] = str(message)


def prefill(form: VisitForm, answers: dict, package: list[str]) -> MultiDict:
    """Fill the form from stored answers (a resubmission); returns the package-dependent values as form data."""
    form.operating.data = answers.get("operating")
    turnover = answers.get("turnover")
    form.turnover.data = f"{turnover:,}".replace(",", ".") if isinstance(turnover, int) and turnover else ""
    form.turnover_period.data = answers.get("turnover_period") or "hari"
    form.problems.data = answers.get("problems") or []
    form.problem_notes.data = answers.get("problem_notes", "")
    form.mentoring.data = answers.get("mentoring", "")
    form.decile.data = str(answers["decile"]) if answers.get("decile") else ""
    form.embryo.data = answers.get("embryo")
    form.embryo_notes.data = answers.get("embryo_notes", "")
    form.eligible.data = answers.get("eligible")
    values = MultiDict()
    conditions = answers.get("items") or {}
    for index, item in enumerate(package):
        if item in conditions:
            values.add(f"item-{index}", conditions[item])
    for index, item in enumerate(package):
        if item in (answers.get("received") or []):
            values.add("received", str(index))
    return values


def answers_from(form: VisitForm, parts: DynamicParts) -> dict:
    """The checklist as stored in `Visit.answers` (only what this kind of visit asks)."""
    return visit_kinds.answers_for(form.kind.data, _values(form, parts))


def _length_limits(form: VisitForm) -> dict[str, list]:
    """field -> [max length, the server's own message for a longer text], read from the fields' validators."""
    limits = {}
    for name, f in form._fields.items():
        for validator in f.validators:
            if isinstance(validator, Length) and validator.max > 0:
                probe = VisitForm(formdata=None)
                probe[name].data = "x" * (validator.max + 1)
                try:
                    validator(probe, probe[name])
                except ValidationError as exc:
                    limits[name] = [validator.max, str(exc)]
    return limits


def _reasons_required(role: str, current: str, choices) -> dict[str, str]:
    """status -> the server's message when that move is chosen without a reason (`lifecycle.check_move`)."""
    needed = {}
    for choice in choices:
        value = choice.value
        if not value:
            continue
        try:
            lifecycle.check_move(role, current, value, "")
        except lifecycle.TransitionError as exc:
            if exc.field == "reason":
                needed[value] = str(exc.message)
    return needed


def client_rules(
    form: VisitForm,
    package: list[str],
    max_photo_bytes: int,
    *,
    current_status: str,
    slots: int = MAX_PHOTOS,
    existing_tags: list[str] | tuple = (),
    check_location: bool = True,
    role: str = "mentor",
    correcting: bool = False,
) -> dict:
    """The rules `parse_dynamic`, `check_kind_fields` and the fields' validators apply, as data the phone reads
    (visit-form.js) to refuse offline what the server would refuse, with the server's messages. Built from the
    same definitions the server checks with, never written twice."""
    kind = visit_kinds.get(form.kind.data)
    concluding = visit_kinds.concluding(kind.code, current_status)
    rules: dict = {
        "required": [
            {"field": r.field, "message": str(r.message), "unless": list(r.unless) if r.unless else None}
            for r in kind.requires
        ],
        "items": [{"field": f"item-{i}", "message": str(item_missing(item))} for i, item in enumerate(package)]
        if kind.asks_items
        else [],
        "location": str(LOCATION_MISSING) if check_location else None,
        "concluding": {"accepted": list(concluding[1]), "message": str(concluding_message(concluding[1]))}
        if concluding
        else None,
        "reasonFor": _reasons_required(role, current_status, form.status.choices or []),
        "lengths": _length_limits(form),
        "unchanged": str(NOTHING_CORRECTED) if correcting else None,
        "photos": {
            "slots": slots,
            "existingTags": list(existing_tags),
            "tags": list(PHOTO_TAG_LABELS),
            "maxBytes": max_photo_bytes,
            "tooLarge": str(photo_problem("{n}", photos.too_large_message(max_photo_bytes))),
            "tagMessage": str(tag_missing("{n}")),
            "minOne": str(PHOTO_MISSING),
            "requiredTag": kind.required_tag,
            "requiredTagMessage": str(tag_required(kind.required_tag)) if kind.required_tag else None,
        },
    }
    if "turnover" in {r.field for r in kind.requires}:
        rules["turnover"] = {
            "pattern": RUPIAH_RE.pattern,
            "max": TURNOVER_MAX,
            "format": str(TURNOVER_FORMAT),
            "tooLarge": str(TURNOVER_TOO_LARGE),
        }
    return rules
