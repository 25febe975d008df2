"""What one poll of the plant costs, measured against the simulator on
127.0.0.1 in one run (figures and ratios, not a test):

* all 10 READ slots as ONE read, against one read per slot (10) and field by
  field (390 reads, the first version of the system this one replaces);
* one recipe written as ONE command, against field by field (39 writes);
* an idle poll with the two mailboxes' flags (D8022 failures, D9013
  weighings): the slot read plus ONE 0104 read of both flags (budget 2
  round trips), against a read of each flag (3) and of each whole mailbox;
* one poll against a dead PLC address: bounded by timeout x (retries + 1).

The last column adds LAN_ROUND_TRIP_MS of network per exchange, as on a plant
LAN, to the loopback time.

Run: .venv/bin/python benchmarks/bench_fins_poll.py [--repeat N]"""

import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scada_plc_bridge"))

from plclib import handshake as hs  # noqa: E402
from plclib import memory_map as mm  # noqa: E402
from plclib.client import FinsClient  # noqa: E402
from plclib.simulator import PlcSimulator  # noqa: E402


def measure(client, work, repeat):
    client.round_trips = 0
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    return client.round_trips / repeat, (time.perf_counter() - started) / repeat


def poll_one_read(client, layout):
    return mm.read_all_slots(client, layout)


def poll_per_slot(client, layout):
    return [mm.read_slot(client, layout, mm.READ_AREA_BASE, slot) for slot in range(1, 11)]


def poll_per_field(client, layout):
    for slot in range(1, 11):
        base = mm.slot_address(mm.READ_AREA_BASE, slot)
        for spec in layout.fields:
            client.read_words("D%d" % (base + spec.offset), spec.length)


def write_one_command(client, layout, recipe):
    mm.write_slot(client, layout, mm.WRITE_AREA_BASE, 1, recipe)


def write_per_field(client, layout, recipe):
    words = layout.encode(recipe)
    for spec in layout.fields:
        client.write_words(
            "D%d" % (mm.WRITE_AREA_BASE + spec.offset),
            words[spec.offset : spec.offset + spec.length],
        )


def idle_poll_with_flags(client, layout, mailboxes):
    """What the cycle does when nothing happened: slots + both flags."""
    mm.read_all_slots(client, layout)
    return hs.poll_mailboxes(client, mailboxes)


def idle_poll_flag_by_flag(client, layout, mailboxes):
    mm.read_all_slots(client, layout)
    return [hs.read_mailbox(client, mailbox) for mailbox in mailboxes]


def idle_poll_whole_mailboxes(client, layout, mailboxes):
    mm.read_all_slots(client, layout)
    return [client.read_words("D%d" % mailbox.base, mailbox.size_words) for mailbox in mailboxes]


# Loopback hides the network: on the plant's LAN each FINS exchange costs a
# round trip of a few milliseconds, which the last column projects.
LAN_ROUND_TRIP_MS = 2.0


def row(label, trips, seconds, baseline_trips, baseline_seconds):
    print(
        "  %-34s %6.0f round trips %9.3f ms   x%6.1f trips  x%6.1f time   ~%6.0f ms on a LAN"
        % (
            label,
            trips,
            seconds * 1000,
            trips / baseline_trips,
            seconds / baseline_seconds,
            seconds * 1000 + trips * LAN_ROUND_TRIP_MS,
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--protocol", choices=("udp", "tcp"), default="udp")
    args = parser.parse_args(argv)
    read_layout, write_layout = mm.default_read_layout(), mm.default_write_layout()
    recipe = {
        "batch_no": 1,
        "mo_id": "WH/MO/00011",
        "bom": "[10092] JF SAPOT",
        "quantity": 1000,
        "consumption_silo_b": 150,
        "consumption_lq114": 40,
    }
    with PlcSimulator(protocol=args.protocol) as sim, FinsClient(
        port=sim.port, protocol=args.protocol
    ) as client:
        print("Poll of all 10 READ slots (%s, loopback, mean of %d):" % (args.protocol, args.repeat))
        base = measure(client, lambda: poll_one_read(client, read_layout), args.repeat)
        row("one read (D6000-D6976)", *base, *base)
        row(
            "one read per slot",
            *measure(client, lambda: poll_per_slot(client, read_layout), args.repeat),
            *base,
        )
        row(
            "field by field",
            *measure(client, lambda: poll_per_field(client, read_layout), args.repeat),
            *base,
        )
        print("One recipe write (slot 1):")
        base = measure(client, lambda: write_one_command(client, write_layout, recipe), args.repeat)
        row("one command", *base, *base)
        row(
            "field by field",
            *measure(client, lambda: write_per_field(client, write_layout, recipe), args.repeat),
            *base,
        )
        mailboxes = mm.default_mailboxes()
        print("Idle poll: 10 READ slots + mailbox flags D8022, D9013 (nothing new; budget 2):")
        base = measure(client, lambda: idle_poll_with_flags(client, read_layout, mailboxes), args.repeat)
        row("slots + one 0104 of both flags", *base, *base)
        row(
            "slots + one read per flag",
            *measure(client, lambda: idle_poll_flag_by_flag(client, read_layout, mailboxes), args.repeat),
            *base,
        )
        row(
            "slots + each whole mailbox",
            *measure(client, lambda: idle_poll_whole_mailboxes(client, read_layout, mailboxes), args.repeat),
            *base,
        )
        print("  idle poll round trips: %d (budget 2)" % base[0])
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    timeout, retries = 0.5, 1
    client = FinsClient(port=dead_port, timeout=timeout, retries=retries)
    started = time.perf_counter()
    try:
        mm.read_all_slots(client, read_layout)
    except Exception as error:  # noqa: BLE001 - the figure is the point
        outcome = type(error).__name__
    elapsed = time.perf_counter() - started
    print("Dead PLC (127.0.0.1:%d, timeout %.1f s, %d retry):" % (dead_port, timeout, retries))
    print("  one poll took %.2f s (bound %.2f s) -> %s" % (elapsed, timeout * (retries + 1), outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
