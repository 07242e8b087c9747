"""`python bench/poker_profile.py [--tables N] [--commands N] [--top N]`: where the poker game's
CPU goes, with no store and no event loop.

The same bots as the "append, 100 tables, live play" row (`bench.play`, 6 seats) play `--tables`
tables in turn, one command each, and every `Bot.step` (the engine's `handle` plus the bots' two
view calls, what that row counts as the game) is timed. Printed: per-command median, p99 and max;
the steps that reached a showdown (pokerkit ranks the hands there) apart, with the first one of the
process on its own, since a first use of anything lazy lands there; then a cProfile of a second
run, its top functions by own time and by cumulative time, and the share of the time spent inside
pokerkit.

Run it in a fresh process, as the server would be: the first showdown's figure is meaningful only
there. `--warm-up` first runs the server's background warm-up (`warmup.start`) to its end, as a
server that has been up a moment has.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.play import Bot, settings
from bench.stats import Summary, fmt_ms
from bench.workload import SEATS
from rejoin_server.games.poker import PokerEngine, warmup


@dataclass(slots=True)
class Steps:
    """Seconds per step: wall clock, and this thread's CPU (which other processes on the machine
    do not inflate); the showdowns' apart, in order; and what Python's cyclic GC took."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    showdown_wall: list[float] = field(default_factory=list)
    showdown_cpu: list[float] = field(default_factory=list)
    showdown_gc: list[bool] = field(default_factory=list)  # a collection ran inside it
    gc_s: float = 0.0
    gc_max_s: float = 0.0
    gc_runs: int = 0


def play(tables: int, commands: int, seed: int) -> Steps:
    """`commands` steps in all, round-robin over `tables` tables."""
    engine = PokerEngine()
    bots = [Bot(engine, f"t{i}", settings(SEATS), seed + i) for i in range(tables)]
    for bot in bots:
        bot.seat_players()
    out = Steps()
    began_gc = 0.0

    def on_gc(phase: str, info: dict[str, int]) -> None:
        nonlocal began_gc
        if phase == "start":
            began_gc = time.perf_counter()
        else:
            took = time.perf_counter() - began_gc
            out.gc_runs += 1
            out.gc_s += took
            out.gc_max_s = max(out.gc_max_s, took)

    gc.callbacks.append(on_gc)
    try:
        _play(bots, engine, commands, seed, out)
    finally:
        gc.callbacks.remove(on_gc)
    return out


def _play(bots: list[Bot], engine: PokerEngine, commands: int, seed: int, out: Steps) -> None:
    done = 0
    while done < commands:
        for i in range(len(bots)):
            if bots[i].finished:  # one player won every chip: a new table takes its place
                bots[i] = Bot(engine, f"t{i}-{done}", settings(SEATS), seed + done)
                bots[i].seat_players()
            bot = bots[i]
            runs = out.gc_runs
            began, began_cpu = time.perf_counter(), time.thread_time()
            events = bot.step()
            cpu = time.thread_time() - began_cpu
            wall = time.perf_counter() - began
            out.wall.append(wall)
            out.cpu.append(cpu)
            if any(e.kind == "showdown" for e in events):
                out.showdown_wall.append(wall)
                out.showdown_cpu.append(cpu)
                out.showdown_gc.append(out.gc_runs != runs)
            done += 1
            if done == commands:
                return


def line(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{name}: none"
    s = Summary.of(seconds)
    return (
        f"{name}: {s.count} · median {fmt_ms(s.median_ms)} · p99 {fmt_ms(s.p99_ms)} · "
        f"max {fmt_ms(max(seconds) * 1e3)}"
    )


def report(steps: Steps) -> None:
    for clock, every, showdowns in (
        ("wall", steps.wall, steps.showdown_wall),
        ("CPU", steps.cpu, steps.showdown_cpu),
    ):
        print(line(f"game step (handle + 2 views), {clock}", every))
        print(line("  of which reached a showdown", showdowns))
        if showdowns:
            print(f"  first showdown of the process: {fmt_ms(showdowns[0] * 1e3)}")
            print(line("  showdowns after the first", showdowns[1:]))
            over = [
                gc_ran for s, gc_ran in zip(showdowns, steps.showdown_gc, strict=True) if s > 0.002
            ]
            print(
                f"  showdowns over 2 ms: {len(over)} of {len(showdowns)}, "
                f"{sum(over)} of them with a cyclic GC inside"
            )
        print(f"  total {sum(every):.2f} s: {len(every) / sum(every):,.0f} commands/s on one core")
    print(
        f"cyclic GC: {steps.gc_runs} collections, {steps.gc_s * 1e3:.0f} ms in all, "
        f"longest {fmt_ms(steps.gc_max_s * 1e3)}"
    )


def profile(tables: int, commands: int, seed: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    play(tables, commands, seed)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    inside = sum(
        row[2]
        for (path, _, _), row in stats.stats.items()  # type: ignore[attr-defined]
        if "/pokerkit/" in path
    )
    print(f"\ncProfile ({total:.2f} s profiled): {inside / total:.0%} of own time in pokerkit")
    for key in ("tottime", "cumulative"):
        print(f"\ntop {top} by {key}:")
        stats.sort_stats(key).print_stats(top)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/poker_profile.py", description=__doc__)
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=25, help="cProfile rows; 0: no profile")
    parser.add_argument(
        "--warm-up", action="store_true", help="let the server's warm-up finish first"
    )
    args = parser.parse_args(argv)
    if args.warm_up:
        warmup.start().join()
    report(play(args.tables, args.commands, args.seed))
    if args.top:
        profile(args.tables, args.commands // 2, args.seed + 1, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
