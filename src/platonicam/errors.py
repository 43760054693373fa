"""The root of every error PlatoniCam raises on purpose.

Each layer derives its own tree from :class:`PlatonicamError`, so a caller that
wants "anything PlatoniCam refused or could not do" catches one type, and
anything else escaping is a bug.
"""


class PlatonicamError(Exception):
    """Base class of every error PlatoniCam raises deliberately."""
