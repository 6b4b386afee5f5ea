"""The trivial awslambdaric handler of bench/lambda_bench.sh: returns its event."""


def handler(event, context):
    return event
