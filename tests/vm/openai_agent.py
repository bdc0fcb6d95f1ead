#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The seed scenario's agent: reads the api_key field of its credential file, calls GET /v1/models with
# it, and keeps the key in a file of its own so a test can try it again later.
# usage: openai_agent.py CREDENTIAL_FILE OPENAI_URL KEEP_FILE; exit 0 only when /v1/models answers 200.
import json
import sys
import urllib.error
import urllib.request

path, url, keep = sys.argv[1:4]
try:
    data = json.load(open(path))
except OSError as e:
    print(f"agent: {path}: {e.strerror}")
    sys.exit(1)
request = urllib.request.Request(url + "/v1/models", headers={
    "Authorization": "Bearer " + data["api_key"], "OpenAI-Organization": "org-seed", "OpenAI-Project": "proj_seed"})
try:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=60) as r:
        status = r.status
except urllib.error.HTTPError as e:
    status = e.code
with open(keep, "w") as f:
    f.write(data["api_key"])
print(f"agent: fields {sorted(data)}; GET /v1/models -> {status}")
sys.exit(0 if status == 200 else 1)
