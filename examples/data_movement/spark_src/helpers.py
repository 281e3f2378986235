"""Shared by the Spark entry (shipped with --py-files / py_files)."""


def species_column(df):
    """The name of the species column, whatever its case."""
    for name in df.columns:
        if name.lower() == "species":
            return name
    raise ValueError(f"no species column in {df.columns}")
