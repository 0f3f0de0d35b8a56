"""Every table, gathered for Alembic: the kernel's, then each installed slice's `tables`
(core/slices.py). The slices own their tables; this only imports them."""

import importlib

from aicity.core import audit_models as _audit  # noqa: F401
from aicity.core import handled as _handled  # noqa: F401
from aicity.core import meta as _meta  # noqa: F401
from aicity.core import slices
from aicity.core import tracing as _tracing  # noqa: F401
from aicity.core import vectors as _vectors  # noqa: F401
from aicity.core.db import Base

for _module in slices.table_modules():
    importlib.import_module(_module)

metadata = Base.metadata
