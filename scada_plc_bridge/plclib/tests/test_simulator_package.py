"""The simulator package: its public names are importable from
plclib.simulator, its memory and fault injection work on their own (no
sockets), and the install ships every plclib package."""

import configparser
import os
import random
import threading

import pytest

from plclib import simulator
from plclib.fins import commands
from plclib.simulator import AddressError, DmMemory, FaultInjector

PLCLIB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP_CFG = os.path.join(os.path.dirname(os.path.dirname(PLCLIB_DIR)), "setup.cfg")


def test_public_names_are_importable_from_the_package():
    expected = {
        "DM_WORDS": "memory",
        "AddressError": "memory",
        "DmMemory": "memory",
        "FAULT_KINDS": "faults",
        "REFUSE_END_CODE": "faults",
        "FaultInjector": "faults",
        "FinsServer": "server",
        "PLANT_TICK_SECONDS": "plant",
        "PlantSlot": "plant",
        "PlcSimulator": "plant",
        "PLANT_EQUIPMENT": "mailboxes",
        "WEIGHING_PRODUCT_IDS": "mailboxes",
        "SimMailbox": "mailboxes",
    }
    assert sorted(simulator.__all__) == sorted(expected)
    for name, module in expected.items():
        submodule = getattr(simulator, module)
        assert getattr(simulator, name) is getattr(submodule, name)


def test_memory_alone():
    memory = DmMemory(size=10)
    assert memory.read(0, 10) == [0] * 10
    memory.write(8, (1, 0xFFFF))
    assert memory.read(7, 3) == [0, 1, 0xFFFF]
    for address, count, end_code in ((10, 1, 0x1103), (-1, 1, 0x1103), (9, 2, 0x1104)):
        with pytest.raises(AddressError) as caught:
            memory.read(address, count)
        assert caught.value.end_code == end_code
    with pytest.raises(AddressError):
        memory.write(9, [1, 2])
    assert memory.read(8, 2) == [1, 0xFFFF]  # a refused write changes nothing
    assert DmMemory().size == simulator.DM_WORDS == 32768


def test_fault_injector_alone():
    injector = FaultInjector(random.Random(1), threading.Lock(), threading.Lock())
    with pytest.raises(ValueError):
        injector.set("flood", 1.0)
    injector.set("drop", 1.0, command_codes=[commands.MemoryAreaWrite.code])
    assert injector.rates == {"drop": 1.0}
    assert not injector.chance("drop", commands.MemoryAreaRead.code)
    assert injector.chance("drop", commands.MemoryAreaWrite.code)
    assert injector.injected == {"drop": 1}
    injector.set("drop", 0)
    assert injector.rates == {} and not injector.chance("drop", commands.MemoryAreaWrite.code)
    assert injector.torn(6028, [1, 2], {}) == [1, 2]  # no scan changed anything


def test_the_install_ships_every_plclib_package():
    if not os.path.isfile(SETUP_CFG):
        pytest.skip("no setup.cfg beside this addon (%s)" % SETUP_CFG)
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    listed = set(config["options"]["packages"].split())
    found = {
        os.path.normpath(os.path.join("plclib", os.path.relpath(folder, PLCLIB_DIR))).replace(os.sep, ".")
        for folder, _folders, files in os.walk(PLCLIB_DIR)
        if "__init__.py" in files
    }
    assert "plclib.simulator" in found and found - listed == set()
