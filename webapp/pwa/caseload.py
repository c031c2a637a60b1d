"""The caseload a mentor keeps on her phone: every page she needs offline, each with a version.

The phone asks for this list whenever it has signal (`/offline/daftar.json`), compares each version with the copy
it holds and fetches only the pages whose version changed; pages no longer listed (a family reassigned away) are
deleted. A version is a hash of everything its page shows — the family's row, visits and their review rounds,
status history, proposals, other assistance, training — plus what every page shows (the build, the language, the
user, today's date in WITA), so it changes exactly when the page would render differently (CSRF tokens and
fresh visit codes aside: the phone mints those itself).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select

from .. import localtime, review_states, visit_kinds
from ..access import recipients_visible_to
from ..extensions import db
from ..models import OtherAssistance, Recipient, StatusChange, StatusProposal, User, Visit, training_attendance


@dataclass(frozen=True)
class CachedPage:
    url: str  # the address the phone looks the page up under
    version: str
    family: int | None = None
    fetch: str | None = None  # where to fetch it, when that differs from `url` (the whole work list)

    def as_json(self) -> dict:
        data = {"url": self.url, "v": self.version}
        if self.family is not None:
            data["family"] = self.family
        if self.fetch:
            data["fetch"] = self.fetch
        return data


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _family_states(ids: list[int]) -> dict[int, list]:
    """What a family page and its forms show, per family, as comparable tuples (a few grouped queries)."""
    state: dict[int, list] = defaultdict(list)
    if not ids:
        return state
    visits = db.session.execute(
        select(Visit.recipient_id, Visit.id, Visit.round, Visit.review_state, Visit.reviewed_at, Visit.mentor_id)
        .where(Visit.recipient_id.in_(ids))
        .order_by(Visit.id)
    )
    for row in visits:
        state[row[0]].append(("v", *row[1:]))
    grouped = (
        (StatusChange, StatusChange.recipient_id, StatusChange.id),
        (OtherAssistance, OtherAssistance.recipient_id, OtherAssistance.id),
    )
    for model, key, pk in grouped:
        rows = db.session.execute(
            select(key, func.count(), func.max(pk)).select_from(model).where(key.in_(ids)).group_by(key)
        )
        for recipient_id, count, last in rows:
            state[recipient_id].append((model.__tablename__, count, last))
    proposals = db.session.execute(
        select(StatusProposal.recipient_id, StatusProposal.id, StatusProposal.state).where(
            StatusProposal.recipient_id.in_(ids)
        )
    )
    for recipient_id, pid, pstate in proposals:
        state[recipient_id].append(("p", pid, pstate))
    trainings = db.session.execute(
        select(training_attendance.c.recipient_id, func.count(), func.max(training_attendance.c.session_id))
        .where(training_attendance.c.recipient_id.in_(ids))
        .group_by(training_attendance.c.recipient_id)
    )
    for recipient_id, count, last in trainings:
        state[recipient_id].append(("t", count, last))
    return state


def pages_for(user: User, build: str, locale: str) -> list[CachedPage]:
    """Every page `user` keeps offline. Only mentors keep families: supervisors and admins review with signal,
    and a regency's whole list has no place on one phone; they keep the help page alone."""
    common = (build, locale, user.id, user.full_name, user.role, localtime.today().isoformat())
    pages = [CachedPage(url_for("home.help"), _digest(common, "help"))]
    if not user.is_mentor:
        return pages
    families = db.session.scalars(recipients_visible_to(user).order_by(Recipient.id)).all()
    states = _family_states([f.id for f in families])
    family_versions = []
    for family in families:
        version = _digest(
            common,
            family.id,
            family.version,
            family.updated_at,
            family.mentor_id,
            states.get(family.id, []),
        )
        family_versions.append(version)
        pages.append(CachedPage(url_for("recipients.detail", recipient_id=family.id), version, family.id))
        for i, kind in enumerate(visit_kinds.kinds_offered(family.status)):
            # The first kind is the one "Catat kunjungan" opens (no `jenis`); the others are one tap away.
            extra = {"jenis": kind} if i else {}
            url = url_for("visits.create", recipient_id=family.id, **extra)
            pages.append(CachedPage(url, version, family.id))
        sent_back = [
            row
            for row in states.get(family.id, [])
            if row[0] == "v" and row[3] == review_states.SENT_BACK and row[5] == user.id
        ]
        for row in sent_back:
            pages.append(CachedPage(url_for("visits.resubmit", visit_id=row[1]), version, family.id))
    home = url_for("visits.home")
    pages.append(CachedPage(home, _digest(common, family_versions), fetch=url_for("visits.home", semua=1)))
    return pages


BATCH_MAX = 20


def render_pages(app, urls: list[str], environ: dict) -> list[dict]:
    """Render several of the caller's pages in one response (a batch), each exactly as its own GET would: same
    session cookie, same language, every check and hook of a real request, in a fresh app context. One
    compressed answer for ten pages that share their layout and form markup costs half the bytes of ten answers,
    and a tenth of the round trips, which is what a 300 ms link pays for."""
    headers = {
        "Cookie": environ.get("HTTP_COOKIE", ""),
        "Accept-Language": environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        "Accept-Encoding": "identity",
    }
    base = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
    pages = []
    for url in urls:
        with app.app_context(), app.test_request_context(url, base_url=base, headers=headers):
            response = app.full_dispatch_request()
            ok = response.status_code == 200 and response.mimetype == "text/html"
            pages.append(
                {"url": url, "status": response.status_code, "html": response.get_data(as_text=True) if ok else None}
            )
    return pages
