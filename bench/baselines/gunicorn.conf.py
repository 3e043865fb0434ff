# gunicorn settings of the seed baseline (bench/baselines/seed_server.py), for a machine of CPUS cores
# (the benchmark passes the same CPU budget as the service gets: SEED_WORKERS, SEED_THREADS, TORCH_THREADS).
#
# Why 2 workers x 4 threads x 1 torch thread on 2 cores:
# * Inference is CPU-bound, and CPython's GIL lets one process run Python (Flask, JSON, the pure-Python
#   tokenizer) on one core at a time: one worker process per core uses both cores. More processes than
#   cores only add context switches and model copies.
# * torch's default is one intra-op thread per core in *every* process: 2 workers would run 4 compute
#   threads on 2 cores. One torch thread per worker keeps compute threads = cores (the service's rule too).
# * gthread workers with 4 threads each: while one thread is inside torch (which releases the GIL), the
#   others parse the next requests and write responses, so network I/O overlaps compute. More threads only
#   queue more requests inside the process; the rest wait on their keep-alive connections.
# * keepalive longer than the load generator's pauses, so 500 connections stay open, as behind NGINX.
import os

_cpus = len(os.sched_getaffinity(0))

wsgi_app = "seed_server:app"
chdir = os.path.dirname(os.path.abspath(__file__))
worker_class = "gthread"
workers = int(os.environ.get("SEED_WORKERS", _cpus))
threads = int(os.environ.get("SEED_THREADS", "4"))
worker_connections = 2000
backlog = 2048
keepalive = 75
timeout = 120
graceful_timeout = 10
# Each worker loads its own model after the fork (torch's thread pools do not survive a fork).
preload_app = False
loglevel = os.environ.get("SEED_LOG_LEVEL", "warning")
accesslog = None
errorlog = "-"
