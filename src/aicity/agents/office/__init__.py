"""政务办公智能体 the office agent: official documents (issue #15)."""
