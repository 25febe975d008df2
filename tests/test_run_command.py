"""`make run` as a visitor starts it: on ports of their own (the variables the
README documents), the demo's recipes reach the simulator, the terminal
shows no Odoo DeprecationWarning, and the living demo keeps confirming MOs."""

import os
import signal
import socket
import subprocess
import time
import uuid

import pytest
from system_harness import ROOT, drop_database, free_port, pg, wait_for

pytestmark = pytest.mark.system


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
    )
    with open(output, "w") as log:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "run.sh")],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

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
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        drop_database(database)
