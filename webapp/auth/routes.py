from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts, audit
from ..extensions import db, login_manager
from ..models import User
from . import bp
from .forms import LoginForm, ProfileForm


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    # A deactivated user is logged out on their next request.
    return user if user is not None and user.is_active else None


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send people to the login page; the phone's outbox and other scripts get a 401 they can act on."""
    if request.headers.get("X-Kail-Outbox") or request.path.startswith("/csrf-token") or request.is_json:
        return jsonify({"status": "login_required", "message": _("Sesi berakhir. Masuk lagi untuk mengirim.")}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """`next` only when it is a path on this site; anything else (//evil, https://evil) goes home."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    """Log in with username and password; one generic message for every kind of failure."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        blocked = accounts.login_blocked_for(form.username.data, request.remote_addr, current_app.config)
        if blocked:
            error = _("Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(min)s menit.", min=blocked)
            form.password.data = ""
            return render_template("auth/login.html", form=form, error=error), 429
        user = accounts.authenticate(form.username.data, form.password.data, current_app.config["DEMO_MODE"])
        accounts.record_login_attempt(form.username.data, request.remote_addr, success=user is not None)
        db.session.commit()
        if user is not None:
            session.clear()  # nothing from before the login survives it
            session.permanent = True  # mentors stay logged in for weeks in the field (PERMANENT_SESSION_LIFETIME)
            login_user(user)
            audit.record("login", user, user=user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        error = _("Nama pengguna atau kata sandi salah.")
        form.password.data = ""
    status = 200 if request.method == "GET" else (401 if error else 400)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/keluar")
def logout():
    if current_user.is_authenticated:
        audit.record("logout", current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    """The user's own account: who they are, and the language Kail speaks to them."""
    user = current_user._get_current_object()
    form = ProfileForm(locale=user.locale or "")
    if form.validate_on_submit():
        user.locale = form.locale.data or None
        audit.record("profile_changed", user, user=user, locale=user.locale)
        db.session.commit()
        flash(_("Tersimpan."), "ok")
        return redirect(url_for("auth.profile"), code=303)
    status = 422 if form.errors else 200
    return render_template("auth/profile.html", form=form, user=user), status
