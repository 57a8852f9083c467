"""Reading input: workbooks and CSV, cells and sheets, the town profile, practices and town text, the cross-field
rules, validation, :func:`~.load.load_dataset` and its cache."""
