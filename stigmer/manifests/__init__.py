"""YAML loading with positions, schema validation, and dict <-> protobuf conversion."""
