"""Settings for `rq worker -c workers.rq_config`: the worker reaches Redis as the app does.

RQ reads the upper-case names here: REDIS_URL, or, when REDIS_SENTINELS is set, SENTINEL
(the Sentinels, the primary's name, and REDIS_URL's database index and credentials).
"""

from __future__ import annotations

import os

from app.infra.redis import OPTIONS, sentinel_options
from app.settings import Settings, Start

_start = Start(dict(os.environ), "", production=False)
_sentinels = Settings.REDIS_SENTINELS.read(_start, {})
_url = Settings.REDIS_URL.read(_start, {})

if _sentinels:
    _options = sentinel_options(_url)
    SENTINEL = {
        "INSTANCES": _sentinels,
        "MASTER_NAME": Settings.REDIS_SENTINEL_MASTER.read(_start, {}),
        "DB": _options.pop("db", 0),
        "USERNAME": _options.pop("username", None),
        "PASSWORD": _options.pop("password", None),
        "SOCKET_TIMEOUT": _options.pop("socket_timeout"),
        "CONNECTION_KWARGS": {
            **_options,
            "health_check_interval": OPTIONS["health_check_interval"],
        },
        "SENTINEL_KWARGS": {"socket_timeout": OPTIONS["socket_timeout"]},
    }
else:
    REDIS_URL = _url
