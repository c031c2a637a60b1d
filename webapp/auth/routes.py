from urllib.parse import urlsplit

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload

from .. import accounts, audit
from ..extensions import db, login_manager
from ..formtools import add_error
from ..models import User
from . import bp
from .forms import LoginForm, PasswordForm, ProfileForm

# The session key holding the user's `session_generation` as it was at login (see accounts.end_sessions).
GENERATION_KEY = "generation"

# What a user whose password must be replaced may still reach: the page to replace it, logout, and what the
# installed app needs to start (static files, manifest, service worker, offline page, CSRF token).
_OPEN_WHILE_PASSWORD_CHANGE = {"auth.profile", "auth.logout", "static"}


def _start_session(user: User) -> None:
    """Tie the session to the user's current generation: raising it (logout, password change, reset,
    deactivation) ends this session and every copy of its cookie."""
    session[GENERATION_KEY] = user.session_generation or 0


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # Its regencies in the same statement: every page's app bar names them (one round trip less a page).
    user = db.session.get(User, int(user_id), options=[joinedload(User.regions)]) if user_id.isdigit() else None
    # A deactivated user, or a session from before the user's last logout or password change, is logged out on
    # its next request; the cookie is emptied (so deleted), never renewed for another 30 days.
    if user is None or not user.is_active or session.get(GENERATION_KEY) != (user.session_generation or 0):
        session.clear()
        return None
    return user


def _wants_json() -> bool:
    return bool(request.headers.get("X-Kail-Outbox") or request.path.startswith("/csrf-token") or request.is_json)


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send people to the login page; the phone's outbox and other scripts get a 401 they can act on."""
    if _wants_json():
        return jsonify({"status": "login_required", "message": _("Sesi berakhir. Masuk lagi untuk mengirim.")}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


@bp.before_app_request
def password_change_first():
    """A user whose password was set by someone else (new account, reset) reaches nothing but the page to
    replace it (and logout) until they have. The phone's outbox gets a 401, so it keeps its visits."""
    endpoint = request.endpoint or ""
    if endpoint in _OPEN_WHILE_PASSWORD_CHANGE or endpoint.startswith("pwa."):
        return None
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    if _wants_json():
        return jsonify(
            {"status": "password_change_required", "message": _("Ganti kata sandi dulu, lalu kirim lagi.")}
        ), 401
    return redirect(url_for("auth.profile"))


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
        accounts.record_login_attempt(
            form.username.data, request.remote_addr, success=user is not None, config=current_app.config
        )
        db.session.commit()
        if user is not None:
            session.clear()  # nothing from before the login survives it
            session.permanent = True  # mentors stay logged in for weeks in the field (PERMANENT_SESSION_LIFETIME)
            login_user(user)
            _start_session(user)
            audit.record("login", user, user=user)
            db.session.commit()
            if user.must_change_password:
                return redirect(url_for("auth.profile"))
            return redirect(safe_next(request.args.get("next")))
        error = _("Nama pengguna atau kata sandi salah.")
        form.password.data = ""
    status = 200 if request.method == "GET" else (401 if error else 400)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/keluar")
def logout():
    """Log out everywhere: every session of the user ends, copies of this cookie included."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        accounts.end_sessions(user)
        audit.record("logout", user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    """The user's own account: who they are, the language Kail speaks to them, and their password. A user who
    must replace their password sees only that form (`password_change_first` keeps them here)."""
    user = current_user._get_current_object()
    forced = user.must_change_password
    changing = forced or request.form.get("bagian") == "kata-sandi"
    form = ProfileForm(locale=user.locale or "")
    password_form = PasswordForm()
    if request.method == "POST" and changing:
        if password_form.validate_on_submit():
            try:
                accounts.change_own_password(user, password_form.current_password.data, password_form.new_password.data)
            except accounts.AccountError as error:
                add_error(getattr(password_form, error.field), error.message)
            else:
                _start_session(user)  # this phone stays logged in; every other session has ended
                db.session.commit()
                flash(_("Kata sandi diganti. Sesi di perangkat lain sudah diakhiri."), "ok")
                return redirect(url_for("home.index") if forced else url_for("auth.profile"), code=303)
    elif form.validate_on_submit():
        user.locale = form.locale.data or None
        audit.record("profile_changed", user, user=user, locale=user.locale)
        db.session.commit()
        flash(_("Tersimpan."), "ok")
        return redirect(url_for("auth.profile"), code=303)
    status = 422 if form.errors or password_form.errors else 200
    return render_template(
        "auth/profile.html", form=form, password_form=password_form, user=user, forced=forced
    ), status
