"""recipients.decile_registry: the national registry a family's decile comes from (DTKS, or DTSEN since 2025)

Families stored before this revision came from DTKS extracts: they get 'DTKS'.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decile_registry', sa.String(length=8), server_default='DTKS', nullable=False))
        batch_op.create_check_constraint(op.f('ck_recipients_decile_registry'), "decile_registry IN ('DTKS', 'DTSEN')")


def downgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_recipients_decile_registry'), type_='check')
        batch_op.drop_column('decile_registry')
