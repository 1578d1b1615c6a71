"""The scorer: the Lambda function on the stream's event source mapping.

``handler.lambda_handler`` is the entry point; the logic lives in pure functions (``batch``) over
small protocols (``stores``, ``endpoint``) that tests call directly.
"""
