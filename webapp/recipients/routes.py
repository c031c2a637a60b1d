from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, lifecycle
from ..access import get_assistance_for, get_recipient_for, recipients_visible_to, regions_visible_to
from ..extensions import db
from ..formtools import add_error, submitted
from ..models import OtherAssistance, Recipient, Region, StatusProposal
from ..rendering import render
from ..sqltools import contains
from . import bp
from .forms import AssistanceForm, StatusChangeForm


def _filters() -> dict:
    """The list's filters from the query string, cleaned: bad values are ignored, never an error."""
    q = (request.args.get("q") or "").strip()[:80]
    status = request.args.get("status") or ""
    if status not in lifecycle.STATUSES:
        status = ""
    region = request.args.get("wilayah") or ""
    return {"q": q, "status": status, "region": region}


@bp.get("/")
@login_required
def index():
    """The recipients this user may see, searchable by name or NIK and filterable by status and region."""
    filters = _filters()
    query = recipients_visible_to(current_user)
    if filters["q"]:
        needle = filters["q"]
        if needle.isdigit():
            query = query.where(or_(Recipient.nik.startswith(needle), Recipient.kk_number.startswith(needle)))
        else:
            query = query.where(contains(Recipient.name, needle))
    if filters["status"]:
        query = query.where(Recipient.status == filters["status"])
    # Mentors see only their own families: no regency filter for them.
    regions = [] if current_user.is_mentor else regions_visible_to(current_user)
    if filters["region"] and filters["region"] in {r.code for r in regions}:
        query = query.join(Recipient.region).where(Region.code == filters["region"])
    else:
        filters["region"] = ""
    query = query.options(selectinload(Recipient.region)).order_by(Recipient.name, Recipient.id)
    page = db.paginate(
        query,
        page=request.args.get("halaman", 1, type=int),
        per_page=current_app.config["RECIPIENTS_PER_PAGE"],
        error_out=False,
    )
    return render(
        "recipients/index.html",
        "recipients/_recipient_list.html",
        page=page,
        filters=filters,
        regions=regions,
        statuses=lifecycle.STATUSES,
    )


def _detail_context(recipient: Recipient, form: StatusChangeForm | None = None) -> dict:
    if form is None:
        form = StatusChangeForm(formdata=None, version=recipient.version)
    form.set_choices(recipient.status, current_user.role)
    return {
        "recipient": recipient,
        "form": form,
        "assistance_form": AssistanceForm(formdata=None),
        "proposal": lifecycle.latest_proposal(recipient),
    }


@bp.get("/<int:recipient_id>")
@login_required
def detail(recipient_id: int):
    recipient = get_recipient_for(current_user, recipient_id)
    return render("recipients/detail.html", "recipients/_status_panel.html", **_detail_context(recipient))


@bp.post("/<int:recipient_id>/status")
@login_required
def change_status(recipient_id: int):
    """Move a recipient along the lifecycle as the user's role may: a direct change, a mentor's proposal for the
    supervisor (graduation, exits), or a supervisor's correction; refusals get a message, nothing is saved."""
    recipient = get_recipient_for(current_user, recipient_id, write=True)
    form = StatusChangeForm()
    form.set_choices(recipient.status, current_user.role)
    if form.validate_on_submit():
        try:
            outcome = lifecycle.request_change(
                recipient,
                form.status.data,
                current_user._get_current_object(),
                form.reason.data,
                expected_version=form.version.data,
            )
        except lifecycle.StaleStatusError as exc:
            recipient = get_recipient_for(current_user, recipient_id, write=True)
            form = StatusChangeForm(formdata=None, version=recipient.version, reason=form.reason.data)
            form.set_choices(recipient.status, current_user.role)
            add_error(form.status, exc)
        except lifecycle.TransitionError as exc:
            add_error(getattr(form, exc.field), exc)
        else:
            proposed = isinstance(outcome, StatusProposal)
            if request.htmx:
                return render(
                    "recipients/detail.html",
                    "recipients/_status_panel.html",
                    **_detail_context(recipient),
                    saved=not proposed,
                    proposed=proposed,
                    oob_timeline=not proposed,
                )
            outcome_arg = {"usulan": 1} if proposed else {"saved": 1}
            return redirect(url_for("recipients.detail", recipient_id=recipient.id, **outcome_arg))
    elif request.method == "POST" and not form.errors:
        abort(400)
    return render(
        "recipients/detail.html", "recipients/_status_panel.html", status=422, **_detail_context(recipient, form)
    )


def _assistance_panel(recipient: Recipient, form: AssistanceForm, status: int = 200, saved: str | None = None):
    context = {**_detail_context(recipient), "assistance_form": form, "assistance_saved": saved}
    return render("recipients/detail.html", "recipients/_assistance.html", status=status, **context)


@bp.post("/<int:recipient_id>/bantuan-lain")
@login_required
def add_assistance(recipient_id: int):
    """Record other help the family receives (BLT, sembako, PKH, RTLH, sanitation, clean water)."""
    recipient = get_recipient_for(current_user, recipient_id, write=True)
    form = AssistanceForm()
    if not submitted(form):
        return _assistance_panel(recipient, form, 422)
    record = OtherAssistance(
        recipient=recipient,
        kind=form.kind.data,
        office=form.office.data.strip(),
        received_on=form.received_on.data,
        note=(form.note.data or "").strip(),
        recorded_by=current_user._get_current_object(),
    )
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the same kind on the same day: a double tap or a retry, already stored
        db.session.rollback()
        recipient = get_recipient_for(current_user, recipient_id, write=True)
        return _assistance_panel(recipient, AssistanceForm(formdata=None), saved=_("Sudah tercatat sebelumnya."))
    audit.record("assistance_added", recipient, kind=record.kind, office=record.office)
    db.session.commit()
    if request.htmx:
        return _assistance_panel(recipient, AssistanceForm(formdata=None), saved=_("Bantuan lain tersimpan."))
    return redirect(url_for("recipients.detail", recipient_id=recipient.id) + "#assistance", code=303)


@bp.post("/<int:recipient_id>/bantuan-lain/<int:assistance_id>/hapus")
@login_required
def remove_assistance(recipient_id: int, assistance_id: int):
    recipient = get_recipient_for(current_user, recipient_id, write=True)
    record = get_assistance_for(current_user, recipient, assistance_id)
    audit.record("assistance_removed", recipient, kind=record.kind, received_on=record.received_on.isoformat())
    db.session.delete(record)
    db.session.commit()
    db.session.refresh(recipient)
    if request.htmx:
        return _assistance_panel(recipient, AssistanceForm(formdata=None), saved=_("Catatan dihapus."))
    return redirect(url_for("recipients.detail", recipient_id=recipient.id) + "#assistance", code=303)
