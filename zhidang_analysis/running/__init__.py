"""Running reports: the warm kernel and papermill runner, the batch plan with its input keys, and the executors
(a local process pool, a Dask cluster) chosen by name behind one interface."""
