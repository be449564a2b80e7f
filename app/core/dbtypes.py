import enum

import sqlalchemy as sa


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
