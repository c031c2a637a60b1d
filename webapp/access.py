"""Who may see or change what: one helper per object type. Routes never filter by hand."""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, false, select, true

from .extensions import db
from .models import OtherAssistance, Photo, Recipient, Region, TrainingSession, User, Visit


def _recipient_scope(user: User):
    """The condition on Recipient that says which families `user` may see."""
    if user.is_admin:
        return true()
    if user.is_supervisor:
        region_ids = user.region_ids
        return Recipient.region_id.in_(region_ids) if region_ids else false()
    if user.is_mentor:
        return Recipient.mentor_id == user.id
    return false()


def recipients_visible_to(user: User) -> Select[tuple[Recipient]]:
    """A query of the recipients `user` may see: a mentor their own, a supervisor their regions, an admin all."""
    return select(Recipient).where(_recipient_scope(user))


def regions_visible_to(user: User, order_by=Region.name) -> list[Region]:
    """The regencies `user` works in: every regency for an admin, their own for a supervisor or mentor; ordered by
    `order_by` (Region.name for drop-downs, Region.code where the code leads, as in export file names)."""
    query = select(Region).order_by(order_by, Region.id)
    if not user.is_admin:
        region_ids = user.region_ids
        query = query.where(Region.id.in_(region_ids) if region_ids else false())
    return list(db.session.scalars(query))


def mentors_visible_to(user: User) -> Select[tuple[User]]:
    """A query of the mentors `user` may see: all for an admin, those sharing a regency with a supervisor, only
    themself for a mentor."""
    query = select(User).where(User.role == "mentor")
    if user.is_admin:
        return query
    if user.is_supervisor:
        region_ids = user.region_ids
        return query.where(User.regions.any(Region.id.in_(region_ids))) if region_ids else query.where(false())
    if user.is_mentor:
        return query.where(User.id == user.id)
    return query.where(false())


def can_see_recipient(user: User, recipient: Recipient) -> bool:
    if user.is_admin:
        return True
    if user.is_supervisor:
        return recipient.region_id in user.region_ids
    if user.is_mentor:
        return recipient.mentor_id == user.id
    return False


def get_recipient_for(user: User, recipient_id: int, write: bool = False) -> Recipient:
    """The recipient if `user` may see it (and, with write=True, change it); 404 otherwise.

    Out-of-scope recipients answer 404, not 403, so ids do not reveal which families exist.
    Today everyone who may see a recipient may also update it (mentor: own, supervisor: region, admin: all).
    """
    recipient = db.session.get(Recipient, recipient_id)
    if recipient is None or not can_see_recipient(user, recipient):
        abort(404)
    return recipient


def require_role(user: User, *roles: str) -> None:
    """403 unless `user` has one of `roles`."""
    if user.role not in roles:
        abort(403)


def get_photo_for(user: User, photo_id: int) -> Photo:
    """A photo is visible to whoever may see the recipient of its visit; 404 otherwise."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or not can_see_recipient(user, photo.visit.recipient):
        abort(404)
    return photo


def visits_visible_to(user: User) -> Select[tuple[Visit]]:
    """Visits of the families `user` may see (for admins: all, without the join that would only cost time)."""
    if user.is_admin:
        return select(Visit)
    return select(Visit).join(Visit.recipient).where(_recipient_scope(user))


def get_visit_for(user: User, visit_id: int, review: bool = False) -> Visit:
    """The visit if `user` may see its family; with review=True only supervisors of the region and admins
    (403 for a mentor who can see it, 404 for anyone who cannot)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or not can_see_recipient(user, visit.recipient):
        abort(404)
    if review and not (user.is_admin or user.is_supervisor):
        abort(403)
    return visit


def get_own_visit_for(user: User, visit_id: int) -> Visit:
    """A visit its own mentor may correct; 404 for anyone else."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.mentor_id != user.id or not can_see_recipient(user, visit.recipient):
        abort(404)
    return visit


def trainings_visible_to(user: User) -> Select[tuple[TrainingSession]]:
    """Training sessions of the regions a supervisor covers; all for admins; none for mentors."""
    query = select(TrainingSession)
    if user.is_admin:
        return query
    if user.is_supervisor and user.region_ids:
        return query.where(TrainingSession.region_id.in_(user.region_ids))
    return query.where(false())


def get_training_for(user: User, session_id: int) -> TrainingSession:
    """A training session its regency's supervisors and admins may see and change; 403 for mentors, else 404."""
    require_role(user, "admin", "supervisor")
    session = db.session.get(TrainingSession, session_id)
    if session is None or not (user.is_admin or session.region_id in user.region_ids):
        abort(404)
    return session


def get_assistance_for(user: User, recipient: Recipient, assistance_id: int) -> OtherAssistance:
    """A record of other assistance, only through a recipient `user` may change; 404 otherwise."""
    record = db.session.get(OtherAssistance, assistance_id)
    if record is None or record.recipient_id != recipient.id or not can_see_recipient(user, recipient):
        abort(404)
    return record


def get_user_for(user: User, user_id: int) -> User:
    """An account, which only admins may see or change: 403 for everyone else, 404 when there is none."""
    require_role(user, "admin")
    account = db.session.get(User, user_id)
    if account is None:
        abort(404)
    return account
