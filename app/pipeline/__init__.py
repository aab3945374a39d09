"""Use cases, one module per stage; the web app, the workers and the CLI all call these."""
