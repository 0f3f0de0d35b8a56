"""The city data hub: datasets in an embedded analytical store (DuckDB), their quality, versions,
lineage, grading (GB/T 43697-2024), desensitization, catalog and exports."""
