"""Start the PLC runner with the Odoo server, as OCA queue_job starts its job
runner: when the addon is a server-wide module (`--load=base,web,
scada_plc_bridge` or `server_wide_modules` in the configuration), a thread
in threaded mode, a worker process of its own in prefork mode (`--workers
N`).  Servers started only to run a command (`--stop-after-init`) start no
runner.  Without server-wide loading the addon still works: the Task 2 cron
polls, at the cron runner's one-minute granularity."""

import logging
import threading
import time

import odoo
from odoo.service import server
from odoo.tools import config

from . import safety_net  # noqa: F401  (the crons' model)
from .runner import PlcRunner

_logger = logging.getLogger(__name__)

ADDON = "scada_plc_bridge"
WORKER_PASS_SECONDS = 1.0  # one prefork work unit at most: then Odoo checks the worker's limits


def runner_enabled():
    return ADDON in odoo.conf.server_wide_modules and not config["stop_after_init"]


class PlcRunnerThread(threading.Thread):
    def __init__(self):
        super().__init__(name="scada-plc-runner", daemon=True)
        self.runner = PlcRunner()

    def run(self):
        self.runner.run()

    def stop(self):
        self.runner.stop()


class WorkerPlcRunner(server.Worker):
    """The runner as a prefork worker: each work unit is at most a second
    of passes and waits (the runner sleeps until it has something to do),
    so Odoo's worker loop checks memory and CPU limits between them and the
    watchdog sees it alive."""

    def __init__(self, multi):
        super().__init__(multi)
        self.watchdog_timeout = max(60, config["limit_time_real"] or 60)
        self.runner = None

    def sleep(self):
        pass  # the passes pace themselves

    def start(self):  # pylint: disable=missing-return
        super().start()
        if self.multi.socket:
            self.multi.socket.close()  # this worker serves no HTTP
        self.runner = PlcRunner()
        _logger.info("[TASK 2] PLC runner worker (%s) started", self.pid)

    def process_work(self):
        until = time.monotonic() + WORKER_PASS_SECONDS
        while self.alive and time.monotonic() < until:
            self.runner.run_once()
            self.runner.wait(max_seconds=until - time.monotonic())

    def stop(self):
        if self.runner is not None:
            self.runner.close()


_runner_thread = None
_original = {
    "prefork_init": server.PreforkServer.__init__,
    "prefork_spawn": server.PreforkServer.process_spawn,
    "prefork_pop": server.PreforkServer.worker_pop,
    "threaded_start": server.ThreadedServer.start,
    "threaded_stop": server.ThreadedServer.stop,
}


def _prefork_init(self, app):
    _original["prefork_init"](self, app)
    self.scada_plc_runner = {}


def _prefork_spawn(self):
    _original["prefork_spawn"](self)
    if runner_enabled() and not getattr(self, "scada_plc_runner", True):
        self.worker_spawn(WorkerPlcRunner, self.scada_plc_runner)


def _prefork_pop(self, pid):
    _original["prefork_pop"](self, pid)
    getattr(self, "scada_plc_runner", {}).pop(pid, None)


def _threaded_start(self, stop=False):
    global _runner_thread
    result = _original["threaded_start"](self, stop=stop)
    if runner_enabled() and not stop and _runner_thread is None:
        _runner_thread = PlcRunnerThread()
        _runner_thread.start()
    return result


def _threaded_stop(self):
    global _runner_thread
    if _runner_thread is not None:
        _runner_thread.stop()
        _runner_thread.join(30)
        _runner_thread = None
    return _original["threaded_stop"](self)


server.PreforkServer.__init__ = _prefork_init
server.PreforkServer.process_spawn = _prefork_spawn
server.PreforkServer.worker_pop = _prefork_pop
server.ThreadedServer.start = _threaded_start
server.ThreadedServer.stop = _threaded_stop
