from flask import flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit, lifecycle, localtime
from ..access import get_training_for, regions_visible_to, require_role, trainings_visible_to
from ..extensions import db
from ..formtools import as_choices, submitted
from ..importing import place_key
from ..models import Recipient, TrainingSession, training_attendance
from ..rendering import render
from . import bp
from .forms import TrainingForm

PER_PAGE = 20
FAMILIES_PER_PAGE = 50


def _form(regions, formdata=None) -> TrainingForm:
    form = TrainingForm(formdata=formdata) if formdata is not None else TrainingForm()
    form.region.choices = as_choices([("", _("— pilih —"))] + [(r.code, r.full_name) for r in regions])
    if len(regions) == 1 and not form.region.data:
        form.region.data = regions[0].code
    return form


def _index_page(form: TrainingForm, status: int = 200):
    query = (
        trainings_visible_to(current_user)
        .options(selectinload(TrainingSession.region))
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    )
    page = db.paginate(query, page=request.args.get("halaman", 1, type=int), per_page=PER_PAGE, error_out=False)
    ids = [s.id for s in page.items]
    counts = (
        dict(
            db.session.execute(
                select(training_attendance.c.session_id, func.count())
                .where(training_attendance.c.session_id.in_(ids))
                .group_by(training_attendance.c.session_id)
            ).all()
        )
        if ids
        else {}
    )
    return render("training/index.html", "training/_list.html", status=status, page=page, form=form, counts=counts)


@bp.get("/")
@login_required
def index():
    """Business-management training sessions in the user's regions, newest first, with a form for a new one."""
    require_role(current_user, "admin", "supervisor")
    return _index_page(_form(regions_visible_to(current_user), formdata=None))


@bp.post("/")
@login_required
def create():
    require_role(current_user, "admin", "supervisor")
    regions = regions_visible_to(current_user)
    form = _form(regions, formdata=request.form)
    if not submitted(form):
        return _index_page(form, status=422)
    region = next((r for r in regions if r.code == form.region.data), None)
    if region is None:
        form.region.errors = [_("Pilih kabupaten/kota yang menjadi wilayah Anda.")]
        return _index_page(form, status=422)
    session = TrainingSession(
        region=region,
        held_on=form.held_on.data,
        place=form.place.data.strip(),
        topic=form.topic.data.strip(),
        notes=(form.notes.data or "").strip(),
        created_by=current_user._get_current_object(),
    )
    db.session.add(session)
    db.session.flush()
    audit.record("training_created", session, region=region.code)
    db.session.commit()
    flash(_("Pelatihan tersimpan. Centang keluarga yang hadir."), "ok")
    return redirect(url_for("training.detail", session_id=session.id), code=303)


def _families(session: TrainingSession):
    """Families of the session's regency still in the program, optionally one kecamatan, a page at a time.

    Place names are stored as the import file wrote them, so one kecamatan can come as "SAMARINDA ULU" and
    "Samarinda Ulu": the filter offers it once (its mixed-case spelling) and selects every spelling of it.
    """
    spellings: dict[str, list[str]] = {}
    for name in db.session.scalars(
        select(Recipient.kecamatan).where(Recipient.region_id == session.region_id).distinct()
    ):
        spellings.setdefault(place_key(name), []).append(name)
    labels = {key: min(names, key=lambda n: (n.isupper(), n)) for key, names in spellings.items()}
    kecamatans = sorted(labels.values(), key=str.casefold)
    chosen = spellings.get(place_key(request.values.get("kec", "")))
    kec = labels[place_key(chosen[0])] if chosen else ""
    query = select(Recipient).where(Recipient.region_id == session.region_id, Recipient.status.not_in(lifecycle.EXITS))
    if chosen:
        query = query.where(Recipient.kecamatan.in_(chosen))
    query = query.order_by(func.lower(Recipient.kecamatan), Recipient.name, Recipient.id)
    page = db.paginate(
        query, page=request.values.get("halaman", 1, type=int), per_page=FAMILIES_PER_PAGE, error_out=False
    )
    return page, kecamatans, kec


def _detail_page(session: TrainingSession, status: int = 200, error: str | None = None, saved: bool = False):
    page, kecamatans, kec = _families(session)
    attending = set(
        db.session.scalars(
            select(training_attendance.c.recipient_id).where(training_attendance.c.session_id == session.id)
        )
    )
    return render(
        "training/detail.html",
        "training/_attendance.html",
        status=status,
        session=session,
        page=page,
        kecamatans=kecamatans,
        kec=kec,
        attending=attending,
        error=error,
        saved=saved,
        upcoming=session.held_on > localtime.today(),
    )


@bp.get("/<int:session_id>")
@login_required
def detail(session_id: int):
    """One session: who attended, ticked from the families of its regency (filter by kecamatan)."""
    return _detail_page(get_training_for(current_user, session_id))


@bp.post("/<int:session_id>/hadir")
@login_required
def attendance(session_id: int):
    """Save the ticks of the families shown on the page; families on other pages keep their state."""
    session = get_training_for(current_user, session_id)
    if session.held_on > localtime.today():
        return _detail_page(
            session,
            422,
            _(
                "Daftar hadir bisa diisi mulai hari pelatihan (%(date)s).",
                date=format_date(session.held_on, "d MMM yyyy"),
            ),
        )
    try:
        shown = {int(v) for v in request.form.getlist("shown")}
        ticked = {int(v) for v in request.form.getlist("hadir")}
    except ValueError:
        return _detail_page(session, 422, _("Daftar keluarga tidak valid. Muat ulang halaman."))
    if not ticked <= shown:
        return _detail_page(session, 422, _("Daftar keluarga tidak valid. Muat ulang halaman."))
    families = db.session.scalars(
        select(Recipient).where(Recipient.id.in_(shown), Recipient.region_id == session.region_id)
    ).all()
    if len(families) != len(shown):
        return _detail_page(session, 422, _("Sebagian keluarga bukan dari wilayah pelatihan ini. Muat ulang halaman."))
    before = {r.id for r in session.attendees}
    keep = [r for r in session.attendees if r.id not in shown]
    session.attendees = keep + [r for r in families if r.id in ticked]
    added, removed = len(ticked - before), len((before & shown) - ticked)
    if added or removed:
        audit.record("training_attendance", session, added=added, removed=removed)
    db.session.commit()
    return _detail_page(session, saved=True)
