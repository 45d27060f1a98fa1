"""The townhall benchmark harness: dataset, servers, load generation and reporting.

``bench/run.py`` is the one command; each module here does one part of it:

- :mod:`harness.dataset` builds the threads and comments (deterministic, seeded), the same for
  townhall and Isso, and the texts the posting workloads send;
- :mod:`harness.seed` writes them into townhall's database (SQLAlchemy Core, fast) and
  ``harness/isso_seed.py`` into Isso's (run inside Isso's own virtual environment);
- :mod:`harness.servers` installs Isso, nginx and wrk when missing and starts, watches
  (CPU, RSS) and stops every server by PID;
- :mod:`harness.load` drives wrk (or a small asyncio client when wrk is missing);
- :mod:`harness.workloads` defines what each system is asked, request for request;
- :mod:`harness.extras` runs the other issues' benchmarks when they are present;
- :mod:`harness.report` turns the results into the JSON and Markdown reports.
"""
