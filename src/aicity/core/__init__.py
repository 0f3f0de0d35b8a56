"""Kernel shared by every slice: settings, database, ids, errors, bus, tracing."""
