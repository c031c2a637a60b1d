"""Pages that belong to no single area: the start page redirect, help, and the health check."""

from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from .. import integrity, storage
from ..extensions import db
from . import bp


@bp.get("/")
@login_required
def index():
    """Each role starts where its work is: mentors at their visit list, supervisors and admins at the queue."""
    return redirect(url_for("visits.home" if current_user.is_mentor else "review.queue"))


@bp.get("/bantuan")
@login_required
def help():
    """Short help for mentors: photos that pass review, what each flag means, working offline."""
    thresholds = integrity.Thresholds.from_config(current_app.config)
    return render_template("home/help.html", flags=integrity.flag_help(thresholds))


@bp.get("/healthz")
def healthz():
    """For load balancers and uptime checks: the database answers and the photo store takes writes."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported, not raised
        db.session.rollback()
        checks["database"] = "error"
    try:
        storage.current().check()  # the folder takes writes, or the bucket answers to these credentials
        checks["uploads"] = "ok"
    except storage.StorageError:
        checks["uploads"] = "error"
    healthy = all(v == "ok" for v in checks.values())
    return {"status": "ok" if healthy else "error", **checks}, 200 if healthy else 503
