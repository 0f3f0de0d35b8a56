"""aicity: the AI CITY city-agent platform."""

__version__ = "0.1.0"
