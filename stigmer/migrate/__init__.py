"""Moving data in: the upstream SQLite import and the store-to-store copy."""
