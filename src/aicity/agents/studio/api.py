"""智能体共创 HTTP API under `/api/v1/agents` (beside `GET /api/v1/agents`, the agent cards):

- `GET /catalogue?q=&category=&sort=&mine=&favourites=`, `GET /catalogue/categories` — what the caller may see
- `GET /studio/options` — the knowledge bases, tools, modes and templates the caller may build with
- `POST /definitions` (201), `POST /definitions/import`, `POST /definitions/validate`
- `GET|PUT /definitions/{id}`, `GET /definitions/{id}/export?format=yaml|json&version=`
- `POST /definitions/{id}/publish` (`version`: any earlier one is a rollback; `visibility`), `/withdraw`
- `POST /definitions/{id}/reactions` (like, favourite, rating 1–5)
- `POST /definitions/{id}/test` — the draft (or an unsaved definition) answers, with its trace
- `POST /definitions/{id}/routing` — where the super assistant sends its examples now
- `POST /{id}/chat` — a published agent answers (also `/v1/chat/completions` with `model` = its id)

A definition that fails a check is a 422 problem whose `errors` name each field; nothing is saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from aicity.agents.studio import runtime, service, templates
from aicity.agents.studio.service import AgentDetail, AgentView, Visibility
from aicity.agents.studio.spec import dump
from aicity.core.errors import unauthorized
from aicity.identity.api import Caller
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,39}$")]


class DefinitionBody(BaseModel):
    definition: dict[str, Any] = Field(description="智能体定义（与 YAML 文件相同的字段）")
    note: str = Field(default="", max_length=200, description="版本说明")


class ImportBody(BaseModel):
    text: str = Field(min_length=2, max_length=200_000, description="一个智能体的 YAML 或 JSON 文件内容")
    format: Literal["yaml", "json"] = "yaml"


class PublishBody(BaseModel):
    version: int | None = Field(default=None, ge=1, description="发布哪一版（早于当前的即回滚）；默认最新版")
    visibility: Visibility | None = None


class ReactionBody(BaseModel):
    liked: bool | None = None
    favourite: bool | None = None
    rating: int | None = Field(default=None, ge=1, le=5)


class ChatBody(BaseModel):
    text: str = Field(min_length=1, max_length=8000)
    session_id: str | None = Field(default=None, max_length=40)


class TestBody(ChatBody):
    #: an unsaved definition to try (default: the newest saved version)
    definition: dict[str, Any] | None = None


class RoutingBody(BaseModel):
    texts: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default=[], max_length=60)
    definition: dict[str, Any] | None = None


class Checked(BaseModel):
    ok: bool
    definition: dict[str, Any]
    yaml: str


class Option(BaseModel):
    id: str
    name: str
    description: str = ""
    risk: str | None = None
    level: str | None = None


class Template(BaseModel):
    id: str
    name: str
    icon: str
    description: str
    definition: dict[str, Any]


class Options(BaseModel):
    kbs: list[Option]
    tools: list[Option]
    modes: list[str]
    templates: list[Template]


class AgentAnswer(BaseModel):
    agent: str
    version: int | None
    answer: str
    mode: str | None = None
    skills: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    sections: list[dict[str, Any]]
    clarification: dict[str, Any] | None = None
    trace_id: str
    session_id: str
    planner: str
    trace: list[dict[str, Any]]


class RouteRow(BaseModel):
    text: str
    mode: str | None
    confidence: float | None
    skills: list[str]
    reply: str | None = None
    here: bool


class Catalogue(BaseModel):
    agents: list[AgentView]
    categories: list[str]
    at: datetime


def _who(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要 API key / an API key is required")
    return principal


@router.get("/catalogue", response_model=Catalogue, summary="智能体广场 The catalogue")
async def catalogue(principal: Caller, q: Annotated[str, Query(max_length=100)] = "",
                    category: Annotated[str | None, Query(max_length=20)] = None,
                    sort: Literal["uses", "likes", "rating", "new"] = "uses", mine: bool = False,
                    favourites: bool = False) -> Catalogue:
    agents = await run_in_threadpool(service.catalogue, principal, q, category, sort, mine, favourites)
    cats = await run_in_threadpool(service.categories)
    return Catalogue(agents=agents, categories=cats, at=datetime.now().astimezone())


@router.get("/studio/options", response_model=Options, summary="可用的知识库、工具、模式和模板 What to build with")
async def options(principal: Caller) -> Options:
    who = _who(principal)

    def gather() -> Options:
        return Options(kbs=[Option(**k) for k in service.usable_kbs(who)],
                       tools=[Option(**t) for t in service.usable_tools(who)],
                       modes=sorted(service.known_modes() - service.RESERVED_MODES),
                       templates=[Template(**t) for t in templates.templates()])

    return await run_in_threadpool(gather)


@router.post("/definitions", response_model=AgentDetail, status_code=201, summary="新建智能体（草稿）Create")
async def create(body: DefinitionBody, principal: Caller, response: Response) -> AgentDetail:
    created = await run_in_threadpool(service.create, body.definition, principal, body.note)
    response.headers["Location"] = f"/api/v1/agents/definitions/{created.id}"
    return created


@router.post("/definitions/import", response_model=AgentDetail, summary="导入 YAML/JSON Import a file")
async def import_file(body: ImportBody, principal: Caller) -> AgentDetail:
    return await run_in_threadpool(service.import_text, body.text, body.format, principal)


@router.post("/definitions/validate", response_model=Checked, summary="检查定义 Check a definition")
async def validate(body: DefinitionBody, principal: Caller) -> Checked:
    who = _who(principal)

    def check() -> Checked:
        definition = service.validated(body.definition)
        service.check(definition, who)
        return Checked(ok=True, definition=definition.to_data(), yaml=dump(definition))

    return await run_in_threadpool(check)


@router.get("/definitions/{agent_id}", response_model=AgentDetail, summary="智能体详情 An agent")
async def detail(agent_id: Id, principal: Caller) -> AgentDetail:
    return await run_in_threadpool(service.detail, agent_id, principal)


@router.put("/definitions/{agent_id}", response_model=AgentDetail, summary="保存新版本 Save a version")
async def save(agent_id: Id, body: DefinitionBody, principal: Caller) -> AgentDetail:
    return await run_in_threadpool(service.save, agent_id, body.definition, principal, body.note)


@router.get("/definitions/{agent_id}/export", response_class=Response, summary="导出 Export one file",
            responses={200: {"description": "一个智能体的定义文件", "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object", "description": "与 YAML 相同的字段 (docs/studio.md)",
                                                 "properties": {"id": {"type": "string"},
                                                                "name": {"type": "string"}}}}}}})
async def export(agent_id: Id, principal: Caller, format: Literal["yaml", "json"] = "yaml",  # noqa: A002
                 version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    text = await run_in_threadpool(service.export, agent_id, principal, version, format)
    return Response(text, media_type=f"application/{format}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{agent_id}.{format}"'})


@router.post("/definitions/{agent_id}/publish", response_model=AgentDetail, summary="发布或回滚 Publish / roll back")
async def publish(agent_id: Id, body: PublishBody, principal: Caller) -> AgentDetail:
    return await run_in_threadpool(service.publish, agent_id, principal, body.version, body.visibility)


@router.post("/definitions/{agent_id}/withdraw", response_model=AgentDetail, summary="下线 Withdraw")
async def withdraw(agent_id: Id, principal: Caller) -> AgentDetail:
    return await run_in_threadpool(service.withdraw, agent_id, principal)


@router.post("/definitions/{agent_id}/reactions", response_model=AgentView, summary="点赞、收藏、评分 React")
async def react(agent_id: Id, body: ReactionBody, principal: Caller) -> AgentView:
    return await run_in_threadpool(service.react, agent_id, principal, body.liked, body.favourite, body.rating)


@router.post("/definitions/{agent_id}/test", response_model=AgentAnswer, summary="试运行草稿 Try the draft")
async def test_draft(agent_id: Id, body: TestBody, principal: Caller) -> AgentAnswer:
    who = _who(principal)

    def run() -> dict[str, Any]:
        if body.definition is not None:
            draft = service.validated(body.definition)
            service.check(draft, who)
        else:
            draft = service.definition_of(agent_id, who)
        service.require_editor(agent_id, who, draft)
        return runtime.run(agent_id, body.text, who, body.session_id, draft)

    return AgentAnswer(**await run_in_threadpool(run))


@router.post("/definitions/{agent_id}/routing", response_model=list[RouteRow],
             summary="这些请求会被路由到哪里 Where requests go")
async def routing(agent_id: Id, body: RoutingBody, principal: Caller) -> list[RouteRow]:
    who = _who(principal)

    def run() -> list[dict[str, Any]]:
        definition = service.validated(body.definition) if body.definition is not None \
            else service.definition_of(agent_id, who)
        service.require_editor(agent_id, who, definition)
        return runtime.routes(definition, who, body.texts or None)

    return [RouteRow(**r) for r in await run_in_threadpool(run)]


@router.post("/{agent_id}/chat", response_model=AgentAnswer, summary="与已发布的智能体对话 Ask an agent")
async def chat(agent_id: Id, body: ChatBody, principal: Caller) -> AgentAnswer:
    who = principal or Principal(role=service.ANONYMOUS_ROLE)
    # a keyless caller cannot prove a session is theirs: each of their messages starts a new one
    session = body.session_id if principal is not None else None
    return AgentAnswer(**await run_in_threadpool(runtime.run, agent_id, body.text, who, session))
