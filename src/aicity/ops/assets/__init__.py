"""数字资产开放与管理 the digital-asset platform: an index of the city's applications, datasets, components,
services, models and cloud resources, with owners, status and lineage; applications for access, approved
by the owner and provisioned where the platform can; use metered and charged back; digitalisation
projects from 立项 to 验收 (docs/operations.md)."""
