"""Errors a user can cause and fix. The CLI prints them as one line, without a stack trace."""


class ShoplensError(Exception):
    """A user-facing error: bad arguments, a missing folder, an unreachable database."""
