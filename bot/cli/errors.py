"""Errors a command reports to its user as one clear line, without a traceback."""


class UserError(Exception):
    """Something the user can fix: a bad flag, a missing file, an invalid config."""
