"""The archive partitioner: the Lambda processor of the delivery stream when the archive is laid out
by the user's hash (``archiveUserHashBuckets`` > 0; ``archive.layout``).

``handler.lambda_handler`` is the entry point, ``handler.partition`` the same work on one record.
"""
