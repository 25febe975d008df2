"""System-test harness: the real Odoo 14 server as a subprocess (its cron
runner, its HTTP, the PLC runner loaded server-wide), the `scada-plc`
simulator as another, a database of its own cloned from the bench's
template and the addon installed into it.  Everything on 127.0.0.1.
Used by tests/test_system_*.py and the benchmarks (the reliability soaks
add what they share in benchmarks/soak_harness.py)."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BENCH = ROOT / ".bench"
LOGS = BENCH / "logs" / "system"
TEMPLATE = "scada_test_template"


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg(*args):
    return subprocess.run(
        [str(ROOT / "scripts" / "pg.sh"), *args], check=True, capture_output=True, text=True
    ).stdout


def drop_database(name, attempts=30):
    """Drop a database once the servers that used it have let go of it."""
    for _attempt in range(attempts):
        try:
            pg("dropdb", name)
            return
        except subprocess.CalledProcessError:
            time.sleep(1)
    pg("dropdb", name)


def wait_for(predicate, timeout, interval=0.5, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


class Simulator:
    """`scada-plc sim` in plant mode, as a process; its stats file says what
    the line did (recipes taken per MO, faults injected)."""

    def __init__(self, name, *options, count=1):
        self.port = free_port(socket.SOCK_DGRAM)
        if count > 1:  # a block of free ports
            while not all(self._udp_free(self.port + n) for n in range(count)):
                self.port = free_port(socket.SOCK_DGRAM)
        LOGS.mkdir(parents=True, exist_ok=True)
        self.stats_file = LOGS / ("%s-sim.json" % name)
        self.log = LOGS / ("%s-sim.log" % name)
        command = [str(VENV / "bin" / "scada-plc"), "sim", "--plant", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--stats-file", str(self.stats_file), "--count", str(count)]
        command += [str(option) for option in options]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: "listening" in self.log.read_text(), 10, 0.1, "the simulator")

    @staticmethod
    def _udp_free(port):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return True
            except OSError:
                return False

    def stats(self):
        try:
            return json.loads(self.stats_file.read_text())
        except (OSError, ValueError):
            return {}

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Database:
    """A database of its own with the addon installed (no demo data)."""

    def __init__(self, name=None):
        self.name = name or "scada_sys_%s" % uuid.uuid4().hex[:8]
        pg("clonedb", TEMPLATE, self.name)
        # The template's attachments (as scripts/test.sh copies them): language flags, assets.
        self.filestore = BENCH / "data" / "filestore" / self.name
        if (BENCH / "data" / "filestore" / TEMPLATE).is_dir():
            shutil.copytree(str(BENCH / "data" / "filestore" / TEMPLATE), str(self.filestore))
        LOGS.mkdir(parents=True, exist_ok=True)
        log = LOGS / ("install-%s.log" % self.name)
        subprocess.run(
            [str(VENV / "bin" / "odoo"), "-d", self.name, "-i", "scada_plc_bridge", "--without-demo=all"]
            + ["--stop-after-init", "--log-level=warn", "--logfile", str(log)],
            check=True,
        )

    def sql(self, query):
        return pg("psql", "-d", self.name, "-tAc", query).strip()

    def drop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            drop_database(self.name)
        shutil.rmtree(str(self.filestore), ignore_errors=True)


@contextlib.contextmanager
def odoo_environment(keep=False):
    """A database of its own (Database) and an Odoo environment on it in this
    process (superuser, UTC), for the benchmarks; its cursor commits at the
    end unless the caller rolled back; the database is dropped unless `keep`."""
    import odoo
    from odoo import SUPERUSER_ID, api

    database = Database()
    odoo.tools.config.parse_config(["-c", str(BENCH / "odoo.conf"), "-d", database.name, "--log-level=warn"])
    try:
        registry = odoo.registry(database.name)
        with api.Environment.manage(), registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {"tz": "UTC"})
    finally:
        odoo.sql_db.close_all()
        if not keep:
            database.drop()


class OdooServer:
    """`odoo` as in production: the PLC runner loaded server-wide."""

    def __init__(self, database, name, *options):
        self.database, self.name = database, name
        self.port = free_port()
        self.log = LOGS / ("%s-odoo.log" % name)
        self.log.write_text("")
        command = [str(VENV / "bin" / "odoo"), "-d", database.name, "--db-filter", "^%s$" % database.name]
        command += ["--http-port", str(self.port), "--load", "base,web,scada_plc_bridge"]
        command += ["--log-level", "info", "--logfile", str(self.log), "--max-cron-threads", "1"]
        command += [str(option) for option in options]
        self.process = subprocess.Popen(command, start_new_session=True)
        wait_for(self._up, 90, 0.5, "Odoo on port %s" % self.port)

    def _up(self):
        if self.process.poll() is not None:
            raise AssertionError("Odoo exited: %s" % self.log.read_text()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def rpc(self, model, method, *args, **kwargs):
        proxy = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/xmlrpc/2/object" % self.port, allow_none=True)
        return proxy.execute_kw(self.database.name, self.uid(), "admin", model, method, list(args), kwargs)

    def uid(self):
        common = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/xmlrpc/2/common" % self.port)
        return common.authenticate(self.database.name, "admin", "admin", {})

    def log_lines(self, *needles):
        return [line for line in self.log.read_text().splitlines() if all(n in line for n in needles)]

    def errors(self):
        return [line for line in self.log.read_text().splitlines() if " ERROR " in line]

    def kill(self, sig=signal.SIGKILL):
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(30)

    def stop(self):
        self.kill(signal.SIGTERM)


class Plant:
    """Products, a BoM on three silos and MOs, made over XML-RPC."""

    def __init__(self, server, plc_port, poll_interval=1):
        self.server = server
        rpc = server.rpc
        self.plc_id = rpc("scada.plc", "search", [])[0]
        rpc("scada.plc", "write", [self.plc_id], {"port": plc_port, "poll_interval": poll_interval})
        kg = rpc("uom.uom", "search", [("name", "=", "kg")])[0]
        silos = {
            silo["tag"]: silo["id"]
            for silo in rpc("scada.silo", "search_read", [("plc_id", "=", self.plc_id)], fields=["tag"])
        }

        def product(name):
            return rpc(
                "product.product", "create", {"name": name, "type": "product", "uom_id": kg, "uom_po_id": kg}
            )

        self.components = {tag: product("SYS %s" % tag.upper()) for tag in ("silo_a", "silo_d", "lq114")}
        self.feed = product("SYS FEED")
        template = rpc("product.product", "read", [self.feed], fields=["product_tmpl_id"])[0]
        lines = [
            (0, 0, {"product_id": self.components[tag], "product_qty": qty, "scada_silo_id": silos[tag]})
            for tag, qty in (("silo_a", 60), ("silo_d", 35), ("lq114", 5))
        ]
        self.bom = rpc(
            "mrp.bom",
            "create",
            {
                "product_tmpl_id": template["product_tmpl_id"][0],
                "product_qty": 100,
                "product_uom_id": kg,
                "bom_line_ids": lines,
            },
        )
        self.kg = kg

    def confirm_mos(self, count, quantity=100):
        ids = []
        for _n in range(count):
            production = self.server.rpc(
                "mrp.production",
                "create",
                {
                    "product_id": self.feed,
                    "bom_id": self.bom,
                    "product_qty": quantity,
                    "product_uom_id": self.kg,
                },
                context={"import_file": True},
            )
            self.server.rpc("mrp.production", "action_confirm", [production])
            ids.append(production)
        return ids

    def confirm_many(self, count, quantity=100):
        """`count` MOs created one by one, confirmed in one call (a wave)."""
        rpc = self.server.rpc
        values = {"product_id": self.feed, "bom_id": self.bom, "product_qty": quantity}
        values["product_uom_id"] = self.kg
        ids = [rpc("mrp.production", "create", values, context={"import_file": True}) for _n in range(count)]
        rpc("mrp.production", "action_confirm", ids)
        return ids

    def states(self, production_ids):
        rows = self.server.rpc("mrp.production", "read", production_ids, fields=["state"])
        return {row["id"]: row["state"] for row in rows}


class Line(contextlib.AbstractContextManager):
    """A line of its own: a fresh database, the PLC (`plc`: anything with a
    `port` and a `stop()`), the real Odoo server on that database and the
    plant made on it.  `servers` holds every server started on the line (a
    killed one is followed by the next); close(), or the end of a `with`,
    stops the last of them and the PLC and drops the database."""

    def __init__(self, plc, name, *server_options, poll_interval=1):
        self.plc, self.server_options = plc, server_options
        self.database, self.servers, self.plant = None, [], None
        try:
            self.database = Database()
            self.start_server(name)
            self.plant = Plant(self.server, plc.port, poll_interval=poll_interval)
        except BaseException:
            self.close()
            raise

    @property
    def server(self):
        return self.servers[-1]

    def start_server(self, name):
        """A new server on the line's database, the plant's calls going to it."""
        self.servers.append(OdooServer(self.database, name, *self.server_options))
        if self.plant:
            self.plant.server = self.server

    def close(self):
        # Each step even when one before it fails; the server first, the database last.
        with contextlib.ExitStack() as steps:
            if self.database:
                steps.callback(self.database.drop)
            steps.callback(self.plc.stop)
            if self.servers:
                steps.callback(self.server.stop)

    def __exit__(self, *_exc_info):
        self.close()


def check_outcome(database, production_ids, simulator):
    """What must hold after a run, as (problems list, summary dict)."""
    problems = []
    ids = ",".join(str(i) for i in production_ids)
    rows = database.sql(
        "SELECT p.id, p.name, p.state, p.qty_producing, count(h.id), min(h.status),"
        " min(h.actual_weight_quantity_finished_goods)"
        " FROM mrp_production p LEFT JOIN mo_history h ON h.production_id = p.id"
        " WHERE p.id IN (%s) GROUP BY p.id" % ids
    ).splitlines()
    summary = {"done": 0, "cancel": 0}
    for row in rows:
        production_id, name, state, produced, archived, status, weight = row.split("|")
        if state not in ("done", "cancel"):
            problems.append("%s is %s" % (name, state))
            continue
        summary[state] += 1
        if archived != "1":
            problems.append("%s archived %s times" % (name, archived))
        expected = {"done": "completed", "cancel": "cancelled"}[state]
        if status != expected:
            problems.append("%s is %s but archived as %s" % (name, state, status))
        if state == "done" and abs(float(produced) - float(weight)) > 0.01:
            problems.append("%s produced %s, the PLC reported %s" % (name, produced, weight))
    consumed = database.sql(
        "SELECT count(*) FROM (SELECT sum(ml.qty_done) AS dosed, max(CASE s.tag"
        " WHEN 'silo_a' THEN h.actual_consumption_silo_a WHEN 'silo_d' THEN h.actual_consumption_silo_d"
        " ELSE h.actual_consumption_lq114 END) AS reported"
        " FROM mo_history h JOIN mrp_production p ON p.id = h.production_id"
        " JOIN stock_move m ON m.raw_material_production_id = p.id AND m.state = 'done'"
        " JOIN stock_move_line ml ON ml.move_id = m.id"
        " JOIN mrp_bom_line l ON l.bom_id = p.bom_id AND l.product_id = m.product_id"
        " JOIN scada_silo s ON s.id = l.scada_silo_id"
        " WHERE h.status = 'completed' AND p.id IN (%s) GROUP BY h.id, s.tag) per_silo"
        " WHERE abs(dosed - reported) > 0.01" % ids
    )
    if consumed != "0":
        problems.append("%s raw moves differ from the PLC's consumption" % consumed)
    takes = simulator.stats().get("takes_by_mo", {})
    twice = {mo: n for mo, n in takes.items() if n > 1}
    if twice:
        problems.append("recipes taken more than once: %s" % twice)
    summary["takes"] = sum(takes.values())
    return problems, summary


def settled(plant, production_ids):
    return all(state in ("done", "cancel") for state in plant.states(production_ids).values())
