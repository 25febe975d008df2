"""`make run` as a visitor starts it: on ports of their own (the variables the
README documents), the demo's recipes reach the simulator, the terminal
shows no Odoo DeprecationWarning, the living demo keeps confirming MOs, and
its 1 t line splits a 10 t order into 10 MOs.
Ctrl-C (SIGINT to the process group, as a terminal sends it) stops it within
5 s without a traceback, also while Odoo is still starting and with a
browser's long-polling request open."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
import xmlrpc.client

import pytest
from system_harness import ROOT, drop_database, free_port, pg, wait_for

pytestmark = pytest.mark.system


CTRL_C_SECONDS = 5
# Odoo's log lines: "2026-12-02 15:08:26,352 26764 INFO ..." (the pid third).
ODOO_PID = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (\d+) ", re.MULTILINE)


def start_run(environment, output):
    """run.sh in a session of its own, as a terminal starts it: SIGINT at its
    default even where this test runs with it ignored (a background job)."""
    with open(output, "a") as log:
        return subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )


def ctrl_c(process, output, within, allowed_traceback=None):
    """SIGINT to the group, as a terminal's Ctrl-C: the command and every
    process it started (Odoo included) end within `within` seconds."""
    text = output.read_text()
    started = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    process.wait(within)
    odoo_pids = {int(pid) for pid in ODOO_PID.findall(output.read_text())}
    wait_for(lambda: not any(alive(pid) for pid in odoo_pids), within, 0.1, "Odoo to exit")
    elapsed = time.monotonic() - started
    assert elapsed < within, elapsed
    after = output.read_text()[len(text) :]
    assert "Forced shutdown" not in after, after
    if allowed_traceback and allowed_traceback in after:
        after_known = after.split(allowed_traceback, 1)[0]
        assert "Traceback" not in after_known, after
    else:
        assert "Traceback" not in after, after
    assert "[bench] stopped" in after, after
    return after


def long_poll(http_port, database):
    """A browser with the board open: a logged-in long-polling request waiting
    for the bus (up to 50 s) while Ctrl-C comes."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(route, params, timeout):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}).encode()
        request = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (http_port, route), body, {"Content-Type": "application/json"}
        )
        return json.loads(opener.open(request, timeout=timeout).read())

    call("/web/session/authenticate", {"db": database, "login": "admin", "password": "admin"}, 60)

    def poll():
        try:
            call("/longpolling/poll", {"channels": ["scada_plc_bridge.board"], "last": 10**9}, 70)
        except OSError:
            pass  # the server went away: what a browser sees

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    time.sleep(2)  # the request waits on the bus now
    return thread


def split_ten_tonnes(http_port, database):
    """A planner's Split into line batches on the demo recipe's BoM, 10 000 kg
    at the line's own capacity: the MOs it made (name, kg, state, origin)."""
    url = "http://127.0.0.1:%d/xmlrpc/2/" % http_port
    uid = xmlrpc.client.ServerProxy(url + "common").authenticate(database, "admin", "admin", {})
    models = xmlrpc.client.ServerProxy(url + "object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(database, uid, "admin", model, method, list(args), kwargs)

    bom_id = call("ir.model.data", "xmlid_to_res_id", "scada_plc_bridge.mrp_bom_demo_1")
    context = {"active_model": "mrp.bom", "active_id": bom_id}
    values = call(
        "mrp.production.split", "default_get", ["bom_id", "product_id", "capacity", "mode"], context=context
    )
    values["quantity"] = 10000.0
    wizard_id = call("mrp.production.split", "create", values, context=context)
    action = call("mrp.production.split", "action_split", [wizard_id], context=context)
    return call("mrp.production", "search_read", action["domain"], ["name", "product_qty", "state", "origin"])


def finishing(sql):
    """Batches the PLC reported finished (or failed) that Odoo is about to
    finish (or cancel); those held for a person do not count."""
    return sql(
        "SELECT count(*) FROM mo_batch WHERE status_operation OR plc_finished_signature IS NOT NULL"
        " OR (status_manufacturing AND review_state != 'needs_review' AND push_state = 'none')"
    ) not in ("0",)


def alive(pid):
    """Running (a zombie has exited: its parent has not reaped it yet)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return not stat.read().rsplit(") ", 1)[1].startswith("Z")
    except (FileNotFoundError, ProcessLookupError):
        return False


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_make_run_on_other_ports_writes_recipes_and_stays_quiet(tmp_path):
    database = "scada_run_%s" % uuid.uuid4().hex[:8]
    http_port, sim_port = free_port(), free_port(socket.SOCK_DGRAM)
    output = tmp_path / "run.log"
    environment = dict(
        os.environ,
        SCADA_DEMO_DB=database,
        SCADA_HTTP_PORT=str(http_port),
        SCADA_SIM_PORT=str(sim_port),
        SCADA_SIM_BATCH_SECONDS="5",
        SCADA_SIM_EQUIPMENT_FAILURE_RATE="0.2",
    )
    process = start_run(environment, output)

    def sql(query):
        try:
            return pg("psql", "-d", database, "-tAc", query).strip()
        except subprocess.CalledProcessError:
            return ""

    try:
        wait_for(lambda: "Odoo 14: http://127.0.0.1:%d" % http_port in output.read_text(), 240, 1, "the demo")
        # The demo PLC follows the simulator's port, and its recipes are written there.
        assert sql(
            "SELECT port FROM scada_plc p JOIN ir_model_data d ON d.res_id = p.id AND d.model = 'scada.plc'"
            " WHERE d.name = 'scada_plc_default'"
        ) == str(sim_port)
        wait_for(
            lambda: (
                sql("SELECT count(*) FROM mo_batch WHERE plc_write_state = 'written'") not in ("", "0")
                or sql("SELECT count(*) FROM mo_history") not in ("", "0")
            ),
            120,
            1,
            "a demo recipe written to the simulator",
        )
        wait_for(lambda: sql("SELECT count(*) FROM mo_history") not in ("", "0"), 120, 1, "a finished batch")
        # The simulator's clock is set to the demo PLC's time zone, as a
        # plant sets its PLC's: a failure starts now, not hours off.
        wait_for(
            lambda: (
                sql(
                    "SELECT count(*) FROM scada_equipment_failure"
                    " WHERE abs(extract(epoch FROM date_start - now() AT TIME ZONE 'UTC')) < 120"
                )
                not in ("", "0")
            ),
            60,
            1,
            "an equipment failure that starts now",
        )
        parts = split_ten_tonnes(http_port, database)
        assert [(part["product_qty"], part["state"]) for part in parts] == [(1000.0, "confirmed")] * 10, parts
        assert len({part["origin"] for part in parts}) == 1, "one order on the board and the reports"
        # The demo's silos are stock: a completed batch took its lots from
        # them (the line fails one now and then), its finished lot traces back
        # to those lots, and the silos fell.
        traced = (
            "SELECT count(*) FROM stock_move_line fl"
            # A produced line's consume_line_ids: its id in consume_line_id (Odoo's naming).
            " JOIN stock_move_line_consume_rel r ON r.consume_line_id = fl.id"
            " JOIN stock_move_line cl ON cl.id = r.produce_line_id"
            " JOIN stock_production_lot raw ON raw.id = cl.lot_id"
            " JOIN scada_silo s ON s.location_id = cl.location_id"
            " WHERE fl.lot_id IS NOT NULL AND raw.name LIKE 'JNM-2611-%'"
        )
        wait_for(
            lambda: sql(traced) not in ("", "0"),
            180,
            1,
            "a finished lot traced to a supplier's lot in a silo",
        )
        assert sql(
            "SELECT count(*) FROM stock_quant q JOIN scada_silo s ON s.location_id = q.location_id"
            " WHERE s.code = 'silo103' AND q.quantity < 2000"
        ) not in ("", "0"), "silo 103's first lot fell"
        assert (
            sql(
                "SELECT active FROM ir_cron c JOIN ir_model_data d ON d.res_id = c.id AND d.model = 'ir.cron'"
                " WHERE d.name = 'ir_cron_demo_wave'"
            )
            == "t"
        ), "the living demo confirms new MOs"
        time.sleep(2)
        text = output.read_text()
        assert "DeprecationWarning" not in text, [
            line for line in text.splitlines() if "DeprecationWarning" in line
        ][:3]
        assert "[TASK 1]" in text and "[TASK 2]" in text
        # Ctrl-C while the runner polls: Odoo first, then the simulator, no traceback.
        # (The runner ends the cycle under way first: one that finishes MOs in
        # Odoo takes its time, so the bound is for a moment none is due.)
        wait_for(lambda: not finishing(sql), 60, 0.2, "no batch being finished")
        stopped = ctrl_c(process, output, CTRL_C_SECONDS)
        assert "PLC runner stopped" in stopped
        # Ctrl-C while Odoo still starts (the URL not printed yet): it stops once
        # started (a signal while it loads modules would raise in the loading);
        # how long it takes to start is the machine's, so only a loose bound here.
        process = start_run(environment, output)
        wait_for(lambda: output.read_text().count("starting Odoo 14") == 2, 60, 0.05, "Odoo starting")
        ctrl_c(process, output, 60)
        # Ctrl-C with the board open in a browser: Odoo 14 on Python 3.9+ would
        # wait at exit for its long-polling request (up to 50 s).  Odoo's own bus
        # listener may log that the shutdown closed its connection (Odoo's code).
        urls = output.read_text().count("Odoo 14: http")
        process = start_run(environment, output)
        wait_for(lambda: output.read_text().count("Odoo 14: http") > urls, 120, 0.2, "the third start")
        long_poll(http_port, database)
        wait_for(lambda: not finishing(sql), 60, 0.2, "no batch being finished")
        ctrl_c(process, output, CTRL_C_SECONDS, allowed_traceback="Bus.loop error, sleep and retry")
    finally:
        stop(process)
        drop_database(database)
