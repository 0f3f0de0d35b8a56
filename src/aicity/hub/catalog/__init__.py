"""Service catalog (事项库): government service items, one-thing bundles, policies, life events."""
