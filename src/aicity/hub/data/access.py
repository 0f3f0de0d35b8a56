"""Who may use which rows and columns of a dataset: the grade decides.

- level 1 (may be opened): everybody reads rows, citizens and enterprises included;
- levels 2–3 (internal / restricted): staff (officials, operators, admins) read rows;
- level 4 (strictly restricted, sensitive personal information) and important or core data:
  rows only for the owner department's data officer; everybody else gets aggregates only.

A **data officer** is an operator or admin key of a department (identity's roles; no new role):
the owner department's data officer imports, confirms grades and reads every column.

`allowed_columns` are the columns a caller may *use* in a query (filter, group, aggregate):
never an identifying personal column (name, resident ID, mobile, bank card …) except for the
owner's data officer. Whether rows may be returned at all is `may_read_rows`; the ask engine
never returns personal columns as rows to anybody.
"""

from __future__ import annotations

from aicity.hub.data.store import ColumnInfo, DatasetInfo
from aicity.identity.models import OPERATOR_ROLES, STAFF_ROLES, Role

#: personal-information kinds that point at one person by themselves
IDENTIFYING = frozenset({"resident_id", "name", "mobile", "phone", "email", "bank_card", "passport", "plate"})


def _role(role: str | Role) -> Role | None:
    try:
        return Role(role)
    except ValueError:
        return None


def is_data_officer(role: str | Role, department: str | None, dataset: DatasetInfo | None = None) -> bool:
    """An operator or admin; for a given dataset, of its owner department (an admin without a
    department is the installation's officer for datasets below level 4)."""
    r = _role(role)
    if r not in OPERATOR_ROLES:
        return False
    if dataset is None:
        return True
    if department is not None and department == dataset.owner_department:
        return True
    return r == Role.admin and department is None and dataset.sensitivity_level < 4 and dataset.grade == "general"


def may_manage(role: str | Role, department: str | None, dataset: DatasetInfo | None) -> bool:
    """Import a new version, confirm grades, desensitize into a derived dataset."""
    return is_data_officer(role, department, dataset)


def may_read_rows(role: str | Role, department: str | None, dataset: DatasetInfo) -> bool:
    r = _role(role)
    if r is None:
        return False
    if dataset.grade != "general" or dataset.sensitivity_level >= 4:
        return r in OPERATOR_ROLES and department is not None and department == dataset.owner_department
    if dataset.sensitivity_level <= 1:
        return True
    return r in STAFF_ROLES


def _usable(col: ColumnInfo, staff: bool) -> bool:
    if col.pii is not None and col.pii_kind in IDENTIFYING:
        return False
    if not staff:
        return col.pii is None and col.sensitivity_level <= 1
    return True


def allowed_columns(role: str | Role, department: str | None, dataset: DatasetInfo) -> set[str]:
    r = _role(role)
    if r is None:
        return set()
    if r in OPERATOR_ROLES and department is not None and department == dataset.owner_department:
        return {c.name for c in dataset.columns}
    staff = r in STAFF_ROLES
    if not staff and dataset.sensitivity_level > 1:
        return set()
    return {c.name for c in dataset.columns if _usable(c, staff)}


def shown_columns(role: str | Role, department: str | None, dataset: DatasetInfo) -> dict[str, str]:
    """For sample rows and row exports: column → "plain" | "masked" (personal columns outside the
    owner department are masked, never shown plain). Empty when rows may not be read."""
    if not may_read_rows(role, department, dataset):
        return {}
    r = _role(role)
    owner = r in OPERATOR_ROLES and department is not None and department == dataset.owner_department
    allowed = allowed_columns(role, department, dataset)
    return {c.name: ("plain" if owner or c.pii is None else "masked") for c in dataset.columns
            if c.name in allowed or c.pii is not None}


def may_export_rows(role: str | Role, department: str | None, dataset: DatasetInfo) -> bool:
    """What may leave the hub as rows: level 1 for anybody; levels 2–3 for staff (personal columns
    masked outside the owner department); level 4, important and core data never as rows, except
    to the owner department's data officer."""
    return may_read_rows(role, department, dataset)
