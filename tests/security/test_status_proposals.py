"""A mentor cannot close a case alone, and no status is a dead end.

Graduation (mandiri) and the exits are a mentor's proposal, which the family's supervisor (or an admin) confirms or
declines; supervisors and admins may correct any status with a reason. Who may make which move is one table,
`lifecycle.MOVES`, checked here for every role x from x to against the rule written out independently.
"""

import io
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
from webapp.models import AuditEvent, Recipient, StatusChange, StatusProposal, Visit

from .. import test_visits as visit_helpers
from ..conftest import csrf_token, login

HX = {"HX-Request": "true"}

# The rule as the issue states it, written out independently of the module's table.
FORWARD = {
    (CALON, TERVERIFIKASI),
    (TERVERIFIKASI, DISALURKAN),
    (DISALURKAN, USAHA_BERJALAN),
    (USAHA_BERJALAN, USAHA_KESULITAN),
    (USAHA_KESULITAN, USAHA_BERJALAN),
    (USAHA_KESULITAN, USAHA_BERHENTI),
    (USAHA_BERJALAN, USAHA_BERHENTI),  # a business can close overnight: no detour through "kesulitan"
    (USAHA_BERJALAN, MANDIRI),
}
LEGAL = FORWARD | {(s, e) for s in STATUSES for e in (KELUAR, TIDAK_MEMENUHI_SYARAT) if s != e}
CLOSING = {MANDIRI, KELUAR, TIDAK_MEMENUHI_SYARAT}


def expected_move(role, old, new):
    if old == new:
        return None
    if role == "mentor":
        if (old, new) not in LEGAL:
            return None
        return lifecycle.PROPOSAL if new in CLOSING else lifecycle.DIRECT
    return lifecycle.DIRECT if (old, new) in LEGAL else lifecycle.CORRECTION  # supervisor, admin


@pytest.mark.parametrize(("role", "old", "new"), list(itertools.product(lifecycle.ROLES, STATUSES, STATUSES)))
def test_the_table_for_every_role_from_and_to(app, role, old, new):
    expected = expected_move(role, old, new)
    assert lifecycle.moves_for(role, old).get(new) == expected
    if expected is None:
        with pytest.raises(lifecycle.TransitionError) as info:
            lifecycle.check_move(role, old, new, "alasan")
        assert info.value.field == "status" and str(info.value)
        return
    assert lifecycle.check_move(role, old, new, "alasan yang jelas") == expected
    if expected == lifecycle.CORRECTION or new in lifecycle.REASON_REQUIRED:
        with pytest.raises(lifecycle.TransitionError) as info:
            lifecycle.check_move(role, old, new, "   ")
        assert info.value.field == "reason" and "Alasan wajib" in str(info.value)


def test_no_status_is_a_dead_end_for_supervisors_and_admins(app):
    for role in ("supervisor", "admin"):
        for status in STATUSES:
            assert set(lifecycle.moves_for(role, status)) == set(STATUSES) - {status}


def test_unknown_roles_may_move_nothing(app):
    assert lifecycle.moves_for("tamu", USAHA_BERJALAN) == {}
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.check_move("tamu", USAHA_BERJALAN, USAHA_KESULITAN, "x")


@pytest.mark.parametrize("new", sorted(CLOSING))
def test_advance_status_refuses_a_mentor_closing_a_case(world, new):
    own = world.recipients["own"]
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.advance_status(own, new, world.users["mentor"], "alasan")
    assert own.status == USAHA_BERJALAN and own.status_changes == []


def _changes(recipient):
    return db.session.scalar(
        select(func.count()).select_from(StatusChange).where(StatusChange.recipient_id == recipient.id)
    )


def _proposals(recipient, state=None):
    query = select(StatusProposal).where(StatusProposal.recipient_id == recipient.id)
    if state:
        query = query.where(StatusProposal.state == state)
    return db.session.scalars(query.order_by(StatusProposal.id)).all()


def _actions(recipient):
    return [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "Recipient", AuditEvent.object_id == recipient.id)
            .order_by(AuditEvent.id)
        )
    ]


def _second_client(app, world, who):
    """Another person's browser, logged in beside the test's client."""
    client = app.test_client()
    assert login(client, world.users[who].username).status_code == 302
    return client


def _post_status(client, recipient, htmx=False, **data):
    token = csrf_token(client, f"/penerima/{recipient.id}")
    payload = {"csrf_token": token, "version": recipient.version, **data}
    return client.post(f"/penerima/{recipient.id}/status", data=payload, headers=HX if htmx else {})


def _decide(client, proposal_id, htmx=False, **data):
    token = csrf_token(client, "/periksa/usulan")
    return client.post(f"/periksa/usulan/{proposal_id}", data={"csrf_token": token, **data}, headers=HX if htmx else {})


# --- The family page -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "reason"), [(MANDIRI, ""), (KELUAR, "Pindah ke Kalsel"), (TIDAK_MEMENUHI_SYARAT, "Desil 7 di DTSEN")]
)
def test_mentor_cannot_close_a_case_through_the_status_form(login_as, world, new, reason):
    """Regression: the mentor's status form used to set mandiri/keluar at once."""
    client = login_as("mentor")
    own = world.recipients["own"]
    response = _post_status(client, own, htmx=True, status=new, reason=reason)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Usulan menunggu persetujuan koordinator" in html
    db.session.refresh(own)
    assert own.status == USAHA_BERJALAN and _changes(own) == 0
    (proposal,) = _proposals(own)
    assert (proposal.from_status, proposal.to_status, proposal.state) == (
        USAHA_BERJALAN,
        new,
        lifecycle.PROPOSAL_WAITING,
    )
    assert proposal.proposed_by_id == world.users["mentor"].id and (proposal.reason or "") == reason
    assert _actions(own) == ["status_proposed"]


def test_mentor_choices_say_which_moves_are_proposals(login_as, world):
    html = login_as("mentor").get(f"/penerima/{world.recipients['own'].id}").get_data(as_text=True)
    choices = html.split('name="status"')[1].split("</select>")[0]
    assert "Mandiri (usulan, diputuskan koordinator)" in choices and "koreksi" not in choices


def test_plain_post_proposal_redirects_and_page_shows_it_waiting(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    response = _post_status(client, own, status=MANDIRI)
    assert response.status_code == 302 and "usulan=1" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Usulan menunggu persetujuan koordinator" in html and 'class="chip chip--mandiri"' in html


def test_the_same_proposal_twice_is_filed_once(login_as, world):
    """A double click or a retry: the second answer is the same, there is still one proposal."""
    client = login_as("mentor")
    own = world.recipients["own"]
    for _ in range(2):
        assert _post_status(client, own, status=MANDIRI).status_code == 302
    assert len(_proposals(own)) == 1 and _actions(own) == ["status_proposed"]


def test_a_second_different_proposal_is_refused_with_a_message(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    _post_status(client, own, status=MANDIRI)
    response = _post_status(client, own, status=KELUAR, reason="Pindah")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="status-error"' in html and "Sudah ada usulan Mandiri yang menunggu" in html
    assert '<option selected value="keluar">' in html and "Pindah</textarea>" in html  # what was typed stays
    assert [p.to_status for p in _proposals(own)] == [MANDIRI]


def test_a_direct_move_makes_a_waiting_proposal_obsolete(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    _post_status(client, own, status=MANDIRI)
    db.session.refresh(own)
    assert _post_status(client, own, status=USAHA_KESULITAN, reason="Sepi").status_code == 302
    (proposal,) = _proposals(own)
    assert proposal.state == lifecycle.PROPOSAL_DECLINED and "Usang" in proposal.decision_note
    assert proposal.decided_by_id is None  # nobody declined it: the family moved on
    db.session.refresh(own)
    assert own.status == USAHA_KESULITAN


def test_supervisor_and_admin_see_corrections_as_choices(login_as, world):
    html = login_as("supervisor").get(f"/penerima/{world.recipients['own'].id}").get_data(as_text=True)
    select_html = html.split('name="status"')[1].split("</select>")[0]
    assert "Calon penerima (koreksi, alasan wajib)" in select_html
    assert '<option value="mandiri">Mandiri</option>' in select_html  # a supervisor graduates directly


@pytest.mark.parametrize("who", ["supervisor", "admin"])
@pytest.mark.parametrize("closed", [MANDIRI, KELUAR, TIDAK_MEMENUHI_SYARAT])
def test_a_wrong_closed_status_is_corrected_with_a_reason_and_audited(login_as, world, who, closed):
    """Regression: from mandiri/keluar nothing led back (422 for everybody)."""
    own = world.recipients["own"]
    own.status = closed
    db.session.commit()
    client = login_as(who)
    refused = _post_status(client, own, status=USAHA_BERJALAN, reason=" ")
    assert refused.status_code == 422 and "Alasan wajib diisi untuk koreksi status" in refused.get_data(True)
    db.session.refresh(own)
    assert own.status == closed
    response = _post_status(client, own, status=USAHA_BERJALAN, reason="Salah pilih keluarga")
    assert response.status_code == 302
    db.session.refresh(own)
    assert own.status == USAHA_BERJALAN
    change = db.session.scalar(select(StatusChange).where(StatusChange.recipient_id == own.id))
    assert (change.from_status, change.to_status, change.reason) == (closed, USAHA_BERJALAN, "Salah pilih keluarga")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "status_corrected"))
    assert event.user_id == world.users[who].id and event.object_id == own.id
    assert event.detail == {"old": closed, "new": USAHA_BERJALAN, "reason": "Salah pilih keluarga"}


def test_a_mentor_cannot_correct(login_as, world):
    own = world.recipients["own"]
    own.status = MANDIRI
    db.session.commit()
    response = _post_status(login_as("mentor"), own, status=USAHA_BERJALAN, reason="Saya salah")
    assert response.status_code == 422 and "tidak dapat diubah" in response.get_data(True)
    db.session.refresh(own)
    assert own.status == MANDIRI and _changes(own) == 0


def test_another_regions_supervisor_cannot_correct(login_as, world):
    own = world.recipients["own"]
    response = _post_status(login_as("supervisor_other_region"), own, status=CALON, reason="x")
    assert response.status_code == 404


# --- Visits ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("new", "reason"), [(MANDIRI, None), (KELUAR, "Pindah")])
def test_a_visit_carrying_a_closing_status_is_stored_once_and_files_a_proposal(login_as, world, new, reason):
    """Regression: a visit used to set mandiri/keluar at once. The visit is stored; its status becomes a proposal."""
    client = login_as("mentor")
    own = world.recipients["own"]
    data = visit_helpers.good_data(client, own, status=new, reason=reason)
    retry = {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
    assert visit_helpers.post(client, own, data).status_code == 303
    assert visit_helpers.post(client, own, retry).status_code == 303  # the phone sends it again
    (visit,) = db.session.scalars(select(Visit).where(Visit.recipient_id == own.id)).all()
    db.session.refresh(own)
    assert own.status == USAHA_BERJALAN and _changes(own) == 0
    (proposal,) = _proposals(own)
    assert (proposal.to_status, proposal.visit_id, proposal.state) == (new, visit.id, lifecycle.PROPOSAL_WAITING)


def test_the_confirmation_says_the_proposal_awaits_the_supervisor(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    response = visit_helpers.post(client, own, visit_helpers.good_data(client, own, status=MANDIRI))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kunjungan tersimpan. Usulan status Mandiri menunggu persetujuan koordinator." in html
    assert "review" not in html.lower().replace("review.", "").replace("review-", "")


def test_a_plain_visit_is_confirmed_as_waiting_to_be_checked(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    response = visit_helpers.post(client, own, visit_helpers.good_data(client, own))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kunjungan tersimpan dan menunggu diperiksa koordinator." in html and "Usulan status" not in html


def test_visit_form_marks_proposals(login_as, world):
    html = login_as("mentor").get(visit_helpers.form_url(world.recipients["own"])).get_data(as_text=True)
    assert "Keluar dari program (usulan, diputuskan koordinator)" in html


def test_a_visit_with_a_different_proposal_waiting_gets_a_message_and_stores_nothing(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    _post_status(client, own, status=MANDIRI)
    response = visit_helpers.post(client, own, visit_helpers.good_data(client, own, status=KELUAR, reason="Pindah"))
    assert response.status_code == 422 and "Sudah ada usulan Mandiri" in response.get_data(True)
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_a_direct_move_at_a_visit_still_changes_the_status(login_as, world):
    client = login_as("mentor")
    own = world.recipients["own"]
    data = visit_helpers.good_data(client, own, status=USAHA_KESULITAN, reason="Harga naik")
    assert visit_helpers.post(client, own, data).status_code == 303
    db.session.refresh(own)
    assert own.status == USAHA_KESULITAN and _proposals(own) == []


def test_a_running_business_that_closed_overnight_is_reported_stopped_at_the_visit(login_as, world):
    """From usaha berjalan straight to usaha berhenti (with a reason): no detour through 'kesulitan', no proposal."""
    client = login_as("mentor")
    own = world.recipients["own"]
    html = client.get(visit_helpers.form_url(own)).get_data(as_text=True)
    assert 'value="usaha_berhenti"' in html
    data = visit_helpers.good_data(client, own, status=USAHA_BERHENTI, reason="Kios terbakar semalam")
    assert visit_helpers.post(client, own, data).status_code == 303
    db.session.refresh(own)
    assert own.status == USAHA_BERHENTI and _proposals(own) == [] and _changes(own) == 1


@pytest.mark.parametrize(
    ("new", "reason", "shown"),
    [
        (USAHA_BERHENTI, "Kios terbakar semalam", "Status diubah saat kunjungan"),
        (MANDIRI, "Omzet stabil", "Usulan status dari kunjungan ini"),
    ],
)
def test_the_review_card_shows_the_status_the_visit_carries(app, login_as, world, new, reason, shown):
    mentor = login_as("mentor")
    own = world.recipients["own"]
    assert visit_helpers.post(mentor, own, visit_helpers.good_data(mentor, own, status=new, reason=reason)).status_code
    supervisor = app.test_client()
    login(supervisor, world.users["supervisor"].username)
    html = supervisor.get("/periksa/").get_data(as_text=True)
    card = html[html.index('class="card review-card"') :]
    assert shown in card and reason in card
    assert f"chip--{USAHA_BERJALAN}" in card and f"chip--{new}" in card


# --- The supervisor's queue ------------------------------------------------------------------------------------


@pytest.fixture
def proposal(world):
    own = world.recipients["own"]
    filed = lifecycle.propose(own, MANDIRI, world.users["mentor"], "Omzet stabil")
    return filed


def test_queue_lists_proposals_in_scope_with_counts(app, login_as, world, proposal):
    other = world.recipients["other_region"]
    lifecycle.propose(other, KELUAR, world.users["mentor_other_region"], "Pindah")
    html = login_as("supervisor").get("/periksa/usulan").get_data(as_text=True)
    assert "1 usulan menunggu keputusan" in html and "Mandiri 1" in html
    assert "Siti Aminah" in html and "Hasnah Daeng" not in html
    assert 'href="/periksa/usulan"' in html  # in the navigation
    admin = _second_client(app, world, "admin").get("/periksa/usulan", headers=HX).get_data(as_text=True)
    assert "2 usulan menunggu keputusan" in admin and "<html" not in admin and 'id="proposal-list"' in admin


def test_confirm_by_htmx_moves_the_family_and_audits(login_as, world, proposal):
    own = world.recipients["own"]
    client = login_as("supervisor")
    response = _decide(client, proposal.id, htmx=True, decision="diterima")
    assert response.status_code == 200 and "kini berstatus Mandiri" in response.get_data(True)
    # The header's count follows, out of band: none waits any more.
    assert 'id="proposal-count" hx-swap-oob="true">0 usulan menunggu keputusan</p>' in response.get_data(True)
    db.session.refresh(own)
    db.session.refresh(proposal)
    assert own.status == MANDIRI and proposal.state == lifecycle.PROPOSAL_CONFIRMED
    assert proposal.decided_by_id == world.users["supervisor"].id and proposal.decided_at is not None
    change = db.session.scalar(select(StatusChange).where(StatusChange.recipient_id == own.id))
    assert (change.to_status, change.changed_by_id, change.reason) == (
        MANDIRI,
        world.users["supervisor"].id,
        "Omzet stabil",
    )
    assert _actions(own) == ["status_proposed", "status_proposal_confirmed"]
    again = _decide(client, proposal.id, htmx=True, decision="diterima")  # the double click
    assert again.status_code == 409 and "sudah diputuskan" in again.get_data(True)
    assert _changes(own) == 1


def test_decline_needs_a_note_and_keeps_the_status(app, login_as, world, proposal):
    own = world.recipients["own"]
    client = login_as("supervisor")
    refused = _decide(client, proposal.id, htmx=True, decision="ditolak", note="  ")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'aria-invalid="true"' in html and "Tulis alasan menolak" in html
    db.session.refresh(proposal)
    assert proposal.state == lifecycle.PROPOSAL_WAITING
    response = _decide(client, proposal.id, decision="ditolak", note="Omzet baru dua bulan")  # no JavaScript
    assert response.status_code == 303 and response.headers["Location"].endswith("/periksa/usulan")
    assert "ditolak; status tetap Usaha berjalan" in client.get("/periksa/usulan").get_data(True)
    db.session.refresh(proposal)
    db.session.refresh(own)
    assert proposal.state == lifecycle.PROPOSAL_DECLINED and proposal.decision_note == "Omzet baru dua bulan"
    assert own.status == USAHA_BERJALAN and _changes(own) == 0
    assert _actions(own)[-1] == "status_proposal_declined"
    page = _second_client(app, world, "mentor").get(f"/penerima/{own.id}").get_data(as_text=True)
    assert "Usulan Mandiri ditolak" in page and "Omzet baru dua bulan" in page


def test_confirming_a_proposal_whose_family_moved_says_so_and_closes_it(login_as, world, proposal):
    own = world.recipients["own"]
    with db.engine.begin() as other:  # changed behind the lifecycle's back (e.g. a restore)
        other.execute(
            update(Recipient)
            .where(Recipient.id == own.id)
            .values(status=USAHA_KESULITAN, version=Recipient.version + 1)
        )
    client = login_as("supervisor")
    response = _decide(client, proposal.id, htmx=True, decision="diterima")
    assert response.status_code == 409 and "sudah berubah menjadi Usaha kesulitan" in response.get_data(True)
    db.session.refresh(proposal)
    db.session.refresh(own)
    assert proposal.state == lifecycle.PROPOSAL_DECLINED and own.status == USAHA_KESULITAN and _changes(own) == 0


def test_of_two_concurrent_decisions_one_wins(world, proposal):
    own = world.recipients["own"]
    supervisor, admin = world.users["supervisor"], world.users["admin"]
    with db.engine.begin() as other:  # the admin's decline commits between the supervisor's read and write
        other.execute(
            update(StatusProposal)
            .where(StatusProposal.id == proposal.id)
            .values(state=lifecycle.PROPOSAL_DECLINED, decided_by_id=admin.id, decision_note="Belum")
        )
    with pytest.raises(lifecycle.ProposalDecided) as info:
        lifecycle.confirm(proposal, supervisor)
    assert admin.full_name in str(info.value)
    db.session.refresh(own)
    assert own.status == USAHA_BERJALAN and _changes(own) == 0
    with pytest.raises(lifecycle.ProposalDecided):
        lifecycle.decline(proposal, supervisor, "juga tidak")


def test_a_mentor_may_not_decide(world, proposal):
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.confirm(proposal, world.users["mentor"])
    db.session.refresh(proposal)
    assert proposal.state == lifecycle.PROPOSAL_WAITING


def test_another_regions_supervisor_gets_404(login_as, world, proposal):
    client = login_as("supervisor_other_region")
    assert _decide(client, proposal.id, decision="diterima").status_code == 404
    assert "Siti Aminah" not in client.get("/periksa/usulan").get_data(True)
    db.session.refresh(proposal)
    assert proposal.state == lifecycle.PROPOSAL_WAITING


def test_mentors_are_refused_the_queue(login_as, world, proposal):
    client = login_as("mentor")
    assert client.get("/periksa/usulan").status_code == 403
    token = csrf_token(client, "/kunjungan/")
    assert (
        client.post(f"/periksa/usulan/{proposal.id}", data={"csrf_token": token, "decision": "diterima"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "data", [{}, {"decision": "ya"}, {"decision": "diterima" * 1000}, {"decision": "ditolak", "note": "x" * 5000}]
)
def test_bad_decisions_never_500(login_as, world, proposal, data):
    client = login_as("supervisor")
    assert _decide(client, proposal.id, htmx=True, **data).status_code in (409, 422)
    assert _decide(client, proposal.id, **data).status_code == 303
    db.session.refresh(proposal)
    db.session.refresh(world.recipients["own"])
    assert world.recipients["own"].status == USAHA_BERJALAN


def test_unknown_proposal_and_missing_csrf(login_as, world, proposal):
    client = login_as("supervisor")
    assert _decide(client, 999999, decision="diterima").status_code == 404
    assert client.post(f"/periksa/usulan/{proposal.id}", data={"decision": "diterima"}).status_code == 400
    assert client.post("/periksa/usulan/abc").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"status": MANDIRI, "version": "x"},
        {"status": "kaya", "version": "1"},
        {"status": "", "version": "1"},
        {"status": KELUAR, "reason": "r" * 5000},
    ],
)
def test_bad_status_input_never_500(login_as, world, data):
    client = login_as("mentor")
    own = world.recipients["own"]
    token = csrf_token(client, f"/penerima/{own.id}")
    response = client.post(f"/penerima/{own.id}/status", data={"csrf_token": token, "version": own.version, **data})
    assert response.status_code == 422
    assert _proposals(own) == []


def test_dashboard_graduation_settles_a_waiting_proposal(login_as, world, proposal):
    own = world.recipients["own"]
    client = login_as("supervisor")
    assert (
        client.post(f"/dasbor/graduasi/{own.id}", data={"csrf_token": csrf_token(client, "/dasbor/")}).status_code
        == 303
    )
    db.session.refresh(proposal)
    db.session.refresh(own)
    assert own.status == MANDIRI and proposal.state == lifecycle.PROPOSAL_CONFIRMED
    assert proposal.decided_by_id == world.users["supervisor"].id
    assert _proposals(own, lifecycle.PROPOSAL_WAITING) == []
