"""The demo city: its data (package data under `data/`) and how it is loaded."""
