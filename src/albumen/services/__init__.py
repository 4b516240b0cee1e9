"""Use cases, one module per noun. They see only ports and domain."""
