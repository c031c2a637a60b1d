import datetime as dt

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from .. import decisions, exporting, formatting, localtime, review_states
from ..access import get_visit_for, mentors_visible_to, regions_visible_to, require_role, visits_visible_to
from ..extensions import db
from ..formtools import add_error
from ..models import User, Visit
from ..rendering import render, wants_fragment
from . import activity, bp, mapdata
from . import proposals as _proposals  # noqa: F401  (registers the proposal queue's routes)
from .filters import apply, filters_of_page, read_filters
from .forms import DecisionForm

PER_PAGE = 10
LATEST_ON_MAP_PAGE = 200


def _scope():
    require_role(current_user, "supervisor", "admin")
    regions = regions_visible_to(current_user)
    filters, mentors = read_filters(request.args, current_user, regions)
    return regions, mentors, filters


def _card_options():
    return (
        selectinload(Visit.photos),
        selectinload(Visit.flags),
        selectinload(Visit.recipient),
        selectinload(Visit.mentor),
        selectinload(Visit.status_changes),
        selectinload(Visit.status_proposals),
    )


@bp.get("/periksa/")
@login_required
def queue():
    """Pending visits, oldest first, with their photos and integrity flags."""
    regions, mentors, filters = _scope()
    waiting = _waiting(filters)
    query = waiting.options(*_card_options()).order_by(Visit.visited_at, Visit.id)
    page = db.paginate(
        query, page=request.args.get("halaman", 1, type=int), per_page=PER_PAGE, error_out=False, count=False
    )
    page.total = _count_waiting(waiting)
    return render(
        "review/queue.html",
        "review/_review_list.html",
        page=page,
        filters=filters,
        regions=regions,
        mentors=mentors,
        form=DecisionForm(formdata=None),
    )


def _waiting(filters):
    return apply(visits_visible_to(current_user).where(Visit.review_state == review_states.WAITING), filters)


def _count_waiting(waiting) -> int:
    # A plain COUNT over the same conditions: paginate's own count wraps the whole row select.
    return db.session.scalar(waiting.with_only_columns(func.count(Visit.id)).order_by(None))


def _card(visit, form, status=200, conflict=None):
    html = render_template("review/_review_card.html", visit=visit, form=form, conflict=conflict)
    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.vary.add("HX-Request")
    return response


@bp.post("/periksa/<int:visit_id>")
@login_required
def decide(visit_id: int):
    """Approve, send back (note required) or reject one round of a visit; a second decision is refused."""
    visit = get_visit_for(current_user, visit_id, review=True)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _refused(visit, form, 422, _("Keputusan tidak dapat dibaca. Coba lagi."))
    try:
        record = decisions.decide(
            visit,
            current_user._get_current_object(),
            form.decision.data,
            form.note.data,
            form.round.data,
            current_app.config["FLAG_ACCURACY_M"],
        )
    except decisions.DecisionError as exc:
        add_error(getattr(form, exc.field, form.note), exc.message)
        return _refused(visit, form, 422, exc.message)
    except decisions.AlreadyDecided as exc:
        db.session.refresh(visit)
        who = exc.decision.decided_by.full_name if exc.decision and exc.decision.decided_by else "?"
        return _refused(
            visit,
            form,
            409,
            _("Kunjungan ini sudah diputuskan oleh %(who)s. Tidak ada yang diubah.", who=who),
            conflict=exc.decision,
        )
    message = _(
        "%(decision)s: kunjungan %(name)s.",
        decision=review_states.decision_label(record.decision),
        name=visit.recipient.name,
    )
    if wants_fragment():
        # The queue's count changes with the decision: sent along out of band, for the filters on screen.
        filters = filters_of_page(request.headers.get("HX-Current-URL"), current_user, regions_visible_to(current_user))
        return render_template("review/_decided.html", visit=visit, record=record, message=message) + render_template(
            "review/_review_count.html", total=_count_waiting(_waiting(filters)), oob=True
        )
    flash(message, "ok")
    return redirect(request.referrer if _is_local(request.referrer) else url_for("review.queue"), code=303)


def _is_local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def _refused(visit, form, status: int, message, conflict=None):
    """A decision not taken: the card again with the form and why (htmx), or back to the queue with `message`."""
    if wants_fragment():
        return _card(visit, form, status=status, conflict=conflict)
    return _back_to_queue(message)


def _back_to_queue(message):
    flash(message, "error")
    return redirect(url_for("review.queue"), code=303)


@bp.get("/peta/")
@login_required
def map_view():
    """Visits coloured by review state and families' registered business locations, filterable. The points
    come from map_points for the area on screen; the page itself lists the latest visits as a table."""
    regions, mentors, filters = _scope()
    latest = db.session.scalars(
        apply(visits_visible_to(current_user).where(Visit.lat.is_not(None)), filters)
        .options(selectinload(Visit.recipient), selectinload(Visit.mentor))
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(LATEST_ON_MAP_PAGE)
    ).all()
    return render_template(
        "review/map.html", latest=latest, filters=filters, regions=regions, mentors=mentors, limit=mapdata.LIMIT
    )


@bp.get("/peta/titik.json")
@login_required
def map_points():
    """The map's points inside ?bbox=west,south,east,north (or the whole scope), newest first, capped."""
    regions, mentors, filters = _scope()
    data = mapdata.points(current_user, filters, mapdata.parse_bbox(request.args.get("bbox")))
    shown = _(
        "%(v)s kunjungan dan %(f)s lokasi usaha di area ini.",
        v=formatting.number(len(data["visits"])),
        f=formatting.number(len(data["families"])),
    )
    if data["more_visits"] or data["more_families"]:
        shown += " " + _(
            "Ada lebih banyak titik; yang tampil paling banyak %(n)s kunjungan terbaru dan %(n)s lokasi "
            "usaha. Perbesar peta untuk melihat semuanya.",
            n=formatting.number(mapdata.LIMIT),
        )
    response = jsonify({**data, "summary": shown})
    response.cache_control.no_store = True
    return response


@bp.get("/periksa/pilihan-pendamping")
@login_required
def mentor_choices():
    """The mentor drop-down for the chosen regency (the filter form swaps it in when the regency changes)."""
    regions, mentors, filters = _scope()
    return render_template("review/_mentor_select.html", mentors=mentors, filters=filters)


@bp.get("/periksa/pendamping")
@login_required
def mentors_view():
    """Mentor activity: visits a week, approval and flag rates, overdue families, approved visits a month."""
    regions, mentors, filters = _scope()
    month = activity.parse_month(request.args.get("bulan"), localtime.today())
    in_scope = db.session.scalars(mentors_visible_to(current_user).order_by(User.full_name)).all()
    rows = activity.mentor_rows(
        current_user, in_scope, filters, localtime.today(), month, current_app.config["FOLLOWUP_MONTHS"]
    )
    if request.args.get("format") == "csv":
        return _activity_csv(rows, month)
    return render_template(
        "review/mentors.html",
        rows=rows,
        month=month,
        filters=filters,
        regions=regions,
        mentors=mentors,
        months=activity.recent_months(localtime.today(), 12),
    )


def _activity_csv(rows, month: dt.date) -> Response:
    table = activity.activity_export(rows, month)
    headers = exporting.download_headers(f"{table.stem}.csv")
    return Response(
        stream_with_context(exporting.csv_stream(table)), mimetype="text/csv; charset=utf-8", headers=headers
    )
