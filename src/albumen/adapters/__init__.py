"""All I/O: databases, blob stores, image libraries, queues and caches."""
