"""Who may use the NGSI-LD API: staff (official, operator, admin) read the twin, operators and
admins change it, and a device, with its own credential (`X-Device-Key`), writes attribute
values of its own entity only (they become readings: `devices.py`). The bundled @context is public.

Each route declares its level as a dependency, so the check runs before the body is read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from aicity.hub.iot import service as iot
from aicity.hub.iot.models import Device
from aicity.hub.twin.errors import NgsiError
from aicity.hub.twin.mirror import entity_id as device_entity
from aicity.identity.api import Caller
from aicity.identity.models import OPERATOR_ROLES, STAFF_ROLES, Role
from aicity.identity.service import Principal

WRITERS = OPERATOR_ROLES


def _allowed(principal: Principal | None, roles: frozenset[Role], what: str) -> Principal:
    if principal is None:
        raise NgsiError("Unauthorized", f"{what} needs an API key (Authorization: Bearer … or X-API-Key)")
    if principal.role not in roles:
        needed = ", ".join(sorted(r.value for r in roles))
        raise NgsiError("Forbidden", f"{what} needs the role {needed}, not {principal.role.value}")
    return principal


def reader(principal: Caller) -> Principal:
    return _allowed(principal, STAFF_ROLES, "reading the twin")


def writer(principal: Caller) -> Principal:
    return _allowed(principal, WRITERS, "changing the twin")


def attr_writer(entity_id: str, principal: Caller,
                x_device_key: Annotated[str | None, Header(alias="X-Device-Key")] = None) -> Device | None:
    """The device writing its own entity's attributes (its credential wins over any API key), or
    None for an operator or admin."""
    if not x_device_key:
        writer(principal)
        return None
    device = iot.device_by_credential(x_device_key)
    own = device_entity(device.id, device.type)
    if entity_id != own:
        raise NgsiError("Forbidden", f"device {device.id} may write only its own entity {own}")
    return device


READ = Depends(reader)
WRITE = Depends(writer)
AttrWriter = Annotated[Device | None, Depends(attr_writer)]
