"""A stand-in Compute Engine API (v1) for daskctl's gcp backend: no emulator exists. It follows
the REST reference (https://cloud.google.com/compute/docs/reference/rest/v1/instances and
.../zoneOperations), for exactly what daskctl and dask-cloudprovider's GCPCluster call, and is as
strict as the real API where they could go wrong:

- OAuth: POST /token (refresh-token grant, as gcloud's user credentials use it,
  https://developers.google.com/identity/protocols/oauth2/web-server#offline); every API call
  needs `Authorization: Bearer` with an issued token (401 UNAUTHENTICATED otherwise).
- instances.insert / delete / get / list / aggregatedList / setMetadata / setLabels /
  getSerialPortOutput; zoneOperations.get / wait. Mutations answer with a zone Operation
  (PENDING, RUNNING, DONE) that must be polled; `requestId` makes a retried insert the same
  operation. Errors as the API gives them: `{"error": {"code", "message", "errors": [{"domain",
  "reason", "message"}], "status"}}` with reasons notFound (404), alreadyExists (409),
  conditionNotMet (412, a stale metadata/label fingerprint), invalid (400: names, labels,
  machine types, unknown fields, maxResults, page tokens, filters).
- Operation errors: QUOTA_EXCEEDED (`Quota 'CPUS' exceeded.  Limit: N in region R.`, 403) and
  ZONE_RESOURCE_POOL_EXHAUSTED (503), on the operation, the instance never created.
- aggregatedList: `items` keyed `zones/ZONE` for every zone, a NO_RESULTS_ON_PAGE warning where
  nothing matched; `maxResults` (1..500) and `nextPageToken`; the filter grammar of the
  reference (`labels.KEY:*`, `labels.KEY = "v"`, `name = x`, `!=`, parenthesised expressions
  joined by AND/OR); a filter it does not know is a 400.
- int64/uint64 fields are JSON strings (`id`, `diskSizeGb`), timestamps RFC 3339 with offset.
- Eventual consistency: with `visibility_delay`, an instance whose insert is DONE is not yet
  returned by get/list for that long.

Each RUNNING instance runs its `startup-script` metadata (or the `runcmd` of a `#cloud-config`
`user-data`, as dask-cloudprovider sets it) as a local process group, with shims for what a VM
has: `docker run ... IMAGE CMD` runs CMD on this machine, `hostname` says the instance's name
(`-I`: its internal address, a 127.x address of its own so every scheduler binds port 8786),
`shutdown -h now` powers the instance off (TERMINATED). Its output is the serial console.

Faults (POST /standin/faults, JSON): cpu_quota (per region), stockout_zones, op_delay (seconds
an operation stays RUNNING), visibility_delay.

Usage: gce_standin.py --port-file F --dir D --python PY [--project P ...] [--zone Z ...]
"""

import argparse
import base64
import contextlib
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API = "https://www.googleapis.com/compute/v1"
NAME_RE = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
MACHINE_TYPES = {
    "e2-micro": 2,
    "e2-small": 2,
    "e2-medium": 2,
    "e2-standard-2": 2,
    "e2-standard-4": 4,
    "e2-standard-8": 8,
    "n1-standard-1": 1,
    "n1-standard-2": 2,
    "n1-standard-4": 4,
    "n2-standard-2": 2,
    "n2-standard-4": 4,
    "n2-standard-8": 8,
    "c2-standard-4": 4,
}
INSTANCE_FIELDS = {
    "name",
    "machineType",
    "disks",
    "networkInterfaces",
    "labels",
    "metadata",
    "scheduling",
    "serviceAccounts",
    "tags",
    "displayDevice",
    "canIpForward",
    "shieldedInstanceConfig",
    "deletionProtection",
    "reservationAffinity",
    "guestAccelerators",
    "description",
    "kind",
    "minCpuPlatform",
    "confidentialInstanceConfig",
    "advancedMachineFeatures",
    "hostname",
}
CONSOLE_KEEP = 1 << 20
LOCK = threading.RLock()
CHANGED = threading.Condition(LOCK)


def now_rfc3339():
    # the API's own form: local time with an offset (here UTC-08:00, as in its examples)
    t = datetime.now(timezone.utc).astimezone(timezone(timedelta(hours=-8)))
    return t.isoformat(timespec="milliseconds")


class ApiError(Exception):
    def __init__(self, code, reason, message, status=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.status = status or {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            409: "ALREADY_EXISTS",
            412: "FAILED_PRECONDITION",
        }.get(code, "UNKNOWN")

    def body(self):
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "status": self.status,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
            }
        }


def invalid(field, value, why):
    return ApiError(400, "invalid", f"Invalid value for field '{field}': '{value}'. {why}")


class State:
    def __init__(self, args):
        self.projects = set(args.project)
        self.zones = list(args.zone)
        self.python = args.python
        self.dir = args.dir
        self.instances = {}  # (project, zone, name) -> dict
        self.ops = {}  # (project, zone, opname) -> dict
        self.request_ids = {}
        self.tokens = set()
        self.refresh_tokens = set(args.refresh_token)
        self.faults = {
            "cpu_quota": None,
            "stockout_zones": [],
            "op_delay": 0.3,
            "visibility_delay": 0,
        }
        self.next_ip = 2
        self.next_id = 1000
        self.procs = {}  # key -> Popen
        self.console = {}  # key -> bytearray (with the offset of its first byte)
        self.console_start = {}
        self.requests = []


S = None


def zone_url(p, z):
    return f"{API}/projects/{p}/zones/{z}"


def region(zone):
    return zone.rsplit("-", 1)[0]


def new_op(p, z, kind, target, user="standin@example.com"):
    name = f"operation-{int(time.time() * 1000)}-{random.getrandbits(48):012x}"
    op = {
        "kind": "compute#operation",
        "id": str(random.getrandbits(63)),
        "name": name,
        "zone": zone_url(p, z),
        "operationType": kind,
        "targetLink": f"{zone_url(p, z)}/instances/{target}",
        "status": "PENDING",
        "progress": 0,
        "insertTime": now_rfc3339(),
        "user": user,
        "selfLink": f"{zone_url(p, z)}/operations/{name}",
    }
    S.ops[(p, z, name)] = op
    return op


def finish_later(key, op, work):
    """Runs `work` after op_delay, then marks the operation DONE (with work's error, if any)."""
    op["status"] = "RUNNING"
    op["startTime"] = now_rfc3339()
    delay = S.faults["op_delay"]

    def run():
        time.sleep(delay)
        with LOCK:
            err = work()
            op["status"], op["progress"], op["endTime"] = "DONE", 100, now_rfc3339()
            if err:
                code, status, message = err
                op["error"] = {"errors": [{"code": code, "message": message}]}
                op["httpErrorStatusCode"], op["httpErrorMessage"] = (
                    status,
                    {403: "FORBIDDEN", 503: "SERVICE UNAVAILABLE"}.get(status, "ERROR"),
                )
            CHANGED.notify_all()

    threading.Thread(target=run, daemon=True).start()


def check_labels(labels, field="labels"):
    if not isinstance(labels, dict) or len(labels) > 64:
        raise invalid(field, labels, "At most 64 labels.")
    for k, v in labels.items():
        if not LABEL_KEY_RE.match(k):
            raise invalid(
                f"{field}",
                k,
                "Label keys must start with a lowercase letter and contain only lowercase "
                "letters, digits, '_' and '-' (at most 63).",
            )
        if not isinstance(v, str) or not LABEL_VALUE_RE.match(v):
            raise invalid(
                f"{field}.{k}",
                v,
                "Label values contain only lowercase letters, digits, '_' and '-' (at most 63).",
            )


def check_metadata(md):
    items = md.get("items", [])
    total = 0
    keys = set()
    for it in items:
        k, v = it.get("key", ""), it.get("value", "")
        if not re.match(r"^[a-zA-Z0-9-_]{1,128}$", k):
            raise invalid(
                "resource.metadata.items.key", k, "Must be a match of regex '[a-zA-Z0-9-_]{1,128}'"
            )
        if k in keys:
            raise invalid("resource.metadata", k, "Duplicate keys are not allowed.")
        keys.add(k)
        if len(v.encode()) > 256 * 1024:
            raise invalid("resource.metadata.items.value", k, "Values are at most 256 KB.")
        total += len(k) + len(v.encode())
    if total > 512 * 1024:
        raise invalid("resource.metadata", "...", "Metadata is at most 512 KB in total.")


def fingerprint():
    # `format: byte` fields in the URL-safe alphabet, as the API sends them ("ACS_Jwmrdzs=")
    return base64.urlsafe_b64encode(random.getrandbits(64).to_bytes(8, "big")).decode()


def vcpus_in(reg, project):
    return sum(
        MACHINE_TYPES[i["_type"]]
        for (p, z, _), i in S.instances.items()
        if p == project and region(z) == reg and i["status"] not in ("TERMINATED", "STOPPING")
    )


def insert(p, z, body, request_id):
    if request_id and (p, z, request_id) in S.request_ids:
        return S.request_ids[(p, z, request_id)]
    unknown = set(body) - INSTANCE_FIELDS
    if unknown:
        raise ApiError(
            400,
            "invalid",
            f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" '
            "at 'instance_resource': Cannot find field.",
        )
    name = body.get("name", "")
    if not NAME_RE.match(name):
        raise invalid(
            "resource.name",
            name,
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        )
    mt = body.get("machineType", "")
    m = re.match(r"^(?:.*/)?zones/([^/]+)/machineTypes/([^/]+)$", mt)
    if not m or m.group(1) != z or m.group(2) not in MACHINE_TYPES:
        raise invalid(
            "resource.machineType",
            mt,
            "Machine type with name '{}' does not exist in zone '{}'.".format(
                mt.rsplit("/", 1)[-1], z
            ),
        )
    if not body.get("disks") or not any(d.get("boot") for d in body["disks"]):
        raise invalid("resource.disks", "", "Boot disk must be specified.")
    if not body.get("networkInterfaces"):
        raise invalid(
            "resource.networkInterfaces", "", "At least one network interface is required."
        )
    check_labels(body.get("labels", {}), "resource.labels")
    check_metadata(body.get("metadata", {}))
    if (p, z, name) in S.instances:
        raise ApiError(
            409,
            "alreadyExists",
            f"The resource 'projects/{p}/zones/{z}/instances/{name}' already exists",
        )
    op = new_op(p, z, "insert", name)
    if request_id:
        S.request_ids[(p, z, request_id)] = op
    mtype = m.group(2)
    sched = body.get("scheduling", {})

    def work():
        if z in S.faults["stockout_zones"]:
            return (
                "ZONE_RESOURCE_POOL_EXHAUSTED",
                503,
                f"The zone 'projects/{p}/zones/{z}' does not have enough resources available to "
                "fulfill the request.  Try a different zone, or try again later.",
            )
        quota = S.faults["cpu_quota"]
        if quota is not None and vcpus_in(region(z), p) + MACHINE_TYPES[mtype] > quota:
            return (
                "QUOTA_EXCEEDED",
                403,
                f"Quota 'CPUS' exceeded.  Limit: {float(quota)} in region {region(z)}.",
            )
        if (p, z, name) in S.instances:
            return (
                "RESOURCE_ALREADY_EXISTS",
                409,
                f"The resource 'projects/{p}/zones/{z}/instances/{name}' already exists",
            )
        zi = S.zones.index(z) if z in S.zones else 0
        ip = f"127.{S.net}.{10 + zi}.{S.next_ip}"
        S.next_ip = S.next_ip % 250 + 2
        S.next_id += 1
        nic = dict(body["networkInterfaces"][0])
        nic.update(
            {
                "kind": "compute#networkInterface",
                "name": "nic0",
                "networkIP": ip,
                "network": nic.get("network") or f"{API}/projects/{p}/global/networks/default",
                "fingerprint": fingerprint(),
            }
        )
        for ac in nic.get("accessConfigs", []):
            ac["natIP"] = f"127.{S.net}.{200 + zi}.{S.next_ip}"
            ac["kind"] = "compute#accessConfig"
        md = body.get("metadata", {})
        inst = {
            "kind": "compute#instance",
            "id": str(S.next_id * 7919 + 1234567890123),
            "name": name,
            "creationTimestamp": now_rfc3339(),
            "machineType": f"{zone_url(p, z)}/machineTypes/{mtype}",
            "status": "RUNNING",
            "zone": zone_url(p, z),
            "networkInterfaces": [nic],
            "disks": [
                {
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": "READ_WRITE",
                    "boot": True,
                    "autoDelete": bool(d.get("autoDelete")),
                    "deviceName": name,
                    "index": i,
                    "source": f"{zone_url(p, z)}/disks/{name}",
                    "diskSizeGb": str(d.get("initializeParams", {}).get("diskSizeGb", "10")),
                }
                for i, d in enumerate(body["disks"])
            ],
            "metadata": {
                "kind": "compute#metadata",
                "fingerprint": fingerprint(),
                "items": md.get("items", []),
            },
            "labels": body.get("labels", {}),
            "labelFingerprint": fingerprint(),
            "scheduling": {
                "onHostMaintenance": "MIGRATE",
                "automaticRestart": True,
                "preemptible": False,
                "provisioningModel": "STANDARD",
                **sched,
            },
            "selfLink": f"{zone_url(p, z)}/instances/{name}",
            "lastStartTimestamp": now_rfc3339(),
            "cpuPlatform": "Intel Broadwell",
            "fingerprint": fingerprint(),
            "deletionProtection": False,
            "startRestricted": False,
            "_type": mtype,
            "_visible_at": time.time() + S.faults["visibility_delay"],
        }
        S.instances[(p, z, name)] = inst
        start_script((p, z, name), inst)
        return None

    finish_later((p, z, name), op, work)
    return op


def script_of(inst):
    items = {i.get("key"): i.get("value", "") for i in inst["metadata"].get("items", [])}
    if "startup-script" in items:
        return items["startup-script"]
    ud = items.get("user-data", "")
    if ud.startswith("#cloud-config"):
        import yaml

        cmds = yaml.safe_load(ud).get("runcmd", [])
        return "\n".join(c if isinstance(c, str) else shlex.join(map(str, c)) for c in cmds)
    return None


def shims():
    d = os.path.join(S.dir, "shims")
    if os.path.isdir(d):
        return d
    os.makedirs(d)
    scripts = {
        # `docker run [--rm] [--net=host] [-e K=V]... IMAGE CMD...`: CMD here, as the VM's
        # container with host networking would run it
        "docker": """#!/bin/bash
[ "$1" = run ] || { echo "docker shim: only run" >&2; exit 2; }
shift
while [ $# -gt 0 ]; do case "$1" in
  --rm|-d|-it|-t|-i|--net=host|--network=host|--privileged) shift;;
  -e|--env) export "$2"; shift 2;;
  --net|--network|-p|-v|--gpus|--name) shift 2;;
  -*) shift;;
  *) break;;
esac; done
shift  # the image
exec "$@"
""",
        "hostname": """#!/bin/bash
if [ "$1" = -I ]; then echo "$STANDIN_IP "; else echo "$STANDIN_NAME"; fi
""",
        "shutdown": """#!/bin/bash
# -h now: power off (the runner sees the flag when the script ends); -h +M: at that time
case "$2" in
  now|+0) touch "$STANDIN_STATE/poweroff"; kill -TERM -- -$(ps -o pgid= $$ | tr -d ' ') ;;
  +*) echo $(( $(date +%s) + ${2#+} * 60 )) > "$STANDIN_STATE/poweroff-at" ;;
esac
exit 0
""",
    }
    for n, text in scripts.items():
        with open(os.path.join(d, n), "w") as f:
            f.write(text)
        os.chmod(os.path.join(d, n), 0o755)
    return d


def console_write(key, data):
    buf = S.console.setdefault(key, bytearray())
    buf += data
    if len(buf) > CONSOLE_KEEP:
        cut = len(buf) - CONSOLE_KEEP
        del buf[:cut]
        S.console_start[key] = S.console_start.get(key, 0) + cut


def start_script(key, inst):
    script = script_of(inst)
    name = key[2]
    console_write(key, f"Booting {name}\nstartup-script: running\n".encode())
    if not script:
        return
    state = os.path.join(S.dir, "vm", "-".join(key))
    os.makedirs(state, exist_ok=True)
    env = {
        "PATH": f"{shims()}:{os.path.dirname(S.python)}:/usr/bin:/bin",
        "HOME": state,
        "STANDIN_NAME": name,
        "STANDIN_STATE": state,
        "STANDIN_IP": inst["networkInterfaces"][0]["networkIP"],
        "LANG": "C.UTF-8",
    }
    p = subprocess.Popen(
        ["bash", "-c", script],
        env=env,
        cwd=state,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    S.procs[key] = p

    def pump():
        for line in p.stdout:
            with LOCK:
                console_write(key, b"startup-script: " + line)
        p.wait()
        with LOCK:
            i = S.instances.get(key)
            console_write(key, f"startup-script exit status {p.returncode}\n".encode())
            if i and os.path.exists(os.path.join(state, "poweroff")) and i["status"] == "RUNNING":
                i["status"] = "TERMINATED"
                i["lastStopTimestamp"] = now_rfc3339()
            CHANGED.notify_all()

    threading.Thread(target=pump, daemon=True).start()


def stop_procs(key):
    p = S.procs.pop(key, None)
    if p and p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)


def watch_ttl():
    """Powers off instances whose `shutdown -h +M` time came."""
    while True:
        time.sleep(0.5)
        with LOCK:
            items = list(S.instances.items())
        for key, i in items:
            at = os.path.join(S.dir, "vm", "-".join(key), "poweroff-at")
            if i["status"] == "RUNNING" and os.path.exists(at):
                try:
                    with open(at) as f:
                        due = int(f.read().strip())
                except ValueError:
                    continue
                if time.time() >= due:
                    stop_procs(key)
                    with LOCK:
                        i["status"] = "TERMINATED"


def delete(p, z, name, request_id):
    inst = visible(p, z, name)
    if request_id and (p, z, request_id) in S.request_ids:
        return S.request_ids[(p, z, request_id)]
    op = new_op(p, z, "delete", name)
    if request_id:
        S.request_ids[(p, z, request_id)] = op
    inst["status"] = "STOPPING"

    def work():
        stop_procs((p, z, name))
        S.instances.pop((p, z, name), None)
        return None

    finish_later((p, z, name), op, work)
    return op


def visible(p, z, name):
    i = S.instances.get((p, z, name))
    if not i or i["_visible_at"] > time.time():
        raise ApiError(
            404, "notFound", f"The resource 'projects/{p}/zones/{z}/instances/{name}' was not found"
        )
    return i


def public(i):
    return {k: v for k, v in i.items() if not k.startswith("_")}


# the filter grammar of the reference: expressions `FIELD OP VALUE` (OP one of = != :), in
# parentheses when several, joined by AND (or juxtaposition) and OR
TOKEN = re.compile(r'\s*(\(|\)|!=|=|:|"(?:[^"\\]|\\.)*"|[^\s()=!:"]+)')


def both(a, b):
    return lambda x: a(x) and b(x)


def either(a, b):
    return lambda x: a(x) or b(x)


def parse_filter(text):
    toks = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise invalid("filter", text, "Invalid filter expression.")
        toks.append(m.group(1))
        pos = m.end()
    i = 0

    def expr():
        nonlocal i
        terms = [term()]
        ops = []
        while i < len(toks) and toks[i] != ")":
            if toks[i] in ("AND", "OR"):
                ops.append(toks[i])
                i += 1
            else:
                ops.append("AND")
            terms.append(term())
        result = terms[0]
        for op, t in zip(ops, terms[1:]):
            result = both(result, t) if op == "AND" else either(result, t)
        return result

    def term():
        nonlocal i
        if i < len(toks) and toks[i] == "(":
            i += 1
            e = expr()
            if i >= len(toks) or toks[i] != ")":
                raise invalid("filter", text, "Unbalanced parentheses.")
            i += 1
            return e
        if i + 3 > len(toks):
            raise invalid("filter", text, "Invalid filter expression.")
        field, op, value = toks[i], toks[i + 1], toks[i + 2]
        i += 3
        if op not in ("=", "!=", ":"):
            raise invalid("filter", text, f"Invalid operator {op}.")
        if value.startswith('"'):
            value = json.loads(value)
        if not (
            field in ("name", "status", "zone", "machineType")
            or re.match(r"^labels\.[a-z][a-z0-9_-]*$", field)
        ):
            raise invalid("filter", text, f"Invalid field name {field}.")

        def get(inst):
            if field.startswith("labels."):
                return inst.get("labels", {}).get(field[7:])
            v = inst.get(field)
            return (
                v.rsplit("/", 1)[-1]
                if isinstance(v, str) and field in ("zone", "machineType")
                else v
            )

        if op == ":":
            return (
                (lambda x: get(x) is not None)
                if value == "*"
                else (lambda x: get(x) is not None and value in get(x))
            )
        if op == "=":
            return lambda x: get(x) == value
        return lambda x: get(x) != value

    if not toks:
        return lambda x: True
    e = expr()
    if i != len(toks):
        raise invalid("filter", text, "Invalid filter expression.")
    return e


def page(items, q, what):
    try:
        n = int(q.get("maxResults", ["500"])[0])
    except ValueError:
        raise invalid("maxResults", q["maxResults"][0], "Must be an integer.") from None
    if not 0 <= n <= 500:
        raise invalid("maxResults", n, "Must be between 0 and 500.")
    n = n or 500
    f = q.get("filter", [""])[0]
    token = q.get("pageToken", [""])[0]
    start = 0
    if token:
        try:
            t = json.loads(base64.urlsafe_b64decode(token.encode()))
            start = t["o"]
            if t["f"] != f or t["w"] != what:
                raise ValueError
        except Exception:
            raise invalid("pageToken", token, "Invalid page token.") from None
    chosen = items[start : start + n]
    nxt = None
    if start + n < len(items):
        nxt = base64.urlsafe_b64encode(
            json.dumps({"o": start + n, "f": f, "w": what}).encode()
        ).decode()
    return chosen, nxt


def matching(p, zones, q):
    keep = parse_filter(q.get("filter", [""])[0])
    now = time.time()
    return [
        public(i)
        for (ip, iz, _), i in sorted(S.instances.items())
        if ip == p and iz in zones and i["_visible_at"] <= now and keep(i)
    ]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return raw

    def handle_any(self, method):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        raw = self.body()
        try:
            with LOCK:
                S.requests.append(f"{method} {url.path}")
            if url.path == "/token" and method == "POST":
                return self.token(raw)
            if url.path.startswith("/standin/"):
                return self.control(method, url.path, raw)
            if url.path.startswith("/computeMetadata/v1/"):
                return self.metadata_server(url.path)
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in S.tokens:
                raise ApiError(
                    401,
                    "required",
                    "Request is missing required authentication credential. Expected OAuth 2 "
                    "access token, login cookie or other valid authentication credential.",
                )
            body = json.loads(raw) if raw else {}
            code, out = self.route(method, url.path, q, body)
            self.answer(code, out)
        except ApiError as e:
            self.answer(e.code, e.body())
        except json.JSONDecodeError:
            self.answer(400, ApiError(400, "parseError", "Invalid JSON payload received.").body())

    def metadata_server(self, path):
        """A VM's metadata server (https://cloud.google.com/compute/docs/metadata/overview):
        only requests with `Metadata-Flavor: Google` are answered, and answers carry it."""
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.answer(403, {"error": "Missing required header: Metadata-Flavor"})
        t = f"ya29.standin-mds-{random.getrandbits(64):016x}"
        answers = {
            "/computeMetadata/v1/project/project-id": sorted(S.projects)[0],
            "/computeMetadata/v1/universe/universe-domain": "googleapis.com",
            "/computeMetadata/v1/instance/service-accounts/default/token": json.dumps(
                {"access_token": t, "expires_in": 3599, "token_type": "Bearer"}
            ),
        }
        if path not in answers:
            return self.answer(404, {})
        if path.endswith("/token"):
            with LOCK:
                S.tokens.add(t)
        data = answers[path].encode()
        self.send_response(200)
        self.send_header("Metadata-Flavor", "Google")
        ctype = "application/json" if path.endswith("/token") else "application/text"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def token(self, raw):
        # oauth2.googleapis.com/token takes a form or, as Google's Rust auth library sends it, JSON
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form = {k: [v] for k, v in json.loads(raw or b"{}").items()}
        else:
            form = parse_qs(raw.decode())
        if (
            form.get("grant_type") != ["refresh_token"]
            or form.get("refresh_token", [""])[0] not in S.refresh_tokens
        ):
            return self.answer(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        t = f"ya29.standin-{random.getrandbits(64):016x}"
        with LOCK:
            S.tokens.add(t)
        self.answer(
            200,
            {
                "access_token": t,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
            },
        )

    def control(self, method, path, raw):
        with LOCK:
            if path == "/standin/faults" and method == "POST":
                S.faults.update(json.loads(raw))
                return self.answer(200, S.faults)
            if path == "/standin/instances":
                return self.answer(
                    200, [dict(public(i), project=p) for (p, z, n), i in S.instances.items()]
                )
            if path == "/standin/requests":
                return self.answer(200, S.requests)
            if path == "/standin/metadata" and method == "POST":
                # another caller's setMetadata: one item set, the fingerprint changes
                b = json.loads(raw)
                inst = S.instances[(b.get("project", "test-project"), b["zone"], b["instance"])]
                items = [i for i in inst["metadata"]["items"] if i["key"] != b["key"]]
                if b.get("value") is not None:
                    items.append({"key": b["key"], "value": b["value"]})
                inst["metadata"] = {
                    "kind": "compute#metadata",
                    "fingerprint": fingerprint(),
                    "items": items,
                }
                return self.answer(200, public(inst))
            if path == "/standin/insert" and method == "POST":
                # what another client (dask-cloudprovider) does: an insert as it makes it
                b = json.loads(raw)
                op = insert(b["project"], b["zone"], b["instance"], None)
                return self.answer(200, op)
        self.answer(404, {})

    def route(self, method, path, q, body):
        m = re.match(r"^/compute/v1/projects/([^/]+)/(.*)$", path)
        if not m:
            raise ApiError(404, "notFound", f"Not found: {path}")
        p, rest = m.group(1), m.group(2)
        with LOCK:
            if p not in S.projects:
                raise ApiError(404, "notFound", f"The resource 'projects/{p}' was not found")
            if rest == "aggregated/instances" and method == "GET":
                return 200, self.aggregated(p, q)
            m = re.match(
                r"^zones/([^/]+)/(instances|operations)(?:/([^/]+))?(?:/([A-Za-z]+))?$", rest
            )
            if not m:
                raise ApiError(404, "notFound", f"Not found: {path}")
            z, kind, name, verb = m.groups()
            if z not in S.zones:
                raise ApiError(
                    404, "notFound", f"The resource 'projects/{p}/zones/{z}' was not found"
                )
            rid = q.get("requestId", [None])[0]
            if kind == "operations":
                return 200, self.operation(p, z, name, verb)
            if name is None and method == "GET":
                items, nxt = page(matching(p, [z], q), q, f"list {z}")
                out = {
                    "kind": "compute#instanceList",
                    "id": f"projects/{p}/zones/{z}/instances",
                    "items": items,
                    "selfLink": f"{zone_url(p, z)}/instances",
                }
                if nxt:
                    out["nextPageToken"] = nxt
                return 200, out
            if name is None and method == "POST":
                return 200, insert(p, z, body, rid)
            if verb is None and method == "GET":
                return 200, public(visible(p, z, name))
            if verb is None and method == "DELETE":
                return 200, delete(p, z, name, rid)
            if verb == "serialPort" and method == "GET":
                return 200, self.serial(p, z, name, q)
            if verb in ("setMetadata", "setLabels") and method == "POST":
                return 200, self.set_fingerprinted(p, z, name, verb, body)
        raise ApiError(404, "notFound", f"Not found: {path}")

    def aggregated(self, p, q):
        found = matching(p, S.zones, q)
        chosen, nxt = page(found, q, "aggregated")
        items = {}
        for z in S.zones:
            mine = [i for i in chosen if i["zone"].endswith(f"/zones/{z}")]
            items[f"zones/{z}"] = (
                {"instances": mine}
                if mine
                else {
                    "warning": {
                        "code": "NO_RESULTS_ON_PAGE",
                        "message": f"There are no results for scope 'zones/{z}' on this page.",
                        "data": [{"key": "scope", "value": f"zones/{z}"}],
                    }
                }
            )
        out = {
            "kind": "compute#instanceAggregatedList",
            "id": f"projects/{p}/aggregated/instances",
            "items": items,
            "selfLink": f"{API}/projects/{p}/aggregated/instances",
        }
        if nxt:
            out["nextPageToken"] = nxt
        return out

    def operation(self, p, z, name, verb):
        op = S.ops.get((p, z, name))
        if not op:
            raise ApiError(
                404,
                "notFound",
                f"The resource 'projects/{p}/zones/{z}/operations/{name}' was not found",
            )
        if verb == "wait":
            # zoneOperations.wait: returns when DONE or after about two minutes
            CHANGED.wait_for(lambda: op["status"] == "DONE", timeout=120)
        elif verb is not None:
            raise ApiError(404, "notFound", "Not found")
        return dict(op)

    def serial(self, p, z, name, q):
        visible(p, z, name)
        key = (p, z, name)
        if q.get("port", ["1"])[0] not in ("1", "2", "3", "4"):
            raise invalid("port", q["port"][0], "Must be between 1 and 4.")
        buf = S.console.get(key, bytearray())
        first = S.console_start.get(key, 0)
        start = max(int(q.get("start", ["0"])[0]), first)
        text = bytes(buf[start - first :]).decode("utf-8", "replace")
        return {
            "kind": "compute#serialPortOutput",
            "contents": text,
            "start": str(start),
            "next": str(first + len(buf)),
            "selfLink": f"{zone_url(p, z)}/instances/{name}/serialPort",
        }

    def set_fingerprinted(self, p, z, name, verb, body):
        inst = visible(p, z, name)
        if verb == "setMetadata":
            current = inst["metadata"]["fingerprint"]
            if body.get("fingerprint") != current:
                raise ApiError(
                    412,
                    "conditionNotMet",
                    "Supplied fingerprint does not match current metadata fingerprint.",
                )
            check_metadata(body)
            inst["metadata"] = {
                "kind": "compute#metadata",
                "fingerprint": fingerprint(),
                "items": body.get("items", []),
            }
        else:
            if body.get("labelFingerprint") != inst["labelFingerprint"]:
                raise ApiError(
                    412,
                    "conditionNotMet",
                    "Labels fingerprint either invalid or resource labels have changed",
                )
            check_labels(body.get("labels", {}))
            inst["labels"] = body.get("labels", {})
            inst["labelFingerprint"] = fingerprint()
        op = new_op(p, z, verb, name)
        finish_later((p, z, name), op, lambda: None)
        return op

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")


def claim_net():
    """A second octet no other running stand-in uses: every instance gets a 127.NET.x.y address
    of its own, so schedulers of stand-ins running side by side never share 127.x:8786. Claimed
    under one lock: a mark whose stand-in is gone is taken over."""
    import fcntl

    with open("/tmp/gce-standin-net.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for net in range(20, 250):
            mark = f"/tmp/gce-standin-net-{net}"
            try:
                with open(mark) as f:
                    pid = int(f.read().strip())
                os.kill(pid, 0)
                continue
            except (FileNotFoundError, ValueError, ProcessLookupError):
                pass
            except PermissionError:
                continue
            with open(mark, "w") as f:
                f.write(str(os.getpid()))
            return net
    raise SystemExit("no free 127.x network for the stand-in")


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--project", action="append", default=[])
    ap.add_argument("--zone", action="append", default=[])
    ap.add_argument("--refresh-token", action="append", default=[])
    args = ap.parse_args()
    args.project = args.project or ["test-project"]
    args.zone = args.zone or ["us-central1-a", "us-central1-b", "europe-west1-b"]
    args.refresh_token = args.refresh_token or ["standin-refresh"]
    S = State(args)
    S.net = claim_net()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True

    def stop(*_):
        with LOCK:
            keys = list(S.procs)
        for k in keys:
            stop_procs(k)
        with contextlib.suppress(OSError):
            os.unlink(f"/tmp/gce-standin-net-{S.net}")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_ttl, daemon=True).start()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    # the test process dying (its pipe closing) ends the stand-in and its instances
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
