"""Small helpers shared by the forms of every area."""

from wtforms import Field


def add_error(field: Field, message) -> None:
    """Attach a message to a field whether or not the form has been validated yet."""
    field.errors = [*field.errors, str(message)]
