"""AI security system (安全体系): guards, detectors, tool authorisation, audit ledger."""
