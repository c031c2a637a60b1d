"""dashboard snapshots and count indexes

Snapshots: the outcome figures of large scopes, shared by all workers. Indexes: the dashboard's counts by status
(and handed over or not) and by budget year, regency and funding read an index instead of every recipient row
(SQLite, 100,000 families: 170 → 45 ms and 163 → 25 ms); the status index becomes (status, distributed_on).

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
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_status')
        batch_op.create_index('ix_recipients_status_distributed_on', ['status', 'distributed_on'], unique=False)
        batch_op.create_index('ix_recipients_budget_year_region_id_funding_source',
                              ['budget_year', 'region_id', 'funding_source'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ANALYZE recipients")


def downgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_budget_year_region_id_funding_source')
        batch_op.drop_index('ix_recipients_status_distributed_on')
        batch_op.create_index('ix_recipients_status', ['status'], unique=False)
    op.drop_table('dashboard_snapshots')
