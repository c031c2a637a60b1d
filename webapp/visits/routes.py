import uuid

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .. import (
    caseload,
    integrity,
    lifecycle,
    localtime,
    photos,
    recording,
    review_states,
    schedule,
    uploads,
    visit_kinds,
)
from ..access import get_own_visit_for, get_photo_for, get_recipient_for, recipients_visible_to, require_role
from ..errors import OUTBOX_REASONS
from ..extensions import db
from ..formtools import add_error
from ..models import Recipient, utcnow
from ..rendering import render, wants_fragment
from ..sqltools import contains
from ..template_helpers import now_wita
from . import bp
from .forms import (
    NOTHING_CORRECTED,
    VisitForm,
    answers_from,
    check_kind_fields,
    client_rules,
    parse_client_time,
    parse_dynamic,
    prefill,
)

PER_PAGE = 20
_URL_MARK = 987654321  # an id no route builds otherwise: where `_url_with_id` puts the real one


def _url_with_id(endpoint: str, name: str):
    """`url_for(endpoint, name=id)` as a function of the id, from one `url_for` call: a page of cards builds
    two URLs per card, and url_for's routing work costs more than the rest of a card's link."""
    prefix, suffix = url_for(endpoint, **{name: _URL_MARK}).split(str(_URL_MARK))
    return lambda value: f"{prefix}{int(value)}{suffix}"


def _position() -> tuple[float, float] | None:
    """The phone's position if the list was asked for 'nearest first' (ignored when malformed)."""
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


# The rendered mentor home, per process, filed under everything it shows (see `home`); ~25 KB a page.
_HOME_PAGES = caseload.PageCache(1024)
# What a cached page holds instead of the two values that differ on every request; both are plain ASCII text
# that no template escapes.
_CSRF_MARK, _NOW_MARK = "kail-csrf-token-mark", "kail-rendered-at-mark"


@bp.get("/kunjungan/")
@login_required
def home():
    """'Kunjungan saya': the mentor's families, what needs doing first at the top.

    The most requested page, and the same until one of the mentor's families or visits changes: it is served
    from `_HOME_PAGES` under a key naming all it shows, the mentor's caseload stamp among it (webapp/caseload.py:
    every commit changing the work list replaces the stamp), so a valid copy costs no statement beyond loading
    the user. Not cached: "nearest first" (a new position each time), a search (rarely asked twice; typing one
    would fill the cache with every prefix) and a page with a message to show once.
    """
    require_role(current_user, "mentor")
    q = (request.args.get("q") or "").strip()[:80]
    status = request.args.get("status") or ""
    status = status if status in lifecycle.STATUSES else ""
    position = _position()
    view = (q, status, request.args.get("semua") == "1", request.args.get("halaman", 1, type=int))
    today = localtime.today()
    fragment = wants_fragment()
    if position is not None or q or session.get("_flashes"):
        return _home_response(render(*_HOME_TEMPLATES, **_home_context(view, today, position)))
    key = (
        current_user.id,
        current_user.caseload_stamp,
        current_user.full_name,
        current_user.role,
        tuple(region.name for region in current_user.regions),
        str(get_locale()),
        today,
        fragment,
        view,
    )

    def make() -> str:
        marked = {"csrf_token": lambda: _CSRF_MARK, "now_wita": lambda: _NOW_MARK}
        return render_template(_HOME_TEMPLATES[fragment], **_home_context(view, today, None), **marked)

    page, cached = _HOME_PAGES.get(key, make)
    if cached and current_app.config["PAGE_CACHE_CHECK"] and page != make():
        raise RuntimeError(f"mentor home cached under {key!r} is stale: a write did not change the caseload stamp")
    if not fragment:
        page = page.replace(_CSRF_MARK, generate_csrf()).replace(_NOW_MARK, now_wita())
    return _home_response(make_response(page))


_HOME_TEMPLATES = ("visits/home.html", "visits/_work_list.html")  # page, fragment (as `render` chooses)


def _home_context(view: tuple, today, position) -> dict:
    q, status, everything, asked_page = view
    query = recipients_visible_to(current_user)
    if q:
        if q.isdigit():
            query = query.where(Recipient.nik.startswith(q))
        else:
            query = query.where(contains(Recipient.name, q))
    if status:
        query = query.where(Recipient.status == status)
    recipients = db.session.scalars(query.order_by(Recipient.name, Recipient.id)).all()
    items = schedule.work_list(recipients, today, current_app.config["FOLLOWUP_MONTHS"], position, scope=query)
    # ?semua=1: every family on one page, the copy the phone keeps to search and filter offline.
    per_page = max(len(items), 1) if everything else PER_PAGE
    pages = max(1, -(-len(items) // per_page))
    page = min(max(asked_page, 1), pages)
    filters = {"q": q, "status": status}
    if position:
        filters.update(lat=f"{position[0]:.5f}", lon=f"{position[1]:.5f}")
    return {
        "items": items[(page - 1) * per_page : page * per_page],
        "total": len(items),
        "page": page,
        "pages": pages,
        "filters": filters,
        "today": today,
        "statuses": lifecycle.STATUSES,
        "groups": schedule,
        "card_urls": {
            "detail": _url_with_id("recipients.detail", "recipient_id"),
            "create": _url_with_id("visits.create", "recipient_id"),
            "resubmit": _url_with_id("visits.resubmit", "visit_id"),
        },
    }


def _home_response(response):
    response.vary.add("HX-Request")
    return response


def _form_page(recipient, form, parts=None, status=200, **extra):
    extra.setdefault("item_values", request.form if request.method == "POST" else {})
    extra.setdefault("slots", visit_kinds.MAX_PHOTOS)
    extra.setdefault("resubmit", None)
    extra.setdefault("allowed_kinds", visit_kinds.kinds_offered(recipient.status))
    resubmit = extra["resubmit"]
    rules = client_rules(
        form,
        recipient.package_items,
        _max_photo_bytes(),
        current_status=recipient.status,
        slots=extra["slots"],
        existing_tags=[p.tag for p in resubmit.photos] if resubmit else (),
        check_location=resubmit is None,
        correcting=resubmit is not None,
    )
    return render(
        "visits/form.html",
        "visits/_form.html",
        status=status,
        recipient=recipient,
        form=form,
        dynamic=parts,
        kinds=visit_kinds.KINDS,
        item_conditions=visit_kinds.ITEM_CONDITIONS,
        tag_labels=visit_kinds.PHOTO_TAG_LABELS,
        other_tag=visit_kinds.OTHER_PHOTO_TAG,
        max_photos=visit_kinds.MAX_PHOTOS,
        rules=rules,
        **extra,
    )


def _family_url(recipient_id: int, outcome: str) -> str:
    """The family page saying what happened to the visit (`?kunjungan=tersimpan` …).

    Not a flashed message: that lives in the session cookie, and a request still running when the visit was
    saved (a photo, the worker's update check) can answer with the older cookie and lose it.
    """
    return url_for("recipients.detail", recipient_id=recipient_id, kunjungan=outcome)


# What happened to a sent visit -> (HTTP status, the outbox's `status`, the family page's `?kunjungan=`).
OUTCOMES = {
    "created": (201, "created", "tersimpan"),
    "duplicate": (200, "duplicate", "sudah-ada"),
    "corrected": (201, "created", "perbaikan"),
    "already-corrected": (200, "duplicate", "perbaikan-sudah-ada"),
}


def _reply(outcome: str, recipient_id: int, visit=None):
    """A visit stored (or found stored), in the protocol of whoever sent it.

    `X-Kail-Outbox: 1` is the phone's outbox sending on its own and `page` the form saving in the foreground:
    both get JSON; a plain form post (no JavaScript) gets a redirect to the family page.
    """
    status, state, page_outcome = OUTCOMES[outcome]
    url = _family_url(recipient_id, page_outcome)
    if request.headers.get("X-Kail-Outbox") in ("1", "page"):
        body = {"status": state, "url": url}
        if visit is not None:
            body["visit_id"] = visit.id
        return jsonify(body), status
    return redirect(url, code=303)


def _refuse(status: int, state: str, message, errors: dict | None = None):
    """A send that cannot be stored as it is: JSON for a script (outbox or the page), else an error page."""
    if request.headers.get("X-Kail-Outbox") not in ("1", "page"):
        abort(status)
    body = {"status": state, "message": str(message)}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _invalid(recipient, form, parts, **context):
    """The form with every message next to its field (422); the outbox gets the same messages as JSON."""
    if request.headers.get("X-Kail-Outbox") == "1":
        errors = {name: " ".join(str(m) for m in messages) for name, messages in form.errors.items()}
        errors.update(parts.errors)
        # Only the reasons: the outbox shows them after its own "ditolak server:" (it said it twice).
        return _refuse(422, "invalid", "; ".join(errors.values()), errors)
    photos_sent = any(f.filename for f in request.files.values())
    return _form_page(recipient, form, parts, status=422, photos_dropped=photos_sent, **context)


def _max_photo_bytes() -> int:
    return current_app.config["MAX_PHOTO_MB"] * 1024 * 1024


def _thresholds() -> integrity.Thresholds:
    return integrity.Thresholds.from_config(current_app.config)


def _new_form(recipient) -> VisitForm:
    form = VisitForm()
    form.set_status_choices(recipient.status)
    if request.method == "GET":
        kinds = visit_kinds.kinds_offered(recipient.status)
        kind = request.args.get("jenis")
        form.kind.data = kind if kind in kinds else kinds[0]
        concluding = visit_kinds.concluding(form.kind.data, recipient.status)
        if concluding:
            form.status.data = concluding[0]
        form.uuid.data = str(uuid.uuid4())
        form.next_visit_on.data = schedule.suggested_next_visit(
            recipient, localtime.today(), current_app.config["FOLLOWUP_MONTHS"]
        )
    return form


def _stored_under(form: VisitForm):
    """The visit already stored under the sent UUID, if any (a retry)."""
    try:
        return recording.find_existing(str(uuid.UUID(form.uuid.data or "")))
    except ValueError:
        return None


def _answer_if_stored(form: VisitForm, recipient):
    """The answer to a visit already stored under the sent UUID (a retry), or None when there is none."""
    existing = _stored_under(form)
    if existing is None:
        return None
    if existing.recipient_id != recipient.id or existing.mentor_id != current_user.id:
        return _refuse(409, "conflict", _("Kode kunjungan ini sudah dipakai untuk data lain."))
    return _reply("duplicate", recipient.id, existing)


def _staged_reader(visit_uuid: str):
    """Reads the photos this mentor sent ahead for the visit `visit_uuid` (see `stage_photo`)."""
    upload_dir, mentor = current_app.config["UPLOAD_DIR"], current_user._get_current_object()
    return lambda code: recording.staged_photo(upload_dir, mentor, visit_uuid, code)


def _staged_used(parts) -> list[str]:
    return [u.uuid for u in parts.uploads]


def _photos_missing(parts):
    """Photos named as sent ahead that the server does not have (a staging answer lost, or pruned): the outbox
    sends them again, then the visit. Nothing was stored."""
    return _refuse(
        409,
        "photo_missing",
        _("Sebagian foto belum sampai di server; HP mengirimnya lagi."),
        {"missing": parts.missing_staged},
    )


@bp.post("/kunjungan/<visit_uuid>/foto/<photo_uuid>")
@login_required
def stage_photo(visit_uuid: str, photo_uuid: str):
    """One photo of a visit, sent ahead on its own by the outbox (a bad link carries one small request where a
    whole visit never gets through); idempotent by (visit code, photo code)."""
    require_role(current_user, "mentor")
    try:
        visit_uuid, photo_uuid = str(uuid.UUID(visit_uuid)), str(uuid.UUID(photo_uuid))
    except ValueError:
        return jsonify({"status": "invalid", "message": _("Data kunjungan rusak.")}), 400
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return jsonify({"status": "invalid", "message": _("Data kunjungan rusak.")}), 400
    data = upload.stream.read(_max_photo_bytes() + 1)
    try:
        recording.stage_photo(
            current_app.config["UPLOAD_DIR"],
            current_user._get_current_object(),
            visit_uuid,
            photo_uuid,
            data,
            _max_photo_bytes(),
        )
    except recording.PhotoIdElsewhere:
        message = _("Foto ini sudah tersimpan bersama kunjungan lain. Pilih foto lagi lalu simpan.")
        return jsonify({"status": "photo_conflict", "message": message, "taken": [photo_uuid]}), 409
    except photos.PhotoError as exc:
        return jsonify({"status": "invalid", "message": str(exc), "errors": {"photo": str(exc)}}), 422
    return jsonify({"status": "staged"}), 200


def _upload_messages() -> dict[str, str]:
    """What the phone's outbox shows (and acts on by code) for each refusal of a photo chunk."""
    return {
        "bad_code": _("Data kunjungan rusak."),
        "bad_length": _("Ukuran foto yang dikirim tidak terbaca."),
        "bad_checksum": _("Sidik foto (sha256) yang dikirim tidak terbaca."),
        "bad_offset": _("Posisi potongan foto tidak terbaca."),
        "too_large": _("Foto melebihi %(mb)s MB. Pilih foto yang lebih kecil.", mb=current_app.config["MAX_PHOTO_MB"]),
        "chunk_too_large": _("Potongan foto terlalu besar."),
        "beyond_length": _("Potongan foto melewati ukuran foto yang disebut."),
        "offset_mismatch": _("Server memegang bagian lain dari foto ini; HP melanjutkan dari sana."),
        "checksum_mismatch": _("Foto tiba rusak (sidiknya tidak cocok); HP mengirimnya lagi dari awal."),
        # The visit code is another mentor's visit. A new visit's outbox mints another code and never shows this; a
        # correction's visit was moved to another mentor, which the mentor is told as for any visit gone (404).
        "conflict": OUTBOX_REASONS[404],
        "photo_conflict": _("Foto ini sudah tersimpan bersama kunjungan lain. Pilih foto lagi lalu simpan."),
        "visit_closed": _("Kunjungan ini sudah tersimpan dan tidak sedang diminta perbaikan."),
    }


def _upload_refused(exc: uploads.UploadRefused):
    body = {"status": exc.code, "message": _upload_messages()[exc.code]}
    response = jsonify(body | ({"offset": exc.offset} if exc.offset is not None else {}))
    if exc.offset is not None:
        response.headers["Upload-Offset"] = str(exc.offset)
    return response, exc.status


def _upload_held(state: uploads.Held):
    response = jsonify(state.as_json())
    response.headers["Upload-Offset"] = str(state.offset)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/kunjungan/<visit_uuid>/foto/<photo_uuid>")
@login_required
def photo_offset(visit_uuid: str, photo_uuid: str):
    """The offset query of a resumable photo upload: how many bytes of this photo the server holds."""
    require_role(current_user, "mentor")
    try:
        return _upload_held(uploads.held(current_user._get_current_object(), visit_uuid, photo_uuid))
    except uploads.UploadRefused as exc:
        return _upload_refused(exc)


@bp.patch("/kunjungan/<visit_uuid>/foto/<photo_uuid>")
@login_required
def photo_chunk(visit_uuid: str, photo_uuid: str):
    """One chunk of a photo at `Upload-Offset` (the photo's `Upload-Length` and `Upload-Sha256` with it); the
    answer says how many bytes the server holds now. Idempotent by (photo code, offset): see uploads.py."""
    require_role(current_user, "mentor")
    try:
        length, sha256 = uploads.declared(
            request.headers.get("Upload-Length"), request.headers.get("Upload-Sha256"), _max_photo_bytes()
        )
        try:
            start = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            raise uploads.UploadRefused(400, "bad_offset") from None
        if (request.content_length or 0) > uploads.MAX_CHUNK_BYTES:
            raise uploads.UploadRefused(413, "chunk_too_large")
        data = request.stream.read(uploads.MAX_CHUNK_BYTES + 1)
        state = uploads.append(
            current_app.config["UPLOAD_DIR"],
            current_user._get_current_object(),
            visit_uuid,
            photo_uuid,
            start,
            data,
            length,
            sha256,
            _max_photo_bytes(),
        )
    except uploads.UploadRefused as exc:
        return _upload_refused(exc)
    except photos.PhotoError as exc:
        return jsonify({"status": "invalid", "message": str(exc), "errors": {"photo": str(exc)}}), 422
    return _upload_held(state)


def _check_new_visit(form: VisitForm, recipient):
    """Validate the whole form at once: fields, the package-dependent parts, the kind's answers, the status move."""
    parts = parse_dynamic(
        form,
        recipient.package_items,
        request.form,
        request.files,
        _max_photo_bytes(),
        staged=_staged_reader(form.uuid.data),
    )
    check_kind_fields(form, parts, current_status=recipient.status)
    if form.status.data:
        try:
            lifecycle.check_transition(recipient.status, form.status.data, form.reason.data)
        except lifecycle.TransitionError as exc:
            add_error(getattr(form, exc.field), exc)
    return parts


def _visit_input(form: VisitForm, parts, set_aside: dict | None = None) -> recording.VisitInput:
    """The checked form as the recording step takes it (the phone's times kept when plausible)."""
    now = utcnow()
    has_fix = form.lat.data is not None
    return recording.VisitInput(
        uuid=form.uuid.data,
        kind=form.kind.data,
        visited_at=parse_client_time(form.visited_at.data, now) or now,
        lat=form.lat.data,
        lon=form.lon.data,
        accuracy_m=form.accuracy.data if has_fix else None,
        location_fixed_at=parse_client_time(form.location_fixed_at.data, now) if has_fix else None,
        no_location_reason=None if has_fix else form.no_location_reason.data,
        answers=answers_from(form, parts),
        next_visit_on=form.next_visit_on.data,
        new_status=form.status.data or None,
        status_reason=(form.reason.data or "").strip() or None,
        status_set_aside=set_aside,
    )


@bp.route("/penerima/<int:recipient_id>/kunjungan/baru", methods=["GET", "POST"])
@login_required
def create(recipient_id: int):
    """Record a visit: location, photos, the checklist of its kind, and an optional status change."""
    require_role(current_user, "mentor")  # supervisors judge visits; they do not record them
    recipient = get_recipient_for(current_user, recipient_id, write=True)
    form = _new_form(recipient)
    if request.method == "GET":
        return _form_page(recipient, form)

    stored = _answer_if_stored(form, recipient)  # a retry gets the visit already stored, whatever it carries
    if stored is not None:
        return stored
    form.validate()
    if form.kind.errors or form.uuid.errors:  # hidden fields only a tampered form gets wrong
        return _refuse(400, "invalid", _("Data kunjungan rusak."))
    set_aside = recording.status_set_aside(
        request.form.get("status_from"), recipient.status, form.status.data, form.reason.data
    )
    if set_aside:  # the family was moved since the form was saved: keep the evidence, not the stale change
        form.status.data, form.reason.data = "", ""
    parts = _check_new_visit(form, recipient)
    if parts.missing_staged:
        # The same visit sent again at once (a phone that gave up waiting, its retry on another app server): the
        # first to finish stored it and removed the photos sent ahead, so this one finds them gone.
        return _answer_if_stored(form, recipient) or _photos_missing(parts)
    if form.errors or parts.errors:
        return _invalid(recipient, form, parts)
    try:
        visit, created = recording.record_visit(
            recipient,
            current_user._get_current_object(),
            _visit_input(form, parts, set_aside),
            parts.uploads,
            current_app.config["UPLOAD_DIR"],
            _thresholds(),
        )
    except recording.RecordingError as exc:
        add_error(getattr(form, exc.field), exc.message)
        return _invalid(recipient, form, parts)
    except recording.VisitConflict:
        return _refuse(409, "conflict", _("Kode kunjungan ini sudah dipakai untuk data lain."))
    except recording.PhotoIdTaken as exc:
        return _photo_ids_taken(recipient, form, parts, exc.taken)
    if created:
        recording.forget_staged(current_app.config["UPLOAD_DIR"], visit.mentor, visit.uuid, _staged_used(parts))
        uploads.forget(visit.uuid)
    return _reply("created" if created else "duplicate", recipient.id, visit)


def _photo_ids_taken(recipient, form, parts, taken: list[str]):
    """Photo codes already stored with another visit (a form stored on the phone, sent again): nothing was saved.
    The outbox gets a 409 naming them, to mint new codes and send again; a page gets the form back with new codes."""
    message = _("Foto ini sudah tersimpan bersama kunjungan lain. Pilih foto lagi lalu simpan.")
    if request.headers.get("X-Kail-Outbox") in ("1", "page"):
        body = {"status": "photo_conflict", "message": message, "errors": {"photos": message}, "taken": taken}
        return jsonify(body), 409
    parts.errors["photos"] = message
    values = request.form.copy()
    for key in [k for k in values if k.startswith("photo-") and k.endswith("-uuid")]:
        values.pop(key)  # the page mints new ones
    return _form_page(recipient, form, parts, status=422, item_values=values, photos_dropped=True)


@bp.route("/kunjungan/<int:visit_id>/perbaiki", methods=["GET", "POST"])
@login_required
def resubmit(visit_id: int):
    """The mentor corrects a visit sent back by the supervisor: answers and added photos, then it is re-reviewed."""
    visit = get_own_visit_for(current_user, visit_id)
    recipient = visit.recipient
    if visit.review_state != review_states.SENT_BACK and request.method == "GET":
        flash(_("Kunjungan ini tidak sedang diminta perbaikan."), "ok")
        return redirect(url_for("recipients.detail", recipient_id=recipient.id), code=303)
    remaining = max(0, visit_kinds.MAX_PHOTOS - len(visit.photos))
    context = {"resubmit": visit, "slots": remaining}
    if request.method == "GET":
        form = VisitForm()
        form.set_status_choices(recipient.status)
        form.kind.data, form.uuid.data = visit.kind, visit.uuid
        form.next_visit_on.data = visit.next_visit_on
        values = prefill(form, visit.answers or {}, recipient.package_items)
        return _form_page(recipient, form, item_values=values, **context)

    formdata = request.form.copy()
    formdata["kind"], formdata["uuid"] = visit.kind, visit.uuid  # never taken from the client here
    form = VisitForm(formdata=formdata)
    form.set_status_choices(recipient.status)
    parts = _check_correction(form, visit, remaining)
    if parts.missing_staged:
        return _photos_missing(parts)
    if form.errors or parts.errors:
        return _invalid(recipient, form, parts, **context)
    try:
        recording.resubmit_visit(
            visit,
            current_user._get_current_object(),
            request.form.get("round", type=int),
            answers_from(form, parts),
            form.next_visit_on.data,
            parts.uploads,
            current_app.config["UPLOAD_DIR"],
            _thresholds(),
        )
    except recording.AlreadyResubmitted:
        return _reply("already-corrected", recipient.id, visit)
    uploads.forget(visit.uuid)
    return _reply("corrected", recipient.id, visit)


def _check_correction(form: VisitForm, visit, slots: int):
    """Validate a correction: the answers and added photos (the location was recorded at the visit), and that
    something was corrected at all."""
    form.validate()
    parts = parse_dynamic(
        form,
        visit.recipient.package_items,
        request.form,
        request.files,
        _max_photo_bytes(),
        existing_tags=[p.tag for p in visit.photos],
        slots=slots,
        staged=_staged_reader(visit.uuid),
    )
    check_kind_fields(form, parts, check_location=False)
    for f in (form.lat, form.lon, form.accuracy, form.no_location_reason):  # this form does not change them
        f.errors = []
    if (
        not form.errors
        and not parts.errors
        and not parts.uploads
        and _same_answers(visit.answers, answers_from(form, parts))
    ):
        parts.errors["photos"] = str(NOTHING_CORRECTED)
    return parts


def _same_answers(old: dict | None, new: dict) -> bool:
    """Whether a correction changed none of the answers (an empty answer and a missing one are the same)."""

    def meaningful(answers: dict) -> dict:
        return {k: v for k, v in answers.items() if k in new and v not in ("", [], {}, None)}

    return meaningful(old or {}) == meaningful(new)


def _photo_response(photo_id: int, thumb: bool):
    """Served through the app from either store, after the access check (DECISIONS: "Photo storage")."""
    item = get_photo_for(current_user, photo_id)
    name = item.thumb_name if thumb else item.stored_name
    etag = name.removesuffix(".jpg")
    if request.if_none_match.contains(etag):  # the phone has it: no need to read the store
        response = current_app.response_class(status=304)
        response.set_etag(etag)
    else:
        try:
            found = photos.open_stored(name)
        except FileNotFoundError:
            abort(404)
        response = send_file(found, mimetype="image/jpeg", conditional=True, etag=etag)
    # Content-addressed: the bytes behind this URL never change; private because only some users may see them.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    # Opened on its own, the browser's image viewer needs its own inline styles; the image can run nothing.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    return response


@bp.get("/foto/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """A visit photo (display size), only to those who may see the family."""
    return _photo_response(photo_id, thumb=False)


@bp.get("/foto/<int:photo_id>/kecil")
@login_required
def photo_thumb(photo_id: int):
    return _photo_response(photo_id, thumb=True)
