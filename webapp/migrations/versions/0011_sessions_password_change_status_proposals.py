"""sessions, forced password change, status proposals

users.session_generation: raised to end every session of a user at once (logout, password change, deactivation).
users.must_change_password: a password set by someone else is replaced at the next login.
status_proposals: a mentor's graduation or exit proposal, waiting for a supervisor; one waiting per family.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 22:26:50.323997

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('status_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=False),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.CheckConstraint("from_status IN ('calon', 'terverifikasi', 'disalurkan', 'usaha_berjalan', 'usaha_kesulitan', 'usaha_berhenti', 'mandiri', 'keluar', 'tidak_memenuhi_syarat')", name=op.f('ck_status_proposals_from_status')),
    sa.CheckConstraint("state IN ('menunggu', 'diterima', 'ditolak')", name=op.f('ck_status_proposals_state')),
    sa.CheckConstraint("to_status IN ('calon', 'terverifikasi', 'disalurkan', 'usaha_berjalan', 'usaha_kesulitan', 'usaha_berhenti', 'mandiri', 'keluar', 'tidak_memenuhi_syarat')", name=op.f('ck_status_proposals_to_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_status_proposals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_status_proposals_proposed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_status_proposals_recipient_id_recipients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_status_proposals_visit_id_visits'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_proposals'))
    )
    with op.batch_alter_table('status_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_status_proposals_one_waiting', ['recipient_id'], unique=True, sqlite_where=sa.text("state = 'menunggu'"), postgresql_where=sa.text("state = 'menunggu'"))
        batch_op.create_index(batch_op.f('ix_status_proposals_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index('ix_status_proposals_state_created_at', ['state', 'created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_generation')

    with op.batch_alter_table('status_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_status_proposals_state_created_at')
        batch_op.drop_index(batch_op.f('ix_status_proposals_recipient_id'))
        batch_op.drop_index('ix_status_proposals_one_waiting', sqlite_where=sa.text("state = 'menunggu'"), postgresql_where=sa.text("state = 'menunggu'"))

    op.drop_table('status_proposals')
