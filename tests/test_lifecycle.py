"""The status lifecycle: every legal and every illegal transition, reasons, and what a change records."""

import itertools

import pytest
from sqlalchemy import func, select, update

from webapp import lifecycle
from webapp.extensions import db
from webapp.lifecycle import (
    CALON,
    DISALURKAN,
    KELUAR,
    MANDIRI,
    STATUSES,
    TERVERIFIKASI,
    TIDAK_MEMENUHI_SYARAT,
    USAHA_BERHENTI,
    USAHA_BERJALAN,
    USAHA_KESULITAN,
)
from webapp.models import AuditEvent, Recipient, StatusChange

from . import factories

# The lifecycle as the issue states it, written out independently of the module's table.
SPEC_FORWARD = {
    (CALON, TERVERIFIKASI),
    (TERVERIFIKASI, DISALURKAN),
    (DISALURKAN, USAHA_BERJALAN),
    (USAHA_BERJALAN, USAHA_KESULITAN),
    (USAHA_KESULITAN, USAHA_BERJALAN),
    (USAHA_KESULITAN, USAHA_BERHENTI),
    (USAHA_BERJALAN, USAHA_BERHENTI),  # a business can close overnight: no detour through "kesulitan"
    (USAHA_BERJALAN, MANDIRI),
}
SPEC_EXITS = {(s, e) for s in STATUSES for e in (KELUAR, TIDAK_MEMENUHI_SYARAT) if s != e}
LEGAL = SPEC_FORWARD | SPEC_EXITS
ALL_PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_statuses_are_the_nine_of_the_program():
    assert set(STATUSES) == {
        CALON,
        TERVERIFIKASI,
        DISALURKAN,
        USAHA_BERJALAN,
        USAHA_KESULITAN,
        USAHA_BERHENTI,
        MANDIRI,
        KELUAR,
        TIDAK_MEMENUHI_SYARAT,
    }


def test_table_is_exactly_the_spec():
    table = {(s, t) for s, targets in lifecycle.TRANSITIONS.items() for t in targets}
    assert table == LEGAL


@pytest.mark.parametrize(("old", "new"), sorted(LEGAL))
def test_legal_transition_passes_with_reason(old, new):
    lifecycle.check_transition(old, new, "alasan yang jelas")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (CALON, TERVERIFIKASI),
        (TERVERIFIKASI, DISALURKAN),
        (DISALURKAN, USAHA_BERJALAN),
        (USAHA_KESULITAN, USAHA_BERJALAN),
        (USAHA_BERJALAN, MANDIRI),
    ],
)
def test_progress_needs_no_reason(old, new):
    lifecycle.check_transition(old, new, None)


@pytest.mark.parametrize(("old", "new"), sorted(set(ALL_PAIRS) - LEGAL))
def test_illegal_transition_is_refused_with_message(app, old, new):
    with pytest.raises(lifecycle.TransitionError) as info:
        lifecycle.check_transition(old, new, "alasan")
    assert info.value.field == "status"
    assert str(info.value)  # a message for the person, not an empty error
    assert ("sudah" in str(info.value)) if old == new else ("tidak dapat diubah" in str(info.value))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (USAHA_KESULITAN, KELUAR),
        (USAHA_KESULITAN, TIDAK_MEMENUHI_SYARAT),
        (USAHA_KESULITAN, USAHA_BERHENTI),
        (USAHA_BERJALAN, USAHA_KESULITAN),
        (USAHA_BERJALAN, USAHA_BERHENTI),
    ],
)
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required_for_setbacks_and_exits(app, old, new, reason):
    with pytest.raises(lifecycle.TransitionError) as info:
        lifecycle.check_transition(old, new, reason)
    assert info.value.field == "reason"
    assert "Alasan wajib" in str(info.value)


def test_unknown_status_refused(app):
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.check_transition(CALON, "kaya_raya", "x")


def test_advance_status_records_the_change(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    version = recipient.version
    change = lifecycle.advance_status(recipient, USAHA_KESULITAN, world.users["mentor"], "  omzet turun  ")
    factories.db.session.commit()
    assert recipient.status == USAHA_KESULITAN
    assert recipient.version == version + 1
    stored = factories.db.session.get(StatusChange, change.id)
    assert (stored.from_status, stored.to_status, stored.reason) == (USAHA_BERJALAN, USAHA_KESULITAN, "omzet turun")
    assert stored.changed_by == world.users["mentor"] and stored.changed_at is not None


def test_refused_change_leaves_recipient_untouched(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=CALON)
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.advance_status(recipient, MANDIRI, world.users["mentor"])
    assert recipient.status == CALON
    assert recipient.status_changes == []


def _saved(recipient):
    """(status changes, audit events) stored for `recipient`."""
    return (
        db.session.scalar(
            select(func.count()).select_from(StatusChange).where(StatusChange.recipient_id == recipient.id)
        ),
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == recipient.id)),
    )


def test_change_status_saves_audits_and_commits(world):
    supervisor = world.users["supervisor"]
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    change = lifecycle.change_status(
        recipient, USAHA_KESULITAN, supervisor, "omzet turun", expected_version=recipient.version
    )
    db.session.rollback()  # nothing left to undo: it is committed
    assert recipient.status == USAHA_KESULITAN and change.id is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == recipient.id))
    assert (event.action, event.user_id, event.detail) == (
        "status_change",
        supervisor.id,
        {"old": USAHA_BERJALAN, "new": USAHA_KESULITAN},
    )


def test_change_status_under_a_named_audit_action(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    lifecycle.change_status(recipient, MANDIRI, world.users["supervisor"], "stabil", audit_action="graduated")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == recipient.id))
    assert (event.action, event.detail) == ("graduated", {})


def test_change_status_refuses_an_illegal_move_and_saves_nothing(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    with pytest.raises(lifecycle.TransitionError) as info:
        lifecycle.change_status(recipient, KELUAR, world.users["mentor"], "  ", expected_version=recipient.version)
    assert info.value.field == "reason" and not isinstance(info.value, lifecycle.StaleStatusError)
    assert recipient.status == USAHA_BERJALAN and _saved(recipient) == (0, 0)


def test_change_status_refuses_a_move_the_role_may_only_propose(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    with pytest.raises(lifecycle.TransitionError) as info:
        lifecycle.change_status(recipient, MANDIRI, world.users["mentor"], expected_version=recipient.version)
    assert "hanya dapat diusulkan" in str(info.value)
    assert recipient.status == USAHA_BERJALAN and _saved(recipient) == (0, 0)


def test_change_status_refuses_a_form_older_than_the_family(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    with pytest.raises(lifecycle.StaleStatusError) as info:
        lifecycle.change_status(recipient, MANDIRI, world.users["mentor"], expected_version=recipient.version - 1)
    assert info.value.field == "status" and "baru saja diubah orang lain" in str(info.value)
    assert recipient.status == USAHA_BERJALAN and _saved(recipient) == (0, 0)


def test_change_status_loses_to_a_concurrent_change(world):
    recipient = factories.recipient(mentor=world.users["mentor"], status=USAHA_BERJALAN)
    db.session.commit()
    seen = recipient.version
    with db.engine.begin() as other:  # someone else saves between the read and this change's write
        other.execute(
            update(Recipient)
            .where(Recipient.id == recipient.id)
            .values(status=USAHA_KESULITAN, version=Recipient.version + 1)
        )
    with pytest.raises(lifecycle.StaleStatusError):
        lifecycle.change_status(recipient, MANDIRI, world.users["supervisor"], expected_version=seen)
    db.session.refresh(recipient)
    assert recipient.status == USAHA_KESULITAN and _saved(recipient) == (0, 0)


def test_a_hand_over_recorded_on_the_family_page_dates_the_package(world):
    """The follow-up schedule, overdue list and survival milestones all count from `distributed_on`: a family
    moved to *disalurkan* through the status form (no delivery visit) gets today's WITA date, not none."""
    from webapp import localtime

    recipient = factories.recipient(mentor=world.users["mentor"], status=TERVERIFIKASI, distributed_on=None)
    earlier = factories.recipient(mentor=world.users["mentor"], status=TERVERIFIKASI, distributed_on=None)
    db.session.commit()
    earlier.distributed_on = localtime.today().replace(day=1)
    db.session.commit()
    lifecycle.change_status(recipient, DISALURKAN, world.users["supervisor"], expected_version=recipient.version)
    lifecycle.change_status(earlier, DISALURKAN, world.users["supervisor"], expected_version=earlier.version)
    assert recipient.distributed_on == localtime.today()
    assert earlier.distributed_on == localtime.today().replace(day=1)  # a known date is never overwritten
