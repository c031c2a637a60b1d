import datetime as dt

from flask import request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access import require_role
from ..extensions import db
from ..localtime import day_start, parse_day
from ..models import AuditEvent, User
from ..rendering import render
from . import bp

PER_PAGE = 50


@bp.get("/audit")
@login_required
def audit():
    """The audit trail (logins, decisions, status changes, visits), newest first, for admins."""
    require_role(current_user, "admin")
    actions = list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    users = list(db.session.scalars(select(User).order_by(User.username)))
    action = request.args.get("aksi", "")
    action = action if action in actions else ""
    user_id = request.args.get("pengguna", type=int)
    user_id = user_id if user_id in {u.id for u in users} else None
    day_from, day_to = parse_day(request.args.get("dari")), parse_day(request.args.get("sampai"))
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.user))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if action:
        query = query.where(AuditEvent.action == action)
    if user_id:
        query = query.where(AuditEvent.user_id == user_id)
    if day_from:  # WITA days, stored UTC
        query = query.where(AuditEvent.created_at >= day_start(day_from))
    if day_to:
        query = query.where(AuditEvent.created_at < day_start(day_to + dt.timedelta(days=1)))
    page = db.paginate(query, page=request.args.get("halaman", 1, type=int), per_page=PER_PAGE, error_out=False)
    filters = {
        "aksi": action or None,
        "pengguna": user_id,
        "dari": day_from.isoformat() if day_from else None,
        "sampai": day_to.isoformat() if day_to else None,
    }
    return render(
        "admin/audit.html",
        "admin/_audit_list.html",
        page=page,
        actions=actions,
        users=users,
        filters={k: v for k, v in filters.items() if v},
    )
