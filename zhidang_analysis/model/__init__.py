"""The data model: the indicator catalog, the validated :class:`~.dataset.Dataset`, validation findings and what the
package bundles. No reading of input files here (see :mod:`..inputs`)."""
