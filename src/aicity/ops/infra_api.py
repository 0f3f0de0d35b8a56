"""`GET /api/v1/ops/infra`: infrastructure operations for staff (ops/infra.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicity.core.errors import forbidden
from aicity.identity.api import Caller
from aicity.ops import infra

router = APIRouter(prefix="/api/v1/ops", tags=["ops"])


class SlowQuery(BaseModel):
    statement: str = Field(description="参数化语句（不含参数值）the parameterised statement, no values")
    ms: float
    at: str


class SlowQueries(BaseModel):
    threshold_ms: float
    count: int = Field(description="本进程启动以来的慢查询数 slow statements since this process started")
    recent: list[SlowQuery] = Field(description="最慢的近期语句 the slowest recent ones")


class DatabaseInfo(BaseModel):
    dialect: str
    size_bytes: int
    analytics_size_bytes: int = Field(description="数据中枢分析库（DuckDB 文件或 PostgreSQL 模式）the data hub's analytics store: the DuckDB file or the PostgreSQL schema")
    running_long: int | None = Field(description="PostgreSQL：正在运行且超过阈值的语句 statements running past the "
                                                 "threshold now; null on SQLite")
    slow_queries: SlowQueries


class QueueInfo(BaseModel):
    queue: str
    mode: str = Field(description="embedded（本进程线程）| redis（rq 队列）")
    queued: int
    running: int
    failed: int | None
    oldest_queued_s: float = Field(description="最早排队任务的等待秒数（worker 滞后）the oldest queued job's wait")


class BusInfo(BaseModel):
    mode: str
    durable: int
    pending: int
    dead_letters: int
    broadcast: int
    lag_s: float = Field(description="最早未被 worker 取走的事件的年龄 the oldest event no worker has taken")
    oldest_pending_s: float = Field(description="最早已取走未确认的事件的年龄 the oldest taken, not acknowledged")


class BrokerInfo(BaseModel):
    broker: str = Field(description="mqtt | redis")
    up: bool
    clients: int | None = Field(description="已连接客户端数 connected clients (MQTT: Mosquitto $SYS)")
    probe_ms: float | None = None
    error: str | None = None


class DistrictDevices(BaseModel):
    district: str
    devices: int
    online: int
    online_rate: float


class ModelDeployment(BaseModel):
    group: str
    deployment: str
    provider: str
    state: str = Field(description="断路器 breaker: closed | half_open | open")
    calls: int
    failures: int
    error_rate: float | None
    mean_latency_ms: float | None
    last_error: str | None


class Infra(BaseModel):
    generated_at: str
    mode: str = Field(description="embedded | redis（分布式 distributed）")
    database: DatabaseInfo
    queues: list[QueueInfo]
    bus: BusInfo
    brokers: list[BrokerInfo]
    devices: list[DistrictDevices] = Field(description="各区设备在线率 device online rates per district")
    models: list[ModelDeployment] = Field(description="模型部署的时延与错误 model deployments' latency and errors")


@router.get("/infra", response_model=Infra, summary="基础设施运营（工作人员）Infrastructure operations (staff)")
async def infrastructure(principal: Caller) -> dict[str, Any]:
    """Database size and slow queries, job queues and worker lag, the bus, broker connections, device
    online rates per district, model deployments' latency and errors."""
    if principal is None or not principal.is_staff:
        raise forbidden("需要工作人员 API key / staff key required")
    return await run_in_threadpool(infra.snapshot)
