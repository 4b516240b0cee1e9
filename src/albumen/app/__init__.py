"""The composition root: the one place that builds adapters and wires them into use cases.

- ``infrastructure``: every embedded-versus-scale choice, made once from the settings;
- ``services``: the use cases, built with keyword arguments from the infrastructure's ports;
- ``operations``: metrics, the dashboard's sampler, alerts, the cache optimizer, slow queries;
- ``root``: the three together (``build``), and the work a server or worker starts.

The web application that serves them is ``albumen.web``; commands that never serve HTTP do not
pay for importing the web framework, and ``albumen users`` builds only what it needs.
"""
