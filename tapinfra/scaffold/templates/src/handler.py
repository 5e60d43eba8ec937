"""__APP__'s function: the routes of openapi.json, on Powertools for AWS Lambda.

tapinfra routes ``GET /health`` here too (no API key): Route 53's health checks and the canary
probe it, and the region's drain switch (an SSM parameter) turns it to 503 on purpose.
Everything tapinfra sets for the function is named in ``tapinfra.runtime`` (shipped in the zip).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError

from tapinfra.runtime import HEALTH_PATH, Env
from tapinfra.runtime.openapi import load

API = load(Path(__file__).with_name("openapi.json"))
logger = Logger()
app = APIGatewayRestResolver()


def _drained() -> bool:
    name = os.environ.get(Env.DRAIN_PARAMETER_NAME, "")
    if not name:
        return False
    value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value.strip().lower() == "on"


@app.get(HEALTH_PATH)
def health():
    if _drained():
        return Response(503, "application/json", json.dumps({"status": "drained"}))
    return {"status": "ok", "region": os.environ.get("AWS_REGION", "")}


@app.get("/greetings/<name>")
def greet(name: str):
    return {"greeting": f"Hello, {name}!"}


@app.post("/greetings")
def create_greeting():
    body = app.current_event.json_body
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise BadRequestError("body: expected {\"name\": \"...\"}")
    return Response(201, "application/json", json.dumps({"greeting": f"Hello, {body['name']}!"}))


@logger.inject_lambda_context
def handler(event, context):
    return app.resolve(event, context)
