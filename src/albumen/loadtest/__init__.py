"""``albumen loadtest``: the load scenarios, driven by Locust, judged against the objectives.

``locustfile`` holds the scenarios (Locust loads it in its own process, with gevent), ``run``
prepares a server, users and photos and runs Locust headless, and ``report`` turns Locust's
CSV output and the server's metrics into the JSON report, the SLO verdict and the chart.
"""
