"""The supervisor's queue of mentors' status proposals (graduation, exits): list, confirm, decline.

The rules (who decides, one decision per proposal, the family's status checked again) live in `lifecycle`; scope
comes from `access`: a proposal is visible exactly when its family is.
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from .. import lifecycle
from ..access import get_recipient_for, recipients_visible_to, require_role
from ..extensions import db
from ..formtools import KailForm, add_error
from ..models import Recipient, StatusProposal
from ..rendering import render, wants_fragment
from . import bp

PER_PAGE = 20


class ProposalDecisionForm(KailForm):
    decision = HiddenField(
        validators=[InputRequired(), AnyOf([lifecycle.PROPOSAL_CONFIRMED, lifecycle.PROPOSAL_DECLINED])]
    )
    note = TextAreaField(
        _l("Catatan untuk pendamping"),
        validators=[Optional(), Length(max=2000, message=_l("Catatan maksimal 2000 karakter."))],
    )


def _waiting_in_scope():
    """Waiting proposals of the families the current user may see."""
    family_ids = recipients_visible_to(current_user).with_only_columns(Recipient.id)
    return select(StatusProposal).where(
        StatusProposal.state == lifecycle.PROPOSAL_WAITING, StatusProposal.recipient_id.in_(family_ids)
    )


def _proposal_for(proposal_id: int) -> StatusProposal:
    """The proposal if the current user may see its family (404 otherwise, as for the family itself)."""
    proposal = db.session.get(StatusProposal, proposal_id)
    if proposal is None:
        abort(404)
    get_recipient_for(current_user, proposal.recipient_id, write=True)
    return proposal


@bp.get("/periksa/usulan")
@login_required
def proposals():
    """Mentors' proposals waiting for a decision, oldest first, with how many wait for each outcome."""
    require_role(current_user, "supervisor", "admin")
    waiting = _waiting_in_scope()
    total, counts = _counts(waiting)
    query = waiting.options(
        selectinload(StatusProposal.recipient).selectinload(Recipient.region), selectinload(StatusProposal.proposed_by)
    ).order_by(StatusProposal.created_at, StatusProposal.id)
    page = db.paginate(
        query, page=request.args.get("halaman", 1, type=int), per_page=PER_PAGE, error_out=False, count=False
    )
    page.total = total
    return render(
        "review/proposals.html",
        "review/_proposal_list.html",
        page=page,
        counts=counts,
        form=ProposalDecisionForm(formdata=None),
    )


def _counts(waiting) -> tuple[int, list[tuple[str, int]]]:
    """How many proposals wait, in all and per proposed status (in the lifecycle's order)."""
    by_status = dict(
        db.session.execute(
            waiting.with_only_columns(StatusProposal.to_status, func.count(StatusProposal.id)).group_by(
                StatusProposal.to_status
            )
        ).all()
    )
    return sum(by_status.values()), [(s, by_status[s]) for s in lifecycle.STATUSES if by_status.get(s)]


def _card(proposal, form, status: int, conflict=None):
    html = render_template("review/_proposal_card.html", proposal=proposal, form=form, conflict=conflict)
    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.vary.add("HX-Request")
    return response


def _refused(proposal, form, status: int, message, conflict: bool = False):
    """A decision not taken: the card with the message (htmx), or back to the queue with it."""
    if wants_fragment():
        return _card(proposal, form, status, conflict=message if conflict else None)
    flash(message, "error")
    return redirect(url_for("review.proposals"), code=303)


@bp.post("/periksa/usulan/<int:proposal_id>")
@login_required
def decide_proposal(proposal_id: int):
    """Confirm a proposal (the family's status changes) or decline it with a note; a second decision is refused."""
    require_role(current_user, "supervisor", "admin")
    proposal = _proposal_for(proposal_id)
    form = ProposalDecisionForm()
    if not form.validate_on_submit():
        return _refused(proposal, form, 422, _("Keputusan tidak dapat dibaca. Coba lagi."))
    by = current_user._get_current_object()
    try:
        if form.decision.data == lifecycle.PROPOSAL_CONFIRMED:
            lifecycle.confirm(proposal, by, form.note.data)
        else:
            lifecycle.decline(proposal, by, form.note.data)
    except (lifecycle.ProposalDecided, lifecycle.ProposalObsolete, lifecycle.StaleStatusError) as exc:
        db.session.refresh(proposal)
        return _refused(proposal, form, 409, str(exc), conflict=True)
    except lifecycle.TransitionError as exc:
        if exc.field == "note":
            add_error(form.note, exc)
            return _refused(proposal, form, 422, str(exc))
        return _refused(proposal, form, 409, str(exc), conflict=True)
    name = proposal.recipient.name
    if proposal.state == lifecycle.PROPOSAL_CONFIRMED:
        message = _(
            "Usulan disetujui: %(name)s kini berstatus %(status)s.",
            name=name,
            status=lifecycle.status_label(proposal.to_status),
        )
    else:
        message = _(
            "Usulan untuk %(name)s ditolak; status tetap %(status)s.",
            name=name,
            status=lifecycle.status_label(proposal.recipient.status),
        )
    if wants_fragment():
        total, counts = _counts(_waiting_in_scope())  # the header's count, sent along out of band
        return render_template("review/_proposal_decided.html", proposal=proposal, message=message) + render_template(
            "review/_proposal_count.html", total=total, counts=counts, oob=True
        )
    flash(message, "ok")
    return redirect(url_for("review.proposals"), code=303)
