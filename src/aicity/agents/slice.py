"""The domain agents that need nothing but skills (their routing data: each skill's `routes`)."""

from aicity.core.slices import Slice

agents = Slice(
    id="agents",
    title="领域智能体 domain agents: government services, policy, city operations, governance",
    depends_on=("catalog", "data", "events", "identity", "knowledge"),
    agents=("aicity.agents.gov_service.agent:build", "aicity.agents.policy.agent:build",
            "aicity.agents.city_ops.agent:build", "aicity.agents.governance.agent:build",
            "aicity.agents.data_ask.agent:build"),
)
