"""Running reports: the warm kernel and papermill runner, the batch plan with its input keys, and the executors
(a local process pool, a Dask cluster) chosen by name behind one interface."""

from ..startup import skip_iri_parsers

skip_iri_parsers()  # before papermill and nbformat are imported (a second of every batch process's and worker's start)
