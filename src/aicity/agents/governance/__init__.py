"""City governance agent (城市治理智能体)."""
