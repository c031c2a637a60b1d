"""Caseload stamps: a value on each user that changes with every commit changing what their work list shows.

The mentor home is the most requested page and the same for a mentor until one of their families or visits
changes (or the day turns). Rendering it costs ~10 ms of CPU (the work list's statements, ranking, 20 cards,
~115 translated strings); a cached copy costs a dictionary lookup. To know when a copy is stale without asking
the database anything more, every commit that writes a family or a visit gives the families' mentors a new
random `users.caseload_stamp`, and the copy is filed under the stamp it was made with. The stamp arrives with the
user, whom every request loads anyway, so a page still valid costs no statement at all, on every app server.

What changes a stamp, whatever code path writes (nothing to remember in each view):
- a Recipient or Visit added, changed or deleted through the session (the unit of work): the family's mentor,
  before and after a reassignment;
- an ORM bulk INSERT/UPDATE/DELETE of families or visits (an import, a hand-over): every user's stamp.
The stamps are written at commit, after the last flush, in id order and with the lock an UPDATE takes anyway
(FOR NO KEY UPDATE, which a foreign key's check does not block): a transaction holds the users' rows only for its
last moments, so two writers cannot deadlock on them. A rolled-back transaction changes nothing.

Writes around the session (raw SQL on a connection, a database edited by hand) do not change stamps; pages
cached by a running server may then be stale until the next change for that mentor or a restart.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from .models import Recipient, User, Visit

_MENTORS = "kail_caseload_mentors"  # session.info: mentor ids whose work list the transaction changed
_FAMILIES = "kail_caseload_families"  # ... families (ids) whose mentor is read at commit
_EVERYONE = "kail_caseload_everyone"  # ... a bulk statement: every stamp changes


def new_stamp() -> str:
    return uuid.uuid4().hex


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush_context, _instances) -> None:
    mentors, families = session.info.setdefault(_MENTORS, set()), session.info.setdefault(_FAMILIES, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Recipient):
            # The mentor now and, when reassigned, before (mentor_id keeps its old value: active_history).
            history = inspect(obj).attrs.mentor_id.history
            mentors.update(m for m in (obj.mentor_id, *history.deleted) if m is not None)
        elif isinstance(obj, Visit):
            history = inspect(obj).attrs.recipient_id.history
            families.update(f for f in (obj.recipient_id, *history.deleted) if f is not None)
            if obj.recipient_id is None and obj.recipient is not None:  # a new visit given its family object
                mentors.update(m for m in (obj.recipient.mentor_id,) if m is not None)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ in (Recipient, Visit):
            state.session.info[_EVERYONE] = True


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    if session.in_nested_transaction():
        return  # the outer commit stamps
    session.flush()  # what is still pending is written now, so the stamps come last
    info = session.info
    mentors, families = info.pop(_MENTORS, set()), info.pop(_FAMILIES, set())
    everyone = info.pop(_EVERYONE, False)
    if not (mentors or families or everyone):
        return
    # The rows locked in one order by every writer, and FOR NO KEY UPDATE (what the UPDATE takes anyway), not FOR
    # UPDATE: inserting a visit takes FOR KEY SHARE on its mentor's row (the foreign key's check), and two of
    # the same mentor's visits stored at once would each wait for the other's.
    ids = select(User.id).order_by(User.id).with_for_update(key_share=True)
    if not everyone:
        mentors |= {m for m in session.scalars(select(Recipient.mentor_id).where(Recipient.id.in_(families))) if m}
        if not mentors:
            return
        ids = ids.where(User.id.in_(sorted(mentors)))
    session.execute(
        update(User).where(User.id.in_(ids.scalar_subquery())).values(caseload_stamp=new_stamp()),
        execution_options={"synchronize_session": False},
    )


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction is gone, and what it changed
        for key in (_MENTORS, _FAMILIES, _EVERYONE):
            session.info.pop(key, None)


class PageCache:
    """Rendered pages, the least recently used dropped beyond `size`; per process, safe across threads.

    A key must name everything the page shows (the user's stamp among it): entries are never invalidated, only
    never asked for again.
    """

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], str]) -> tuple[str, bool]:
        """The page filed under `key`, made and filed on a miss; and whether it was there already."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                return page, True
        page = make()  # outside the lock: two threads may both make a missing page, and file the same text
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
        return page, False

    def __len__(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
