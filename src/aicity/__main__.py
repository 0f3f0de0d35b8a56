"""`python -m aicity …`: the same command line as the `aicity` script (e.g. `python -X importtime -m aicity agents`)."""

from aicity.cli import app

app(prog_name="aicity")
