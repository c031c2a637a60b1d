"""Accounts, for admins: the list, a new account, and what can happen to one (deactivate, reactivate, a one-time
password, another role or regency, handing a mentor's families to another mentor). The rules are in accounts.py."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import accounts
from ..access import get_user_for, require_role
from ..extensions import db
from ..formtools import add_error, as_choices
from ..models import ROLE_MENTOR, ROLES, Recipient, Region, User
from ..rendering import render
from ..sqltools import contains
from . import bp
from .forms import ROLE_LABELS, ActionForm, HandOverForm, RoleForm, UserForm

PER_PAGE = 30
ACTIVE_FILTER = ("ya", "tidak")


def _regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def _role_choices(form: RoleForm, regions: list[Region]) -> RoleForm:
    form.role.choices = as_choices([("", _("— pilih —"))] + [(role, ROLE_LABELS[role]) for role in ROLES])
    form.regions.choices = as_choices([(r.code, r.full_name) for r in regions])
    return form


def _filters(regions: list[Region]) -> dict:
    """The list's filters, read leniently: anything unknown is ignored rather than refused."""
    role = request.args.get("peran", "")
    region = request.args.get("wilayah", "")
    active = request.args.get("aktif", "")
    return {
        "q": (request.args.get("q") or "").strip()[:80],
        "peran": role if role in ROLES else "",
        "wilayah": region if region in {r.code for r in regions} else "",
        "aktif": active if active in ACTIVE_FILTER else "",
    }


@bp.get("/pengguna")
@login_required
def users():
    """Every account, searchable by name and filtered by role, regency and whether it is active."""
    require_role(current_user, "admin")
    regions = _regions()
    filters = _filters(regions)
    query = select(User).options(selectinload(User.regions)).order_by(User.active.desc(), User.full_name, User.id)
    if filters["q"]:
        query = query.where(or_(contains(User.username, filters["q"]), contains(User.full_name, filters["q"])))
    if filters["peran"]:
        query = query.where(User.role == filters["peran"])
    if filters["wilayah"]:
        query = query.where(User.regions.any(Region.code == filters["wilayah"]))
    if filters["aktif"]:
        query = query.where(User.active.is_(filters["aktif"] == "ya"))
    page = db.paginate(query, page=request.args.get("halaman", 1, type=int), per_page=PER_PAGE, error_out=False)
    mentor_ids = [u.id for u in page.items if u.is_mentor]
    families = (
        dict(
            db.session.execute(
                select(Recipient.mentor_id, func.count())
                .where(Recipient.mentor_id.in_(mentor_ids))
                .group_by(Recipient.mentor_id)
            ).all()
        )
        if mentor_ids
        else {}
    )
    return render(
        "admin/users.html",
        "admin/_user_list.html",
        page=page,
        regions=regions,
        filters=filters,
        params={k: v for k, v in filters.items() if v},
        families=families,
        role_labels=ROLE_LABELS,
    )


def _new_page(form: UserForm, status: int = 200):
    return render("admin/user_new.html", "admin/user_new.html", status=status, form=form, role_labels=ROLE_LABELS)


@bp.get("/pengguna/baru")
@login_required
def user_new():
    require_role(current_user, "admin")
    return _new_page(_role_choices(UserForm(formdata=None), _regions()))


@bp.post("/pengguna/baru")
@login_required
def user_create():
    """Create an account with a one-time password, shown once on the account's page."""
    require_role(current_user, "admin")
    form = _role_choices(UserForm(formdata=request.form), _regions())
    if not form.validate_on_submit():
        if not form.errors:
            abort(400)
        return _new_page(form, 422)
    try:
        user, password = accounts.create_account(
            form.username.data, form.full_name.data, form.role.data, form.regions.data, form.phone.data, current_user
        )
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        add_error(getattr(form, exc.field, form.username), exc.message)
        return _new_page(form, 422)
    return _detail_page(user, password=password, done=_("Akun dibuat."), status=201)


def _detail_page(
    user: User,
    status: int = 200,
    password: str | None = None,
    done: str | None = None,
    error: str | None = None,
    role_form: RoleForm | None = None,
    hand_over_form: HandOverForm | None = None,
):
    regions = _regions()
    if role_form is None:
        role_form = _role_choices(RoleForm(formdata=None), regions)
        role_form.role.data = user.role
        role_form.regions.data = [r.code for r in user.regions]
    families = accounts.families_of(user)
    if hand_over_form is None:
        hand_over_form = HandOverForm(formdata=None)
    targets = (
        []
        if not families
        else list(
            db.session.scalars(
                select(User)
                .where(
                    User.role == ROLE_MENTOR,
                    User.active.is_(True),
                    User.id != user.id,
                    User.regions.any(Region.id.in_(user.region_ids or [0])),
                )
                .order_by(User.full_name, User.id)
            )
        )
    )
    hand_over_form.to_mentor.choices = as_choices(
        [("", _("— pilih —"))] + [(str(m.id), f"{m.full_name} ({m.username})") for m in targets]
    )
    return render(
        "admin/user_detail.html",
        "admin/user_detail.html",
        status=status,
        user=user,
        password=password,
        done=done,
        error=error,
        role_form=role_form,
        hand_over_form=hand_over_form,
        families=families,
        targets=targets,
        role_labels=ROLE_LABELS,
    )


@bp.get("/pengguna/<int:user_id>")
@login_required
def user_detail(user_id: int):
    """One account: its role, regencies and families, and the actions an admin may take on it."""
    return _detail_page(get_user_for(current_user, user_id))


def _acted_on(user_id: int) -> User:
    """The account a field-less action form (deactivate, reactivate, reset) was posted for."""
    user = get_user_for(current_user, user_id)
    if not ActionForm(formdata=request.form).validate_on_submit():
        abort(400)
    return user


def _refused(user: User, exc: accounts.AccountError):
    db.session.rollback()
    return _detail_page(user, 422, error=str(exc.message))


def _act(user_id: int, change, message: str):
    """`change(user, admin)` (an `accounts` function) on the account posted for, committed: back to its page with
    `message`, or the page again with why it was refused."""
    user = _acted_on(user_id)
    try:
        change(user, current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        return _refused(user, exc)
    flash(message, "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id), code=303)


@bp.post("/pengguna/<int:user_id>/nonaktifkan")
@login_required
def user_deactivate(user_id: int):
    """Lock the account out now: every session of it ends."""
    return _act(user_id, accounts.deactivate_user, _("Akun dinonaktifkan."))


@bp.post("/pengguna/<int:user_id>/aktifkan")
@login_required
def user_reactivate(user_id: int):
    return _act(user_id, accounts.reactivate_user, _("Akun diaktifkan lagi."))


@bp.post("/pengguna/<int:user_id>/sandi-baru")
@login_required
def user_reset_password(user_id: int):
    """A new one-time password, shown in this answer only (never stored in clear, never redirected to)."""
    user = _acted_on(user_id)
    try:
        password = accounts.reset_password(user, current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        return _refused(user, exc)
    return _detail_page(user, password=password, done=_("Kata sandi baru dibuat."))


@bp.post("/pengguna/<int:user_id>/peran")
@login_required
def user_change_role(user_id: int):
    user = get_user_for(current_user, user_id)
    form = _role_choices(RoleForm(formdata=request.form), _regions())
    if not form.validate_on_submit():
        if not form.errors:
            abort(400)
        return _detail_page(user, 422, role_form=form)
    try:
        accounts.change_role_and_regions(user, form.role.data, form.regions.data, current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        add_error(getattr(form, exc.field, form.role), exc.message)
        return _detail_page(user, 422, role_form=form)
    flash(_("Peran dan wilayah tersimpan. Pengguna ini perlu masuk lagi."), "ok")
    return redirect(url_for("admin.user_detail", user_id=user_id), code=303)


@bp.post("/pengguna/<int:user_id>/serahkan")
@login_required
def user_hand_over(user_id: int):
    """Give all of this mentor's families to another active mentor of their regency."""
    user = get_user_for(current_user, user_id)
    form = HandOverForm(formdata=request.form)
    if not form.validate_on_submit():
        if not form.errors:
            abort(400)
        return _detail_page(user, 422, hand_over_form=form)
    target = db.session.get(User, int(form.to_mentor.data)) if form.to_mentor.data.isdigit() else None
    if target is None:
        add_error(form.to_mentor, _("Pilih pendamping yang aktif."))
        return _detail_page(user, 422, hand_over_form=form)
    try:
        moved = accounts.hand_over_families(user, target, current_user)
        db.session.commit()
    except accounts.AccountError as exc:
        db.session.rollback()
        add_error(form.to_mentor, exc.message)
        return _detail_page(user, 422, hand_over_form=form)
    flash(_("%(num)s keluarga diserahkan kepada %(name)s.", num=len(moved), name=target.full_name), "ok")
    return redirect(url_for("admin.user_detail", user_id=user_id), code=303)
