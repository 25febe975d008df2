"""scada-plc: the integrators' command line (simulator, read, write, slot, mailbox).

Exit codes: 0 ok, 2 usage, 3 PLC error end code, 4 no (valid) reply within
the timeout, 5 slot (or mailbox) decoded but invalid."""

import argparse
import json
import logging
import os
import signal
import sys
import threading

from .client import DEFAULT_PORT, FinsClient
from .exceptions import PlcConnectionError, PlcEndCodeError, PlcError, PlcFrameError
from .handshake import acknowledge_mailbox
from .memory_map import (
    FAILURE,
    MAILBOX_AREAS,
    READ_AREA_BASE,
    WRITE_AREA_BASE,
    default_failure_mailbox,
    default_read_layout,
    default_weighing_mailbox,
    default_write_layout,
    read_slot,
)
from .simulator import FAULT_KINDS, PlcSimulator

EXIT_OK, EXIT_USAGE, EXIT_END_CODE, EXIT_NO_REPLY, EXIT_INVALID_SLOT = 0, 2, 3, 4, 5


def _word(text):
    value = int(text, 0)
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError("a word is 0..65535 (or 0x0000..0xFFFF): %s" % text)
    return value


def _rate(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1: %s" % text)
    return value


def _per_second(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("events per second cannot be negative: %s" % text)
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more: %s" % text)
    return value


class UsageError(Exception):
    """Bad command line: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError("%s: %s" % (self.prog, message))


def build_parser():
    connection = _Parser(add_help=False)
    connection.add_argument("--host", default="127.0.0.1", help="PLC address (default 127.0.0.1)")
    connection.add_argument("--port", type=int, default=DEFAULT_PORT, help="FINS port (default 9600)")
    connection.add_argument("--tcp", action="store_true", help="FINS/TCP instead of UDP")
    connection.add_argument("--timeout", type=float, default=2.0, help="seconds per attempt (default 2)")
    connection.add_argument("--retries", type=int, default=1, help="read retries (default 1)")
    connection.add_argument("--plc-node", type=int, default=0, help="PLC FINS node (DA1)")
    connection.add_argument("--client-node", type=int, default=None, help="own FINS node (SA1)")

    parser = _Parser(prog="scada-plc", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sim = sub.add_parser("sim", help="run the PLC simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=DEFAULT_PORT)
    sim.add_argument("--tcp", action="store_true")
    sim.add_argument("--plant", action="store_true", help="behave like the batching line")
    sim.add_argument("--batch-seconds", type=float, default=30.0, help="plant mode: run time of a batch")
    sim.add_argument("--failure-rate", type=_rate, default=0.0, help="plant mode: share of batches failing")
    sim.add_argument(
        "--fail-batch",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="plant mode: the N-th recipe taken fails (repeatable)",
    )
    sim.add_argument(
        "--equipment-failure-rate",
        type=_per_second,
        default=0.0,
        metavar="PER_S",
        help="plant mode: equipment failures (and now and then recoveries) raised per second"
        " into the failure mailbox D8000-D8022",
    )
    sim.add_argument(
        "--weighing-rate",
        type=_per_second,
        default=0.0,
        metavar="PER_S",
        help="plant mode: manual weighings for running batches raised per second"
        " into the weighing mailbox D9000-D9013",
    )
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument(
        "--count",
        type=_positive,
        default=1,
        metavar="N",
        help="serve N independent PLCs (own memory and plant each) on ports PORT..PORT+N-1",
    )
    sim.add_argument(
        "--stats-file",
        metavar="PATH",
        help="write what the simulator did as JSON to PATH every 0.5 s and at exit"
        " (with --count > 1: one object per port)",
    )
    sim.add_argument("--fault-delay", type=float, default=1.0, help="seconds a delayed reply waits")
    sim.add_argument(
        "--fault-rate-all",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="every fault kind at RATE (a fault's own option overrides it)",
    )
    for kind in FAULT_KINDS:
        sim.add_argument(
            "--" + kind.replace("_", "-"),
            type=_rate,
            default=None,
            metavar="RATE",
            # Not "fault_" + kind: "fault_delay" is --fault-delay's (seconds).
            dest="fault_rate_" + kind,
            help="fault: %s" % kind.replace("_", " "),
        )

    read = sub.add_parser("read", parents=[connection], help="read words")
    read.add_argument("--json", action="store_true")
    read.add_argument("address", help="e.g. D6000")
    read.add_argument("count", type=int)

    write = sub.add_parser("write", parents=[connection], help="write words")
    write.add_argument("address", help="e.g. D7076")
    write.add_argument("words", type=_word, nargs="+")

    slot = sub.add_parser("slot", parents=[connection], help="read and decode one slot")
    slot.add_argument("--slot", type=int, required=True, choices=range(1, 11), metavar="N")
    slot.add_argument("--area", choices=("read", "write"), default="read")
    slot.add_argument("--json", action="store_true")

    mailbox = sub.add_parser(
        "mailbox",
        parents=[connection],
        help="read one mailbox (failure D8000-D8022, weighing D9000-D9013) as JSON",
    )
    mailbox.add_argument("--area", choices=MAILBOX_AREAS, required=True)
    mailbox.add_argument("--ack", action="store_true", help="set its flag to 1 when it holds a new event")
    return parser


def make_simulators(args):
    """The simulators `scada-plc sim` would serve, not started yet."""
    simulators = []
    for index in range(args.count):
        simulator = PlcSimulator(
            host=args.host,
            port=args.port + index if args.port else 0,
            protocol="tcp" if args.tcp else "udp",
            plant=args.plant,
            batch_seconds=args.batch_seconds,
            failure_rate=args.failure_rate,
            fail_batch_numbers=args.fail_batch,
            seed=None if args.seed is None else args.seed + index,
            fault_delay=args.fault_delay,
            equipment_failure_rate=args.equipment_failure_rate,
            weighing_rate=args.weighing_rate,
        )
        for kind in FAULT_KINDS:
            rate = getattr(args, "fault_rate_" + kind)
            simulator.set_fault(kind, args.fault_rate_all if rate is None else rate)
        simulators.append(simulator)
    return simulators


def write_stats(path, simulators):
    """One simulator's stats, or {port: stats} for several; replaced atomically."""
    if len(simulators) == 1:
        stats = simulators[0].stats()
    else:
        stats = {str(simulator.port): simulator.stats() for simulator in simulators}
    temporary = "%s.%d.tmp" % (path, os.getpid())
    with open(temporary, "w") as stream:
        json.dump(stats, stream, indent=1, sort_keys=True)
    os.replace(temporary, path)


def run_simulator(args, out):
    simulators = make_simulators(args)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops it as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    started = []
    try:
        for simulator in simulators:
            simulator.start()
            started.append(simulator)
            print("listening on %s" % simulator.url, file=out, flush=True)
        while True:
            if args.stats_file:
                write_stats(args.stats_file, started)
            if stop.wait(0.5):
                break
    except KeyboardInterrupt:
        pass
    finally:
        for simulator in started:
            simulator.stop()
        if args.stats_file and started:
            write_stats(args.stats_file, started)
    return EXIT_OK


def run_client(args, out):
    client = FinsClient(
        host=args.host,
        port=args.port,
        protocol="tcp" if args.tcp else "udp",
        timeout=args.timeout,
        retries=args.retries,
        plc_node=args.plc_node,
        client_node=args.client_node,
    )
    with client:
        if args.command == "read":
            words = client.read_words(args.address, args.count)
            if args.json:
                print(json.dumps({"address": args.address.upper(), "words": words}), file=out)
            else:
                print(" ".join(str(word) for word in words), file=out)
            return EXIT_OK
        if args.command == "write":
            client.write_words(args.address, args.words)
            print("wrote %d word(s) at %s" % (len(args.words), args.address.upper()), file=out)
            return EXIT_OK
        if args.command == "mailbox":
            return _print_mailbox(client, args, out)
        layout, base = (
            (default_read_layout(), READ_AREA_BASE)
            if args.area == "read"
            else (default_write_layout(), WRITE_AREA_BASE)
        )
        reading = read_slot(client, layout, base, args.slot)
        if args.json:
            print(json.dumps(reading.as_dict()), file=out)
        else:
            for name, value in reading.fields.items():
                print("%-40s %s" % (name, value), file=out)
            for error in reading.errors:
                print("INVALID: %s" % error, file=out)
        return EXIT_OK if reading.valid else EXIT_INVALID_SLOT


def _print_mailbox(client, args, out):
    """The mailbox read in one command, decoded, as one JSON object; with
    --ack a new event is acknowledged (flag 1).  Exit 5 when it is invalid."""
    mailbox = default_failure_mailbox() if args.area == FAILURE else default_weighing_mailbox()
    event = mailbox.decode(client.read_words("D%d" % mailbox.base, mailbox.size_words))
    result = event.as_dict()
    result["acknowledged"] = None
    if args.ack and event.is_new:
        result["acknowledged"] = acknowledge_mailbox(client, mailbox, event)
    print(json.dumps(result, sort_keys=True), file=out)
    return EXIT_OK if event.valid else EXIT_INVALID_SLOT


def main(argv=None, out=None, err=None):
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(error, file=err)
        return EXIT_USAGE
    except SystemExit as exit_request:  # --help
        return EXIT_USAGE if exit_request.code else EXIT_OK
    try:
        if args.command == "sim":
            return run_simulator(args, out)
        return run_client(args, out)
    except PlcEndCodeError as error:
        print("scada-plc: %s" % error, file=err)
        return EXIT_END_CODE
    except (PlcConnectionError, PlcFrameError) as error:
        print("scada-plc: %s" % error, file=err)
        return EXIT_NO_REPLY
    except (PlcError, ValueError, OSError) as error:
        print("scada-plc: %s" % error, file=err)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
