"""photo_uploads and photo_upload_chunks: photos sent in resumable chunks over a bad link

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'photo_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('photo_uuid', sa.String(length=36), nullable=False),
        sa.Column('visit_uuid', sa.String(length=36), nullable=False),
        sa.Column('mentor_id', sa.Integer(), nullable=False),
        sa.Column('length', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('length > 0', name=op.f('ck_photo_uploads_length_positive')),
        sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_photo_uploads_sha256_length')),
        sa.ForeignKeyConstraint(['mentor_id'], ['users.id'], name=op.f('fk_photo_uploads_mentor_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_uploads')),
        sa.UniqueConstraint('photo_uuid', name=op.f('uq_photo_uploads_photo_uuid')),
    )
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_uploads_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_uploads_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_uploads_visit_uuid'), ['visit_uuid'], unique=False)
    op.create_table(
        'photo_upload_chunks',
        sa.Column('upload_id', sa.Integer(), nullable=False),
        sa.Column('start', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['upload_id'], ['photo_uploads.id'], name=op.f('fk_photo_upload_chunks_upload_id_photo_uploads'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('upload_id', 'start', name=op.f('pk_photo_upload_chunks')),
    )


def downgrade():
    op.drop_table('photo_upload_chunks')
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_uploads_visit_uuid'))
        batch_op.drop_index(batch_op.f('ix_photo_uploads_updated_at'))
        batch_op.drop_index(batch_op.f('ix_photo_uploads_mentor_id'))
    op.drop_table('photo_uploads')
