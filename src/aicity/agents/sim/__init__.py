"""推演智能体: the assistant's simulation mode, over the simulation hub (`hub/sim`)."""
