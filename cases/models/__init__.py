"""The clinical record's models: teams and the pathway (record.py), rehabilitation and
monitoring (rehab.py)."""

from .record import *  # noqa: F403
from .record import __all__ as _record_all
from .rehab import *  # noqa: F403
from .rehab import __all__ as _rehab_all

__all__ = [*_record_all, *_rehab_all]
