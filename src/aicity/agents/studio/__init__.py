"""智能体共创平台 the agent co-creation platform (docs/studio.md)."""
