"""FastAPI routers (thin), schemas and the one error handler."""
