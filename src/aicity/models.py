"""Every slice's tables, gathered for Alembic (the slices own them; this only imports)."""

from aicity.assistant import models as _assistant  # noqa: F401
from aicity.core import meta as _meta  # noqa: F401
from aicity.core import tracing as _tracing  # noqa: F401
from aicity.core.db import Base
from aicity.hub.catalog import models as _catalog  # noqa: F401
from aicity.hub.events import models as _events  # noqa: F401
from aicity.hub.gateway import models as _gateway  # noqa: F401
from aicity.hub.iot import models as _iot  # noqa: F401
from aicity.hub.knowledge import models as _knowledge  # noqa: F401
from aicity.hub.twin import models as _twin  # noqa: F401
from aicity.identity import models as _identity  # noqa: F401
from aicity.security import models as _security  # noqa: F401

metadata = Base.metadata
