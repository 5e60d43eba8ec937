"""The operator's view of a deployment: its picture, its price, a failover drill and a smoke test.

Everything here reads the *synthesized* Terraform JSON (``model.py``), never the config
directly, so what it shows cannot disagree with what ``deploy`` would create.
"""
