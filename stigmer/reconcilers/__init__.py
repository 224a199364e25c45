"""The pipeline framework, its steps, the Agent/AgentInstance reconcilers and the controller."""
