"""The analyst console (``python -m console``): alerts, their timelines, verdicts, users.

Server-rendered by Flask and Jinja2, bound to 127.0.0.1 by default. It reads the anomalies table's
alert records (``scorer.stores``), the archive through the SQL layer (``console.timeline``) and the
labels table it writes verdicts to (``console.labels``), with the analyst's own AWS credentials.
"""
