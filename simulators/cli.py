"""Command line: ``python -m simulators`` (also ``propwatch simulate``). See docs/simulators.md."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from simulators.control import ControlServer
from simulators.estate import demo_estate
from simulators.faults import fault_catalog
from simulators.load import LoadConfig, run_load
from simulators.site import SiteSimulator

FAULT_SPEC = re.compile(r"^(?P<device>[A-Za-z0-9_-]+):(?P<fault>[a-z_]+)(@(?P<at>[\d.]+))?(\+(?P<dur>[\d.]+))?"
                        r"(?P<params>(,[a-z_]+=[^,]+)*)$")


def parse_fault(text: str) -> tuple[float, str, str, float | None, dict[str, Any]]:
    """``DEVICE:FAULT[@AT_S][+DURATION_S][,key=value...]`` -> (at_s, device, fault, duration_s, params).

    Values that parse as numbers become numbers, e.g. ``S001-PR01:sensor_drift+600,metric=turbidity,rate_per_h=2``.
    """
    match = FAULT_SPEC.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad fault spec {text!r}; expected DEVICE:FAULT[@AT_S][+DURATION_S][,k=v]")
    params: dict[str, Any] = {}
    for pair in filter(None, match["params"].split(",")):
        key, value = pair.split("=", 1)
        try:
            params[key] = float(value)
        except ValueError:
            params[key] = value
    return (float(match["at"] or 0), match["device"], match["fault"],
            float(match["dur"]) if match["dur"] else None, params)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands run, load, faults, layout)."""
    parser = argparse.ArgumentParser(prog="simulate", description="propwatch device simulators")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate an estate against an MQTT broker")
    _estate_args(run)
    run.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    run.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--speedup", type=float, default=1.0, help="simulated seconds per wall second")
    run.add_argument("--duration", type=float, default=None, help="wall seconds to run (default: until Ctrl-C)")
    run.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="DEVICE:FAULT[@AT][+DUR][,k=v]")
    run.add_argument("--ground-truth", type=Path, default=None, help="JSON-lines file of injected faults")
    run.add_argument("--control-port", type=int, default=None, help="serve the HTTP control API on 127.0.0.1")

    load = sub.add_parser("load", help="drive many devices at a paced aggregate rate")
    _estate_args(load)
    load.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    load.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    load.add_argument("--devices", type=int, default=None, help="devices to drive (default: all with 10 metrics)")
    load.add_argument("--rate", type=float, required=True, help="aggregate messages per second")
    load.add_argument("--duration", type=float, default=10.0)
    load.add_argument("--qos", type=int, choices=[0, 1], default=1)
    load.add_argument("--processes", type=int, default=1)
    load.add_argument("--connections", type=int, default=2, help="MQTT connections per process")
    load.add_argument("--ledger", type=Path, default=None, help="write the exact (device, seq) set sent here")

    sub.add_parser("faults", help="list the injectable faults")
    layout = sub.add_parser("layout", help="print the estate layout as JSON")
    _estate_args(layout)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "faults":
        for spec in fault_catalog().values():
            print(f"{spec.name:28} {spec.summary}")
        return 0
    estate = demo_estate(args.site, buildings=args.buildings)
    if args.command == "layout":
        sys.stdout.buffer.write(orjson.dumps(asdict(estate), option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    if args.command == "load":
        config = LoadConfig(rate=args.rate, duration_s=args.duration, devices=args.devices, qos=args.qos,
                            processes=args.processes, connections=args.connections, protocol=args.protocol)
        report = run_load(estate, args.mqtt_url, config, ledger_path=args.ledger)
        sys.stdout.buffer.write(orjson.dumps(report.summary(), option=orjson.OPT_INDENT_2) + b"\n")
        return 0 if report.acked == report.sent else 1
    return _run(args, estate)


def _estate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default="S001", help="site id")
    parser.add_argument("--buildings", type=int, default=3)


def _run(args: argparse.Namespace, estate: Any) -> int:
    site = SiteSimulator(estate, mqtt_url=args.mqtt_url, protocol=args.protocol, seed=args.seed,
                         speedup=args.speedup, ground_truth_path=args.ground_truth)
    for at_s, device, fault, duration_s, params in args.fault:
        site.schedule(at_s, device, fault, duration_s=duration_s, **params)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    site.start()
    control = ControlServer(site, port=args.control_port) if args.control_port is not None else None
    if control:
        control.start()
        logging.info("control API on %s", control.url)
    try:
        done.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        if control:
            control.stop()
        site.stop()
    logging.info("sent %s", site.sent())
    return 0
