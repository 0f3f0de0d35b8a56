"""IoT HTTP API under `/api/v1/iot`.

- `POST /provision` — a device with the provisioning key (`X-Provisioning-Key`) registers itself;
  the answer holds its credential, once.
- `POST /telemetry` — one reading (`{"attribute", "value", "unit"?, "observed_at"?}`) or a batch
  (`{"readings": [...]}`). A device sends its own credential as `X-Device-Key` (readings are its
  own; `device_id` may be left out). A gateway or integration sends a staff API key
  (`Authorization: Bearer …`, e.g. an operator key) and may send many devices' readings in one
  batch, each with its `device_id`. One invalid reading rejects the whole batch (422, listing
  every invalid reading by index); nothing is stored half-way.
- `POST /cameras/{device_id}/frames` — a camera's frame (JPEG or PNG, a multipart `file` or the
  raw body), checked for a black screen, a frozen picture, blur and occlusion; each finding opens
  an alarm on the camera, a passing check clears it. The camera's own `X-Device-Key` or a staff key.
- devices, rules: CRUD for staff; alarms: list, acknowledge, clear.
- `POST /devices/{id}/commands`: an admin sends directly (201); an operator too where the command
  policy (`commands.mode`) says `direct`, else the request is queued for a second person's
  approval (202, the approval in the body, `Location: /api/v1/approvals/{id}`); other roles 403.
  `GET /devices/{id}/commands/pending` and `POST /commands/{id}/ack` (the device, `X-Device-Key`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException, MultiPartParser

from aicity.core.errors import Problem, forbidden, unauthorized
from aicity.hub.events.service import actor_name
from aicity.hub.iot import commands, rules, service, video
from aicity.hub.iot.schemas import (
    AlarmView,
    BatchBody,
    CommandMessage,
    CommandQueued,
    CommandView,
    DeviceCreated,
    DeviceView,
    FrameHealth,
    IngestResult,
    ReadingBody,
    ReadingView,
    RuleView,
)
from aicity.hub.iot.service import DeviceSpec, ReadingIn
from aicity.identity.api import Caller
from aicity.identity.models import OPERATOR_ROLES
from aicity.identity.service import Principal
from aicity.security import approvals

router = APIRouter(prefix="/api/v1/iot", tags=["iot"])

DeviceKey = Annotated[str | None, Header(alias="X-Device-Key", max_length=200, description="设备凭证 the device credential")]


class DeviceBody(BaseModel):
    type: str = Field(description="Smart Data Models 类型，如 GasSensor、WaterLevelObserved、Streetlight")
    id: str | None = Field(None, max_length=80, description="设备编号；不填则生成")
    name: str = Field("", max_length=200)
    district: str | None = Field(None, max_length=40)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class DevicePatch(BaseModel):
    name: str | None = Field(None, max_length=200)
    district: str | None = Field(None, max_length=40)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class RuleBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["threshold", "rate", "no_data"]
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    device_type: str | None = None
    device_id: str | None = None
    attribute: str | None = Field(None, max_length=60)
    direction: Literal["above", "below"] = "above"
    limit: float | None = Field(None, description="阈值，或变化率规则的每分钟变化量")
    seconds: int | None = Field(None, ge=1, description="无数据规则：静默多少秒报警")
    category: str | None = Field(None, description="告警转事件的类别；默认按设备类型")


def _staff(principal: Principal | None) -> str:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if not principal.is_staff:
        raise forbidden("仅限工作人员 staff only")
    return actor_name(principal)


def _writer(principal: Principal | None) -> str:
    """Changing devices, rules, readings or alarms: operators and admins, as on NGSI-LD
    (`hub/twin/access.py`); officials read."""
    actor = _staff(principal)
    if principal is None or principal.role not in OPERATOR_ROLES:
        raise forbidden("仅限运维人员和管理员；工作人员可查看 operators and admins only; officials read")
    return actor


def _created(device: Any, credential: str) -> dict[str, Any]:
    return {"device": service.device_json(device), "credential": credential,
            "note": "凭证只显示这一次，请妥善保存 the credential is shown this once"}


@router.post("/provision", status_code=201,
             response_model=DeviceCreated,
             summary="设备自助注册 Provision a device with the provisioning key")
def provision(body: DeviceBody, x_provisioning_key: Annotated[str | None, Header(alias="X-Provisioning-Key",
                                                                                 max_length=200)] = None) -> dict[str, Any]:
    device, credential = service.provision(x_provisioning_key or "", DeviceSpec(**body.model_dump()))
    return _created(device, credential)


@router.get("/devices", response_model=list[DeviceView], summary="设备列表 Devices")
def devices(principal: Caller, type: str | None = None, district: str | None = None,
            limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
    _staff(principal)
    return [service.device_json(d) for d in service.list_devices(type, district, limit)]


@router.post("/devices", status_code=201, response_model=DeviceCreated, summary="登记设备 Register a device")
def create_device(body: DeviceBody, principal: Caller) -> dict[str, Any]:
    device, credential = service.create_device(DeviceSpec(**body.model_dump()), _writer(principal))
    return _created(device, credential)


@router.get("/devices/{device_id}", response_model=DeviceView, summary="设备详情 A device")
def device(device_id: str, principal: Caller) -> dict[str, Any]:
    _staff(principal)
    return service.device_json(service.get_device(device_id))


@router.patch("/devices/{device_id}", response_model=DeviceView, summary="修改设备 Update a device")
def patch_device(device_id: str, body: DevicePatch, principal: Caller) -> dict[str, Any]:
    actor = _writer(principal)
    return service.device_json(service.update_device(device_id, actor, **body.model_dump(exclude_unset=True)))


@router.delete("/devices/{device_id}", status_code=204, summary="删除设备 Delete a device")
def delete_device(device_id: str, principal: Caller) -> None:
    service.delete_device(device_id, _writer(principal))


@router.get("/devices/{device_id}/readings", response_model=list[ReadingView],
            summary="属性历史 A device's readings, newest first")
def device_readings(device_id: str, principal: Caller, attribute: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, Any]]:
    _staff(principal)
    service.get_device(device_id)
    return [{"attribute": r.attribute, "value": r.value, "unit": r.unit, "observed_at": r.observed_at.isoformat()}
            for r in service.readings(device_id, attribute, limit)]


@router.post("/telemetry", status_code=202,
             response_model=IngestResult, summary="上报读数 Send readings (one, or a batch)")
def telemetry(body: BatchBody | ReadingBody, principal: Caller, x_device_key: DeviceKey = None) -> dict[str, Any]:
    rows = body.readings if isinstance(body, BatchBody) else [body]
    if x_device_key:
        device = service.device_by_credential(x_device_key)
        batch = [ReadingIn(r.device_id or device.id, r.attribute, r.value, r.unit, r.observed_at) for r in rows]
        result = service.ingest(batch, device)
    else:
        _writer(principal)
        if missing := [i for i, r in enumerate(rows) if not r.device_id]:
            raise service.rejected([{"index": i, "reason": "网关上报须填 device_id / device_id is required"}
                                    for i in missing], "http")
        result = service.ingest([ReadingIn(r.device_id or "", r.attribute, r.value, r.unit, r.observed_at)
                                 for r in rows])
    return {"stored": result.stored, "devices": result.devices, "alarms": [rules.alarm_json(a) for a in result.alarms]}


#: room for a multipart envelope around the largest frame
_ENVELOPE = 64 * 1024


async def _frame(request: Request) -> bytes:
    """The image in the request: a multipart `file` field, or else the raw body; read no further
    than the size limit allows."""
    limit = video.MAX_BYTES + _ENVELOPE
    if int(request.headers.get("content-length") or 0) > limit:
        raise video.too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise video.too_large()
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return bytes(body)

    async def once() -> Any:
        yield bytes(body)

    try:
        form = await MultiPartParser(request.headers, once(), max_files=1, max_fields=10).parse()
    except MultiPartException as e:
        raise video.invalid_image(f"multipart 请求无效 / invalid multipart body: {e.message}") from None
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise video.invalid_image("multipart 请求须有 file 字段 / a multipart body needs a `file` field")
        return await upload.read()
    finally:
        await form.close()


def _camera_or_staff(device_id: str, principal: Principal | None, key: str | None) -> None:
    if key:
        if service.device_by_credential(key).id != device_id:
            raise forbidden("设备只能上报自己的画面 a device sends only its own frames")
    else:
        _writer(principal)


@router.post("/cameras/{device_id}/frames", response_model=FrameHealth,
             summary="视频画面健康检查 Check a camera's frame",
             openapi_extra={"requestBody": {"content": {
                 "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                 "image/png": {"schema": {"type": "string", "format": "binary"}},
                 "multipart/form-data": {"schema": {"type": "object", "properties": {
                     "file": {"type": "string", "format": "binary"}}}}}}})
async def camera_frame(device_id: str, request: Request, principal: Caller,
                       x_device_key: DeviceKey = None) -> dict[str, Any]:
    await run_in_threadpool(_camera_or_staff, device_id, principal, x_device_key)
    data = await _frame(request)
    return video.health_json(await run_in_threadpool(video.check_frame, device_id, data))


@router.get("/rules", response_model=list[RuleView], summary="规则列表 Rules")
def list_rules(principal: Caller) -> list[dict[str, Any]]:
    _staff(principal)
    return [rules.rule_json(r) for r in rules.list_rules()]


@router.post("/rules", status_code=201, response_model=RuleView, summary="新建规则 Create a rule")
def create_rule(body: RuleBody, principal: Caller) -> dict[str, Any]:
    return rules.rule_json(rules.create_rule(rules.RuleSpec(**body.model_dump()), _writer(principal)))


@router.delete("/rules/{rule_id}", status_code=204, summary="删除规则 Delete a rule")
def delete_rule(rule_id: str, principal: Caller) -> None:
    rules.delete_rule(rule_id, _writer(principal))


@router.get("/alarms", response_model=list[AlarmView], summary="告警列表 Alarms")
def alarms(principal: Caller, status: str | None = None, device_id: str | None = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    _staff(principal)
    return [rules.alarm_json(a) for a in rules.list_alarms(status, device_id, limit)]


@router.post("/alarms/{alarm_id}/{action}", response_model=AlarmView,
             summary="确认或解除告警 Acknowledge or clear an alarm")
def alarm_action(alarm_id: str, action: str, principal: Caller) -> dict[str, Any]:
    actor = _writer(principal)
    if action not in ("acknowledge", "clear"):
        raise Problem(404, "未找到 Not found", f"未知操作 unknown action '{action}'; acknowledge or clear")
    return rules.alarm_json(rules.transition(alarm_id, "acknowledge" if action == "acknowledge" else "clear", actor))


@router.get("/stats", summary="接入统计 Stored and rejected readings per channel")
def stats(principal: Caller) -> dict[str, int]:
    _staff(principal)
    return service.stats()


# --- commands to actuators (hub/iot/commands.py) --------------------------------------------------

class CommandBody(BaseModel):
    command: str = Field(min_length=1, max_length=20, description="Valve: close/open；SluiceGate: open/close；"
                         "Streetlight: on/off；TrafficSignal: set_plan")
    params: dict[str, Any] = Field(default_factory=dict, description="TrafficSignal.set_plan: {\"plan\": "
                                   + " | ".join(commands.SIGNAL_PLANS) + "}")
    reason: str = Field("", max_length=500, description="申请理由（需审批时审批人可见）why, shown to the approver")


class AckBody(BaseModel):
    result: dict[str, Any] = Field(default_factory=dict)


def _own_device(device_id: str, key: str | None) -> Any:
    if not key:
        raise unauthorized("需要设备凭证 X-Device-Key / the device credential is required")
    device = service.device_by_credential(key)
    if device.id != device_id:
        raise forbidden("设备只能读取自己的指令 a device reads only its own commands")
    return device


@router.post("/devices/{device_id}/commands", status_code=201, summary="下发指令 Send a command",
             response_model=CommandView | CommandQueued,
             responses={202: {"description": "已提交审批 queued for a second person's approval",
                              "model": CommandQueued}})
def send_command(device_id: str, body: CommandBody, principal: Caller, response: Response) -> dict[str, Any]:
    actor = _staff(principal)
    if principal is None or principal.role not in OPERATOR_ROLES:
        raise forbidden("仅限管理员和运维人员；其他人员请通过助理申请 admin and operators only; others ask the assistant")
    device = commands.check(device_id, body.command, body.params)
    if principal.role.value == "admin" or commands.mode(device.type, body.command) == "direct":
        return commands.command_json(commands.send(device_id, body.command, body.params, actor))
    outcome = commands.request_command(device, body.command, body.params, body.reason, principal)
    if outcome.approval_id is None:
        raise forbidden(outcome.body)
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/approvals/{outcome.approval_id}"
    return {"status": "approval-required", "approval": approvals.to_dict(approvals.get(outcome.approval_id))}


@router.get("/devices/{device_id}/commands", response_model=list[CommandView],
            summary="设备指令记录 A device's commands")
def device_commands(device_id: str, principal: Caller, status: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    _staff(principal)
    return [commands.command_json(c) for c in commands.list_commands(device_id, status, limit)]


@router.get("/devices/{device_id}/commands/pending", response_model=list[CommandMessage],
            summary="设备取待执行指令 A device fetches its open commands")
def pending_commands(device_id: str, x_device_key: DeviceKey = None) -> list[dict[str, Any]]:
    return [commands.command_message(c) for c in commands.fetch_pending(_own_device(device_id, x_device_key))]


@router.post("/commands/{command_id}/ack", response_model=CommandView,
             summary="设备确认指令 A device acknowledges a command")
def ack_command(command_id: str, x_device_key: DeviceKey = None, body: AckBody | None = None) -> dict[str, Any]:
    if not x_device_key:
        raise unauthorized("需要设备凭证 X-Device-Key / the device credential is required")
    device = service.device_by_credential(x_device_key)
    return commands.command_json(commands.acknowledge(command_id, device.id, body.result if body else None))
