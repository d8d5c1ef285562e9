"""Process Approval in Python: the same work as functions/process_approval, for the
cold-start comparison in hitl-bench (run under awslambdaric: `python -m awslambdaric
process_approval.handler`).

Like the Rust function it reads DECISION_TOPIC_ARN and builds the SNS client once, at
init; each invocation builds the decision record, publishes it to the decision topic
(MessageStructure=json: the record as `default`, a readable text as `email`) and returns it.
"""

import datetime
import json
import os

import boto3

TOPIC_ARN = os.environ["DECISION_TOPIC_ARN"]
SNS = boto3.client("sns")


def handler(event, context):
    review = event.get("review") or {}
    request = event.get("request")
    record = {
        "decision": "approved",
        "request": request,
        "review": review,
        "decidedAt": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "executionArn": event["executionArn"],
        "executionName": event["executionName"],
        "expired": bool(review.get("expired", False)),
    }
    for key in ("reviewer", "comment"):
        if isinstance(review.get(key), str):
            record[key] = review[key]
    email = (
        "The request was approved.\n\nExecution: {executionName}\nDecided at: {decidedAt}\n".format(**record)
        + "".join(f"{k.capitalize()}: {record[k]}\n" for k in ("reviewer", "comment") if k in record)
        + "\nRequest:\n" + json.dumps(request, indent=2) + "\n\nExecution ARN: " + record["executionArn"] + "\n"
    )
    SNS.publish(
        TopicArn=TOPIC_ARN,
        Subject=("Approved: " + record["executionName"])[:100],
        Message=json.dumps({"default": json.dumps(record), "email": email}),
        MessageStructure="json",
    )
    return record
