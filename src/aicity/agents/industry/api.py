"""产业招商 HTTP API under `/api/v1/industry` (officials, operators and admins).

- `GET /chains` — every chain with its nodes and operating firms
- `GET /chains/{chain}?district=` — the chain map: nodes upstream → downstream, firms, strength
- `GET /gaps?chain=&district=` — missing and thin nodes
- `GET /chains/{chain}/leads?node=&limit=` — outside companies ranked, each with its components
- `GET /chains/{chain}/report?format=md|html|docx&district=` — the chain report (one click)
- `GET|POST /projects`, `GET /projects/{id}`, `POST /projects/{id}/move`, `POST /projects/{id}/notes`,
  `GET /projects/{id}/materials/{kind}`, `GET /assessment?year=` — the project pipeline (any staff reads it;
  creating, moving and notes are for the commerce bureau's officials, operators and admins: 403 otherwise)
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from aicity.agents.industry import chains, leads, projects, report, service
from aicity.agents.industry.chains import ChainMap, ChainSummary
from aicity.agents.industry.figures import Queries
from aicity.agents.industry.leads import LeadRanking
from aicity.agents.industry.projects import Assessment, Material, Project, ProjectDetail
from aicity.agents.industry.schemas import Gap, ProjectCreate, ProjectMove, ProjectNote
from aicity.core.errors import forbidden, unauthorized
from aicity.identity.api import Caller
from aicity.identity.service import Principal

router = APIRouter(prefix="/api/v1/industry", tags=["industry"])

District = Annotated[str | None, Query(max_length=40, description="区名或区代码，如 光谷区 / guanggu")]


def _staff(principal: Principal | None) -> Principal:
    if principal is None:
        raise unauthorized("需要工作人员 API key / a staff API key is required")
    if not principal.is_staff:
        raise forbidden("产业招商面向工作人员 industry and investment data is for staff", "staff-only")
    return principal


def _writer(principal: Principal | None) -> Principal:
    return projects.check_writer(_staff(principal))


def _queries(p: Principal) -> Queries:
    return Queries(p.role.value, p.department)


@router.get("/chains", response_model=list[ChainSummary], summary="重点产业链 Chains")
async def list_chains(principal: Caller) -> list[ChainSummary]:
    p = _staff(principal)
    return await run_in_threadpool(chains.chains, _queries(p))


@router.get("/chains/{chain}", response_model=ChainMap, summary="产业链图谱与强弱环节 Chain map")
async def chain_map(chain: str, principal: Caller, district: District = None) -> ChainMap:
    p = _staff(principal)
    return await run_in_threadpool(chains.chain_map, chain, district, _queries(p))


@router.get("/gaps", response_model=list[Gap], summary="缺失和薄弱环节 Gaps")
async def gaps(principal: Caller, chain: Annotated[str | None, Query(max_length=40)] = None,
               district: District = None) -> list[Gap]:
    p = _staff(principal)
    return await run_in_threadpool(service.gaps, chain, district, _queries(p))


@router.get("/chains/{chain}/leads", response_model=LeadRanking, summary="招商线索排序 Ranked leads")
async def chain_leads(chain: str, principal: Caller, node: Annotated[str | None, Query(max_length=60)] = None,
                      limit: Annotated[int, Query(ge=1, le=100)] = 10) -> LeadRanking:
    p = _staff(principal)
    return await run_in_threadpool(lambda: leads.rank(chain, node, limit, _queries(p)))


@router.get("/chains/{chain}/report", response_class=Response, summary="产业链报告 Chain report (md, html, docx)",
            responses={200: {"description": "报告文件", "content": {
                "text/markdown": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}},
                report.MEDIA["docx"]: {"schema": {"type": "string", "format": "binary"}}}}})
async def chain_report(chain: str, principal: Caller,
                       format: Annotated[str, Query(pattern="^(md|html|docx)$")] = "html",  # noqa: A002
                       district: District = None) -> Response:
    p = _staff(principal)

    def make() -> tuple[str, bytes]:
        built = report.build(chain, district, p)
        return built.title, report.render(built, format)

    title, body = await run_in_threadpool(make)
    name = quote(f"{title}.{format}")
    return Response(body, media_type=report.MEDIA[format],
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"})


@router.get("/projects", response_model=list[Project], summary="招商项目 Projects")
def list_projects(principal: Caller, stage: Annotated[str | None, Query(max_length=10)] = None,
                  stalled: bool | None = None, chain: Annotated[str | None, Query(max_length=40)] = None,
                  ) -> list[Project]:
    _staff(principal)
    return projects.list_projects(stage, stalled, chain)


@router.post("/projects", response_model=ProjectDetail, status_code=201, summary="新建招商项目 Create a project")
def create_project(body: ProjectCreate, principal: Caller) -> ProjectDetail:
    p = _writer(principal)
    return projects.create(actor=p.actor, **body.model_dump())


@router.get("/projects/{project_id}", response_model=ProjectDetail, summary="项目详情 A project")
def get_project(project_id: str, principal: Caller) -> ProjectDetail:
    _staff(principal)
    return projects.get(project_id)


@router.post("/projects/{project_id}/move", response_model=ProjectDetail, summary="推进或退回 Move a project")
def move_project(project_id: str, body: ProjectMove, principal: Caller) -> ProjectDetail:
    p = _writer(principal)
    return projects.move(project_id, body.to, actor=p.actor, note=body.note, owner=body.owner)


@router.post("/projects/{project_id}/notes", response_model=ProjectDetail, summary="备注与提醒 Add a note")
def note_project(project_id: str, body: ProjectNote, principal: Caller) -> ProjectDetail:
    p = _writer(principal)
    return projects.add_note(project_id, body.note, actor=p.actor, remind_on=body.remind_on)


@router.get("/projects/{project_id}/materials/{kind}", response_model=Material,
            summary="阶段材料 Stage material (brief, assessment, handover)")
async def project_material(project_id: str, kind: str, principal: Caller) -> Material:
    _staff(principal)
    return await run_in_threadpool(projects.material, project_id, kind)


@router.get("/assessment", response_model=Assessment, summary="年度考核 The year's targets and results")
def year_assessment(principal: Caller, year: Annotated[int, Query(ge=2000, le=2100)]) -> Assessment:
    _staff(principal)
    return projects.assessment(year)
