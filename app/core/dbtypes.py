import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.core.extensions import db


def enum_type(enum_class: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value as VARCHAR, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def insert_unless_present(model: type, values: dict[str, Any], unique: list[str]) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or no row when another
    transaction holds one with the same ``unique`` columns (nothing fails, the session goes
    on). SQLite and PostgreSQL spell it alike."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(model.id)
    )
