"""The facts an audit reads from AWS, one module per service. Each fetcher returns
frozen dataclasses rather than raw boto3 dicts, so checks stay typed and testable."""
