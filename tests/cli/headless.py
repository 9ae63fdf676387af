"""A page opened in headless Chromium through the DevTools protocol: what it logged, what it fetched, and what
its canvases hold once it has loaded.

Chromium comes from .tools/chromium (scripts/install-chromium.sh, run by `make test`), `CHROMIUM`, or the
PATH; `find_chromium` answers None when there is none, and the tests that need it skip saying how to get it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ROOT / ".tools" / "chromium" / "chromium"
INSTALL_HINT = "install it with `bash scripts/install-chromium.sh` (`make test` does), or set CHROMIUM to its path"
LISTENING = re.compile(r"DevTools listening on (ws://\S+)")
START_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 30.0

CANVAS_PIXELS = """
Array.from(document.querySelectorAll("canvas")).map(function (canvas) {
  var data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  var painted = 0;
  for (var index = 3; index < data.length; index += 4) { if (data[index] !== 0) { painted += 1; } }
  return {id: canvas.id, width: canvas.width, height: canvas.height, painted: painted};
})
"""


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        str(INSTALLED),
        *(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class LoadedPage:
    errors: list[str] = field(default_factory=list)
    """Uncaught exceptions, console errors and warnings, and errors the browser logged for the page."""
    requests: list[str] = field(default_factory=list)
    """Every URL the page asked for, itself included."""
    canvases: list[dict[str, Any]] = field(default_factory=list)
    """Each canvas: id, width, height and how many of its pixels are painted (not transparent)."""
    charts_drawn: str | None = None
    """The page's `data-charts-drawn` mark, set once its script has drawn every chart."""
    screenshot: bytes = b""


class DevTools:
    """One DevTools connection: commands answered by id, events kept in order."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse):
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.waiting: dict[int, asyncio.Future] = {}
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = message.json()
            if "id" in data and data["id"] in self.waiting:
                self.waiting.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        answer = asyncio.get_running_loop().create_future()
        self.waiting[call_id] = answer
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self.socket.send_json(message)
        data = await asyncio.wait_for(answer, LOAD_TIMEOUT_S)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data.get("result", {})

    async def event(self, method: str, timeout_s: float = LOAD_TIMEOUT_S) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            for event in self.events:
                if event["method"] == method:
                    return event
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {method} within {timeout_s} s")


async def open_page(
    chromium: str, path: Path, *, width: int = 1280, height: int = 900, screenshot: bool = False
) -> LoadedPage:
    """Loads `path` in a fresh headless Chromium without network access and reads what it did."""
    with tempfile.TemporaryDirectory(prefix="report-chromium-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            address = await asyncio.to_thread(_devtools_address, process)
            async with aiohttp.ClientSession() as http, http.ws_connect(address, max_msg_size=0) as socket:
                tools = DevTools(socket)
                try:
                    return await _load(tools, path, width, height, screenshot)
                finally:
                    tools.reader.cancel()
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stops the browser and its helper processes (its own process group), so that none writes on."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _devtools_address(process: subprocess.Popen) -> str:
    lines = []
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        if found := LISTENING.search(line):
            # Keep reading stderr in the background so that the browser never blocks on a full pipe.
            _drain(process)
            return found.group(1)
    raise RuntimeError("Chromium did not start:\n" + "".join(lines[-20:]))


def _drain(process: subprocess.Popen) -> None:
    def drain() -> None:
        with contextlib.suppress(ValueError, OSError):
            for _ in process.stderr:
                pass

    threading.Thread(target=drain, daemon=True).start()


async def _load(tools: DevTools, path: Path, width: int, height: int, screenshot: bool) -> LoadedPage:
    target = await tools.call("Target.createTarget", url="about:blank")
    attached = await tools.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
    session = attached["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        await tools.call(f"{domain}.enable", session)
    await tools.call(
        "Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1, mobile=False
    )
    tools.events.clear()
    await tools.call("Page.navigate", session, url=path.resolve().as_uri())
    await tools.event("Page.loadEventFired")
    await asyncio.sleep(0.3)  # late console messages and exceptions
    page = LoadedPage()
    marked = await tools.call(
        "Runtime.evaluate",
        session,
        expression="document.documentElement.getAttribute('data-charts-drawn')",
        returnByValue=True,
    )
    page.charts_drawn = marked["result"].get("value")
    pixels = await tools.call("Runtime.evaluate", session, expression=CANVAS_PIXELS, returnByValue=True)
    if "exceptionDetails" in pixels:
        page.errors.append(f"reading the canvases failed: {pixels['exceptionDetails']}")
    else:
        page.canvases = pixels["result"]["value"]
    if screenshot:
        metrics = await tools.call("Page.getLayoutMetrics", session)
        full = metrics["cssContentSize"]
        shot = await tools.call(
            "Page.captureScreenshot",
            session,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": full["width"], "height": full["height"], "scale": 1},
        )
        page.screenshot = base64.b64decode(shot["data"])
    for event in tools.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            page.errors.append(f"exception: {details.get('exception', {}).get('description') or details['text']}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            texts = [str(argument.get("value", argument.get("description", ""))) for argument in params["args"]]
            page.errors.append(f"console.{params['type']}: {' '.join(texts)}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            page.errors.append(f"log {params['entry']['level']}: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            page.requests.append(params["request"]["url"])
    return page
