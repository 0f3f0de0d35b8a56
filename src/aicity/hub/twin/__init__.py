"""The city twin: an NGSI-LD entity store (ETSI GS CIM 009) with subscriptions and attribute history."""
