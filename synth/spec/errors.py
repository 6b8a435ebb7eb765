"""Errors that point at the spec file, the field and the position."""

from __future__ import annotations


class SpecError(ValueError):
    """A bad spec: names the file, the dotted field path, the cause and (when known) line:col."""

    def __init__(
        self, file: str, field: str, message: str, line: int | None = None, col: int | None = None
    ) -> None:
        self.file = file
        self.field = field
        self.message = message
        self.line = line
        self.col = col
        where = file
        if line is not None:
            where += f":{line}"
            if col is not None:
                where += f":{col}"
        super().__init__(f"{where}: {field or '<top>'}: {message}")
