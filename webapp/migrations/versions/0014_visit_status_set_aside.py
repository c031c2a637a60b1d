"""a visit's status change set aside when it no longer applied on arrival

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_set_aside', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('status_set_aside')
