"""物联感知: devices, telemetry (HTTP and MQTT), rules and alarms that feed the events hub."""
