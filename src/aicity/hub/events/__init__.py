"""Unified event management (统一事件管理, 一网统管): city problems reported from every source,
classified, dispatched, handled and closed under SLA timers; Open311 GeoReport v2."""
