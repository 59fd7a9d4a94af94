"""Benchmarks of the ``scaleapi`` SDK: ``python -m benchmarks`` (``make bench``).

Every measurement runs the compared clients against the same local server, in the same
run, and reports ratios, so that the speed of the machine cancels out. Servers run in
processes of their own, and so does each measured client, so that ``time.process_time()``
of a client process counts that client's CPU and nothing else. ``--smoke`` runs every
section with tiny sizes (a few seconds), for the test suite.
"""
