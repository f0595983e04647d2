"""moto for brickstack's tests, started by scripts/emulators.sh with the venv's Python.

    python scripts/moto_tls.py CERT KEY

One moto (one set of in-memory backends) on two loopback listeners, each on a free port:

* https, with the server certificate scripts/emulators.sh generated (signed by its CA, which the
  env file names in AWS_CA_BUNDLE): what every client uses;
* plain http, on the same backends: used only by the test proving that the state bucket's
  TLS-only policy refuses a request that did not come over TLS.

Both URLs are printed on stdout (`moto https on https://127.0.0.1:N`, `moto http on ...`).

moto 5.2.5 does not evaluate a bucket policy's `Bool` condition: it takes any condition it cannot
evaluate as met, so `Deny s3:* if aws:SecureTransport = false` denied every request, over TLS or
not. `_teach_secure_transport` makes moto evaluate that one key from the request's scheme, as S3
does; every other condition keeps moto's own behaviour.
"""

import json
import signal
import sys
import threading

from flask import has_request_context, request
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import FakeBucket
from werkzeug.serving import make_server

SECURE_TRANSPORT = "aws:securetransport"


def _condition_holds(condition, secure):
    """False only for a `Bool` test of aws:SecureTransport that this request fails."""
    for operator, tests in (condition or {}).items():
        if operator != "Bool":
            continue
        for key, expected in tests.items():
            if key.lower() != SECURE_TRANSPORT:
                continue
            wanted = expected if isinstance(expected, list) else [expected]
            if str(secure).lower() not in [str(v).lower() for v in wanted]:
                return False
    return True


def _teach_secure_transport():
    original = FakeBucket.get_permission

    def get_permission(self, action, resource):
        if self.policy is None or not has_request_context():
            return original(self, action, resource)
        secure = request.scheme == "https"
        document = json.loads(self.policy.decode())
        statements = document["Statement"]
        if not isinstance(statements, list):
            statements = [statements]
        permitted = False
        for statement in statements:
            if not _condition_holds(statement.get("Condition"), secure):
                continue  # the statement does not apply to this request
            rest = {k: v for k, v in statement.items() if k != "Condition"}
            if "Condition" in statement:
                # Other condition keys: moto's own evaluation, as before.
                rest["Condition"] = {
                    op: {k: v for k, v in tests.items() if k.lower() != SECURE_TRANSPORT}
                    for op, tests in statement["Condition"].items()
                }
                rest["Condition"] = {op: t for op, t in rest["Condition"].items() if t}
            result = IAMPolicyStatement(rest).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return result
            permitted = permitted or result == PermissionResult.PERMITTED
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission


def main():
    cert, key = sys.argv[1], sys.argv[2]
    _teach_secure_transport()
    app = DomainDispatcherApplication(create_backend_app)
    servers = [
        ("https", make_server("127.0.0.1", 0, app, threaded=True,
                              request_handler=MotoRequestHandler, ssl_context=(cert, key))),
        ("http", make_server("127.0.0.1", 0, app, threaded=True,
                             request_handler=MotoRequestHandler)),
    ]
    for scheme, server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"moto {scheme} on {scheme}://127.0.0.1:{server.server_port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    for _, server in servers:
        server.shutdown()


if __name__ == "__main__":
    main()
