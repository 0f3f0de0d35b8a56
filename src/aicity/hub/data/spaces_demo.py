"""The demo city's data space: civil affairs (民政局) offers `low_income_households` aggregate-only
to the data administration (政务服务和数据管理局), which computes counts by district — minimum
group size 10, ε budget 1.0, 20 queries, one year. Idempotent: a space of the same name is kept.

Demo-city assumption: the pack has no statistics bureau or district governments among its
departments, so the data administration (政务数据共享 is its duty) is the consumer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from aicity.core.db import database
from aicity.core.errors import Problem
from aicity.core.slices import Progress
from aicity.hub.data import spaces, store
from aicity.hub.data.policy import aggregate_policy
from aicity.hub.data.spaces_models import DataSpace
from aicity.identity.models import Role
from aicity.identity.service import Principal

SPACE_NAME = "江城市公共数据授权运营空间"
PROVIDER, CONSUMER = "civil_affairs", "data_bureau"
DATASET = "low_income_households"
PURPOSE = "低保覆盖情况分区统计"


def load_demo(_root: Path, progress: Progress) -> None:
    with database().session() as s:
        if s.scalar(select(DataSpace.id).where(DataSpace.name == SPACE_NAME)) is not None:
            return
    try:
        store.dataset(DATASET)
    except Problem:  # the dataset is not in the store (yet): nothing to offer
        return
    provider = Principal(Role.official, department=PROVIDER, key_id="demo")
    consumer = Principal(Role.official, department=CONSUMER, key_id="demo")
    space = spaces.create_space(provider, SPACE_NAME, "city", "民政、数据管理等部门共享敏感数据的聚合结果（可用不可见）")
    spaces.join_space(consumer, space.id)
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=365)
    offer = spaces.make_offer(provider, space.id, DATASET, aggregate_policy(
        purposes=[PURPOSE, "社会救助政策评估"], epsilon=1.0, min_group_size=10, quota=20, expires=until),
        "低保家庭分区聚合统计（仅聚合，差分隐私）")
    agreement = spaces.request_agreement(consumer, offer.id, PURPOSE)
    spaces.agree(provider, agreement.id)
    progress("data spaces", 1, 1)
