"""The content of a report: the narrative, the charts, the county overview and the checks of notebook
parameters."""
