"""The reliability soaks of benchmarks/soak_*.py, short: the same scripts,
the real Odoo server and the simulator as processes, on 127.0.0.1.

* 60 batches under every FINS fault kind at 5 % each and PLC failures;
* 5 SIGKILLs of the server, aimed at Task 3 finishing, recipe writes,
  auto-cancel, and at random;
* every hostile READ-slot case.

Zero lost, zero double, zero wrong values accepted.  The full runs
(1000 batches, 30 kills) are the scripts' defaults; README, Reliability."""

import argparse
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))

import soak_crash  # noqa: E402
import soak_faults  # noqa: E402
import soak_hostile  # noqa: E402

pytestmark = pytest.mark.system


def options(parser, *argv):
    return parser.parse_args([str(arg) for arg in argv])


def test_sixty_batches_under_every_fault_kind_lose_nothing():
    args = options(soak_faults.build_parser(), "--batches", 60, "--wave", 30, "--name", "ci_soak_faults")
    figures, problems = soak_faults.run(args, log=lambda *_: None)
    assert not problems, problems
    assert figures["batches"] == 60 and figures["done"] + figures["cancelled"] == 60, figures
    assert figures["recipes_taken"] == 60, figures
    injected = figures["faults_injected"]
    missing = [kind for kind, count in injected.items() if not count and kind != "torn"]
    assert not missing, "fault kinds never injected: %s" % missing


def test_five_kills_of_the_server_leave_nothing_half_done():
    args = options(
        soak_crash.build_parser(),
        "--kills",
        5,
        "--settle-seconds",
        120,
        "--aim-seconds",
        15,
        "--name",
        "ci_crash",
    )
    figures, problems = soak_crash.run(args, log=lambda *_: None)
    assert not problems, problems
    assert figures["kills"] == 5 and figures["done"] + figures["cancelled"] == figures["mos"], figures
    assert figures["recipes_taken"] == figures["mos"], figures


def test_every_hostile_slot_is_refused_with_a_reason_and_recovers():
    results = soak_hostile.run(log=lambda *_: None)
    assert len(results) == len(soak_hostile.CASES)
    assert not [r["case"] for r in results if r["reached_stock"]], results
    not_handled = {r["case"]: r for r in results if not r["handled"]}
    assert not not_handled, not_handled


def test_the_soak_scripts_document_their_command():
    for module in (soak_faults, soak_crash, soak_hostile):
        assert "Run: .venv/bin/python benchmarks/%s.py" % module.__name__ in module.__doc__
    assert isinstance(soak_faults.build_parser(), argparse.ArgumentParser)
    assert soak_faults.build_parser().parse_args([]).batches == 1000
    assert soak_crash.build_parser().parse_args([]).kills == 30
