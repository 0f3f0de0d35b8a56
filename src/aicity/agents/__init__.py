"""Domain agents (领域智能体): the framework and the built-in agents, one folder each."""
