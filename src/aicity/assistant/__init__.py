"""The super assistant (城市超级助理): understand → plan → dispatch → compose."""
