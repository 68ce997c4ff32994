"""xiezuo (协作): information system for East–West cooperation and paired assistance."""

import os

__version__ = "0.1.0"

# Polars runs single-threaded unless the deployment says otherwise (read once, when polars is
# first imported). Its work here sits next to other processes that already use every core: the
# registry import's crypto workers and database backends. Measured at 10 M people on 2 cores, a
# polars pool of 2 threads made the import 276 s and 1.92 GB, one thread 243 s and 1.71 GB
# (bench/results/registry_load.md).
os.environ.setdefault("POLARS_MAX_THREADS", "1")
