"""The city-safety agent (城市安全智能体): `agent.py`, its gas-leak loop and waterlogging watch."""

AGENT_ID = "city_safety"
