"""Hostile PLC data: the real Odoo server (PLC runner loaded server-wide)
against a PLC played by this script (a plclib simulator in this process,
not in plant mode), which takes the recipes, runs two batches at a time
(slots 1 and 2) and writes crafted contents into READ slot 1 while
batch 2 runs and finishes normally:

  unknown_mo          a finished result of an MO Odoo never sent
  garbage_mo_id       control bytes and 0xFF in the MO id
  negative            a negative consumption (DINT -100.00 kg in the UDINT words)
  absurd              70 000 kg consumed on a 1 000 kg batch, reported finished
  zero_weight         finished with finished weight 0
  finished_all_zero   status_manufacturing=1, every actual 0
  shifted_silo_ids    the right MO, silo id words shifted by one (102..116)
  both_flags          finished and failed at once
  other_batch_mo      READ slot 1 shows batch 2's MO (batch 2 runs in slot 2)

Each must be refused with a reason on the batch (plc_read_error,
review_reasons) and on the PLC (slot_problems, an open scada.alarm), and
never reach the MO or stock; then the slot is made sane again and the
batch must finish with the sane figures (a batch held for review needs a
manager: the script resets it as one, and the PLC doses it again).
Prints a table per case, writes .bench/soak_hostile.json, exits 1 when a
case is not handled.

Run: .venv/bin/python benchmarks/soak_hostile.py [--cases absurd,both_flags]
(needs the bench: `make setup` and the template database of `make test`)."""

import sys
import time

import soak_harness as soak
from system_harness import Line, check_outcome, wait_for

from plclib.memory_map import PLANT_SILOS, READ_AREA_BASE, default_read_layout, silo_id_key, slot_address
from plclib.simulator import PlcSimulator

QUANTITY = 1000.0  # kg: silo A 600, silo D 350, LQ114 50


def _udint_words(value):
    raw = value & 0xFFFFFFFF
    return [raw >> 16, raw & 0xFFFF]


def _offset(key):
    return default_read_layout().by_name[key].offset


CASES = {
    # name: (what it shows, how to write it: fn(sim, mine, other) with recipes as dicts)
    "unknown_mo": "a finished result of MO WH/MO/99999 (batch 31000), never sent",
    "garbage_mo_id": "MO id words 0x01FF 0xFE80 0x1B5B ... (control bytes, 0xFF)",
    "negative": "silo A consumption -100.00 kg (DINT in the UDINT words), finished",
    "absurd": "silo A 70 000 kg on a 1 000 kg batch, finished weight 1 000 kg",
    "zero_weight": "finished, plausible consumption, finished weight 0",
    "finished_all_zero": "status_manufacturing=1 with every actual 0",
    "shifted_silo_ids": "the right MO, silo id words 102..116 instead of 101..115, finished",
    "both_flags": "status_manufacturing=1 and status_operation=1 at once",
    "other_batch_mo": "READ slot 1 shows batch 2's MO, finished (batch 2 runs in slot 2)",
}


class HostilePlc:
    """The PLC, played by hand on an in-process simulator."""

    def __init__(self):
        self.sim = PlcSimulator(seed=1).start()
        self.port = self.sim.port

    def take(self, slot, timeout=30):
        """Wait for a new recipe in WRITE slot `slot`, take it, report it running."""
        recipe = wait_for(
            lambda: (
                self.sim.read_slot_values("write", slot)["mo_id"]
                and self.sim.read_slot_values("write", slot)["status_read_data"] is False
                and self.sim.read_slot_values("write", slot)
            ),
            timeout,
            0.05,
            "a recipe in WRITE slot %s" % slot,
        )
        self.sim.write_slot_values("write", slot, {"status_read_data": True})
        running = {key: recipe[key] for key in ("batch_no", "mo_id", "bom", "finished_goods", "quantity")}
        running.update({silo_id_key(tag): silo_id for tag, silo_id in PLANT_SILOS})
        running.update(
            {
                "actual_consumption_" + tag: round(recipe["consumption_" + tag] / 2, 2)
                for tag, _ in PLANT_SILOS
            }
        )
        self.sim.write_slot_values("read", slot, running, clear=True)
        return recipe

    @staticmethod
    def sane(recipe):
        """The finished figures: each silo 1 % over plan, weight their sum."""
        values = {
            "actual_consumption_" + tag: round(recipe["consumption_" + tag] * 1.01, 2)
            for tag, _ in PLANT_SILOS
        }
        values["actual_weight_quantity_finished_goods"] = round(sum(values.values()), 2)
        values["status_manufacturing"] = True
        values["status_operation"] = False
        return values

    def show(self, slot, recipe, values, clear=True):
        """READ slot `slot` shows `recipe`'s batch with `values` over it."""
        shown = {key: recipe[key] for key in ("batch_no", "mo_id", "bom", "finished_goods", "quantity")}
        shown.update({silo_id_key(tag): silo_id for tag, silo_id in PLANT_SILOS})
        shown.update(values)
        self.sim.write_slot_values("read", slot, shown, clear=clear)

    def raw(self, slot, key, words):
        self.sim.memory.write(slot_address(READ_AREA_BASE, slot) + _offset(key), words)

    def hostile(self, case, mine, other):
        sane = self.sane(mine)
        if case == "unknown_mo":
            self.show(1, dict(mine, batch_no=31000, mo_id="WH/MO/99999"), sane)
        elif case == "garbage_mo_id":
            self.show(1, mine, sane)
            self.raw(1, "mo_id", [0x01FF, 0xFE80, 0x1B5B, 0x3F07, 0x0000, 0x4142, 0x00FF, 0x7F7F])
        elif case == "negative":
            self.show(1, mine, sane)
            self.raw(1, "actual_consumption_silo_a", _udint_words(-10000))
        elif case == "absurd":
            self.show(
                1,
                mine,
                dict(sane, actual_consumption_silo_a=70000.0, actual_weight_quantity_finished_goods=1000.0),
            )
        elif case == "zero_weight":
            self.show(1, mine, dict(sane, actual_weight_quantity_finished_goods=0))
        elif case == "finished_all_zero":
            zeros = {key: 0 for key in sane if key.startswith("actual_")}
            self.show(1, mine, dict(zeros, status_manufacturing=True))
        elif case == "shifted_silo_ids":
            self.show(1, mine, dict(sane, **{silo_id_key(tag): silo_id + 1 for tag, silo_id in PLANT_SILOS}))
        elif case == "both_flags":
            self.show(1, mine, dict(sane, status_operation=True))
        elif case == "other_batch_mo":
            self.show(1, other, self.sane(other))
        else:
            raise ValueError(case)

    def stop(self):
        self.sim.stop()


class _NoTakes:
    def stats(self):
        return {}


def batch_state(database, production_id):
    row = database.sql(
        "SELECT coalesce(b.state, '-'), coalesce(b.plc_read_error, ''), coalesce(b.review_state, ''),"
        " coalesce(b.review_reasons, ''), p.state FROM mrp_production p LEFT JOIN mo_batch b"
        " ON b.production_id = p.id WHERE p.id = %d" % production_id
    )
    state, read_error, review_state, review_reasons, mo_state = row.split("|", 4)[:5]
    return {
        "batch_state": state,
        "plc_read_error": read_error.replace("\n", " "),
        "review_state": review_state,
        "review_reasons": review_reasons.replace("\n", " "),
        "mo_state": mo_state,
    }


def run_case(case, line, log=print):
    server, database, plant, plc = line.server, line.database, line.plant, line.plc
    server.rpc(
        "scada.alarm", "action_acknowledge", server.rpc("scada.alarm", "search", [("state", "=", "open")])
    )
    ids = plant.confirm_many(2, QUANTITY)
    mine, other = plc.take(1), plc.take(2)
    wait_for(lambda: batch_state(database, ids[0])["batch_state"] == "running", 20, 0.2, "batch 1 running")
    plc.hostile(case, mine, other)
    # Batch 2 finishes normally meanwhile (unless slot 1 pretends to be it).
    if case != "other_batch_mo":
        plc.show(2, other, plc.sane(other), clear=False)

    def reacted():
        state = batch_state(database, ids[0])
        plc_row = database.sql(
            "SELECT coalesce(slot_problems, '') FROM scada_plc WHERE id = %d" % plant.plc_id
        )
        return (
            state["plc_read_error"] or state["review_reasons"] or plc_row or state["mo_state"] != "confirmed"
        ) and (
            state,
            plc_row,
        )

    try:
        wait_for(reacted, 10, 0.2, "a reaction")
    except AssertionError:
        pass
    time.sleep(3)  # three more polls: anything wrong the bridge would do, it does now
    state = batch_state(database, ids[0])
    slot_problems = database.sql(
        "SELECT coalesce(slot_problems, '') FROM scada_plc WHERE id = %d" % plant.plc_id
    )
    alarms = database.sql(
        "SELECT string_agg(kind || ': ' || replace(reason, E'\\n', ' '), ' | ') FROM scada_alarm"
        " WHERE state = 'open'"
    )
    stock = soak.reached_stock(database, [ids[0]]).get(ids[0], 0)
    result = {
        "case": case,
        "shows": CASES[case],
        "batch_during": state,
        "slot_problems": slot_problems.replace("\n", " "),
        "alarms": alarms,
        "reached_stock": bool(stock) or state["mo_state"] == "done",
        "mo_changed": state["mo_state"] != "confirmed",
    }
    result["reason_on_batch"] = state["plc_read_error"] or state["review_reasons"]
    result["reason_on_plc"] = slot_problems.replace("\n", " ") or (alarms or "")
    result["refused"] = not result["mo_changed"] and state["batch_state"] != "-"
    # The slot sane again: the batch finishes with the sane figures.
    recovery = "slot made sane"
    if state["review_state"] == "needs_review":
        server.rpc(
            "mo.batch", "action_reset", server.rpc("mo.batch", "search", [("production_id", "=", ids[0])])
        )
        mine = plc.take(1)
        recovery = "held for review: reset by a manager, dosed again"
    if case == "other_batch_mo":
        plc.show(2, other, plc.sane(other), clear=False)
    if state["mo_state"] == "confirmed":
        plc.show(1, mine, plc.sane(mine))
    try:
        wait_for(lambda: plant.states(ids) == {ids[0]: "done", ids[1]: "done"}, 30, 0.3, "both MOs done")
        problems, _summary = check_outcome(database, ids, _NoTakes())
        figures = database.sql("SELECT qty_producing FROM mrp_production WHERE id = %d" % ids[0])
        sane_weight = plc.sane(mine)["actual_weight_quantity_finished_goods"]
        if abs(float(figures) - sane_weight) > 0.01:
            problems.append("produced %s, the sane weight is %s" % (figures, sane_weight))
        result["recovered"] = not problems
        result["recovery"] = recovery if not problems else "; ".join(problems)
    except AssertionError:
        result["recovered"] = False
        result["recovery"] = "MOs are %s" % plant.states(ids)
        # Leave the line clean for the next case.
        batches = server.rpc("mo.batch", "search", [("production_id", "in", ids)])
        if batches:
            server.rpc("mo.batch", "action_cancel", batches, notes="soak: case %s cleaned up" % case)
    result["handled"] = bool(
        result["refused"]
        and not result["reached_stock"]
        and result["reason_on_batch"]
        and result["reason_on_plc"]
        and result["recovered"]
    )
    log(
        "[hostile] %-18s refused %-3s stock %-3s batch reason: %s"
        % (
            case,
            "yes" if result["refused"] else "NO",
            "YES" if result["reached_stock"] else "no",
            result["reason_on_batch"][:70],
        )
    )
    return result


def run(cases=None, log=print):
    with Line(HostilePlc(), "soak-hostile") as line:
        return [run_case(case, line, log) for case in cases or CASES]


def build_parser():
    parser = soak.argument_parser(__doc__, "soak_hostile")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, default all")
    return parser


def report(results, name="soak_hostile"):
    print(
        "\n%-18s %-7s %-7s %-9s %s" % ("case", "refused", "stock", "recovered", "reason shown (batch | PLC)")
    )
    for r in results:
        print(
            "%-18s %-7s %-7s %-9s %s | %s"
            % (
                r["case"],
                "yes" if r["refused"] else "NO",
                "YES" if r["reached_stock"] else "no",
                "yes" if r["recovered"] else "NO",
                r["reason_on_batch"][:80] or "(none on the batch)",
                r["reason_on_plc"][:80] or "(none on the PLC)",
            )
        )
    rows = [
        ("hostile inputs tried", len(results)),
        ("refused", sum(r["refused"] for r in results)),
        ("reached stock", sum(r["reached_stock"] for r in results)),
        ("handled (refused, reasons shown, recovered)", sum(r["handled"] for r in results)),
    ]
    figures = {"command": soak.command(__file__), "cases": results}
    figures.update(dict(rows))
    soak.write_report(name, "Hostile PLC data", rows, figures)
    for r in results:
        if not r["handled"]:
            print("NOT HANDLED: %s: %s" % (r["case"], r))


def main():
    args = build_parser().parse_args()
    results = run(args.cases.split(","))
    report(results, args.name)
    sys.exit(0 if all(r["handled"] for r in results) else 1)


if __name__ == "__main__":
    main()
