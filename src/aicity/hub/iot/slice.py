"""IoT sensing: devices, telemetry, rules and alarms, actuator commands, the simulator."""

from aicity.core.slices import Command, HttpRouter, Section, Slice

iot = Slice(
    id="iot",
    title="物联感知 IoT sensing",
    depends_on=("identity", "events"),
    tables=("aicity.hub.iot.models",),
    routers=(HttpRouter("aicity.hub.iot.api:router"),),
    commands=(Command("iot", "aicity.hub.iot.cli:app", "物联感知 devices, telemetry, rules and alarms"),
              Command("simulate", "aicity.hub.iot.cli:simulate",
                      "示范城市设备模拟器 The demo city simulator (= aicity iot simulate)")),
    # the no-data watcher; the MQTT client when a broker is configured
    startup=("aicity.hub.iot.mqtt:start",),
    schedules=("aicity.hub.iot.mqtt:start_watch",),
    settings=(Section("iot", "aicity.hub.iot.settings:IotSettings"),),
)
