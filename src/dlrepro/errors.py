"""The errors a user can fix: each message names the bad key or file and the fix.

The command line prints them as one `dlrepro: error: ...` line (exit 2) instead of a traceback.
"""


class ConfigError(ValueError):
    """A configuration problem, with a message that names the offending key and the fix."""


class DataError(RuntimeError):
    """A missing or corrupt input file (data set, corpus, run file), named with the fix."""
