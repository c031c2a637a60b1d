"""map area and coverage indexes

Visits and business locations by (latitude, longitude) for the review map's area queries; the review-queue index
(review_state, visited_at, id) gains recipient_id, so "which families had an approved visit in the last 30 days"
(dashboard coverage) reads the index alone, never the visits themselves.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_lat_lon', ['lat', 'lon'], unique=False)
        batch_op.drop_index('ix_visits_review_state_visited_at_id')
        batch_op.create_index('ix_visits_review_state_visited_at_id', ['review_state', 'visited_at', 'id',
                                                                        'recipient_id'], unique=False)
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.create_index('ix_recipients_business_lat_lon', ['business_lat', 'business_lon'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite's planner knows an index's selectivity only from ANALYZE; without it, it took the new covering
        # index for per-family lookups (2.3 s instead of 0.2 s for a regency's dashboard at 100,000 families).
        op.execute("ANALYZE")


def downgrade():
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_business_lat_lon')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_review_state_visited_at_id')
        batch_op.create_index('ix_visits_review_state_visited_at_id', ['review_state', 'visited_at', 'id'],
                              unique=False)
        batch_op.drop_index('ix_visits_lat_lon')
