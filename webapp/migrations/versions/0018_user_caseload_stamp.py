"""users.caseload_stamp: changes whenever anything a mentor's work list shows changes (webapp/caseload.py)

Existing users start from '0': pages are cached per process, so no cached page predates this revision.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caseload_stamp', sa.String(length=32), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('caseload_stamp')
