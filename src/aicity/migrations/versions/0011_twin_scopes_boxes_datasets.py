"""twin: entity scopes, bounding boxes for geo-queries, a type's entities in query order,
datasetId in the attribute history

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 10:00:00
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_BOX = ('min_lat', 'max_lat', 'min_lon', 'max_lon')
_entities = sa.table('twin_entities', sa.column('id', sa.String), sa.column('geometry', sa.JSON),
                     sa.column('lat', sa.Float), sa.column('lon', sa.Float),
                     *(sa.column(name, sa.Float) for name in _BOX))
_history = sa.table('twin_attribute_history', sa.column('id', sa.Integer), sa.column('body', sa.JSON),
                    sa.column('dataset_id', sa.String))


def _vertices(coordinates: Any) -> list[tuple[float, float]]:
    """Every (lon, lat) of GeoJSON coordinates (the app's own walker may change; this one must not)."""
    if isinstance(coordinates, list) and len(coordinates) >= 2 and all(
            isinstance(x, (int, float)) for x in coordinates[:2]):
        return [(float(coordinates[0]), float(coordinates[1]))]
    return [p for item in coordinates for p in _vertices(item)] if isinstance(coordinates, list) else []


def _located(conn: sa.Connection) -> list[tuple[str, list[tuple[float, float]]]]:
    rows = conn.execute(sa.select(_entities.c.id, _entities.c.geometry).where(_entities.c.geometry.is_not(None)))
    found = [(entity_id, _vertices((geometry or {}).get('coordinates'))) for entity_id, geometry in rows]
    return [(entity_id, vertices) for entity_id, vertices in found if vertices]


def _fill_boxes() -> None:
    conn = op.get_bind()
    for entity_id, vertices in _located(conn):
        lons, lats = zip(*vertices, strict=True)
        conn.execute(sa.update(_entities).where(_entities.c.id == entity_id).values(
            min_lat=min(lats), max_lat=max(lats), min_lon=min(lons), max_lon=max(lons)))


def _fill_dataset_ids() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_history.c.id, _history.c.body).where(
        sa.cast(_history.c.body, sa.Text).like('%"datasetId"%')))
    for row_id, body in list(rows):
        if isinstance(body, dict) and isinstance(body.get('datasetId'), str):
            conn.execute(sa.update(_history).where(_history.c.id == row_id).values(dataset_id=body['datasetId']))


def upgrade() -> None:
    op.create_table('twin_entity_scopes',
    sa.Column('entity_id', sa.String(length=256), nullable=False),
    sa.Column('scope', sa.String(length=512), nullable=False),
    sa.PrimaryKeyConstraint('entity_id', 'scope', name=op.f('pk_twin_entity_scopes'))
    )
    op.create_index(op.f('ix_twin_entity_scopes_scope'), 'twin_entity_scopes', ['scope'], unique=False)
    with op.batch_alter_table('twin_entities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.JSON(), nullable=True))
        for name in _BOX:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch_op.drop_index('ix_twin_entities_lat')
        batch_op.drop_index('ix_twin_entities_type')
        batch_op.drop_column('lat')
        batch_op.drop_column('lon')
        batch_op.create_index('ix_twin_entities_type_created', ['type', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_twin_entities_type_bbox', ['type', *_BOX], unique=False)
    _fill_boxes()
    with op.batch_alter_table('twin_attribute_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dataset_id', sa.String(length=256), nullable=True))
    _fill_dataset_ids()


def downgrade() -> None:
    with op.batch_alter_table('twin_attribute_history', schema=None) as batch_op:
        batch_op.drop_column('dataset_id')
    with op.batch_alter_table('twin_entities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Float(), nullable=True))
        batch_op.drop_index('ix_twin_entities_type_bbox')
        batch_op.drop_index('ix_twin_entities_type_created')
        for name in _BOX:
            batch_op.drop_column(name)
        batch_op.drop_column('scope')
        batch_op.create_index('ix_twin_entities_type', ['type'], unique=False)
        batch_op.create_index('ix_twin_entities_lat', ['lat'], unique=False)
    conn = op.get_bind()
    for entity_id, vertices in _located(conn):
        conn.execute(sa.update(_entities).where(_entities.c.id == entity_id).values(
            lon=vertices[0][0], lat=vertices[0][1]))
    op.drop_index(op.f('ix_twin_entity_scopes_scope'), table_name='twin_entity_scopes')
    op.drop_table('twin_entity_scopes')
