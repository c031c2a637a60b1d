"""dashboard snapshots: outcome figures of large scopes, shared by all workers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_snapshots',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_dashboard_snapshots'))
    )


def downgrade():
    op.drop_table('dashboard_snapshots')
