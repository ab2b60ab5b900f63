"""PNG charts of a results.json written by `loadgen report`: latency percentiles and throughput
against load for fan-out, history and pairs, and memory per idle connection."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"messagerie-graphql": "#1f77b4", "messagerie-socketio": "#17becf", "peer-socketio": "#d62728",
          "peer-graphql": "#ff7f0e", "ceiling": "#2ca02c"}


def main(path, out):
    with open(path) as f:
        report = json.load(f)
    rows = report["measurements"]
    sub = f"{report['meta']['config']} run, commit {report['meta']['commit']}, {report['meta']['cores']} cores"
    written = []

    fan = [r for r in rows if r["scenario"] == "fanout"]
    for members in sorted({r["parameters"]["members"] for r in fan}):
        sel = [r for r in fan if r["parameters"]["members"] == members]
        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
        for target in sorted({r["target"] for r in sel}):
            pts = sorted((r for r in sel if r["target"] == target), key=lambda r: r["parameters"]["rate"])
            offered = [r["parameters"]["rate"] * (members - 1) for r in pts]
            a.plot(offered, [r["throughput"] for r in pts], "o-", color=COLORS.get(target), label=target)
            b.plot([r["throughput"] for r in pts], [r["latency"]["p99Ms"] for r in pts], "o-", color=COLORS.get(target), label=f"{target} p99")
            b.plot([r["throughput"] for r in pts], [r["latency"]["p50Ms"] for r in pts], "x--", color=COLORS.get(target), alpha=0.6)
        a.set_xlabel("offered deliveries/s"); a.set_ylabel("delivered/s"); a.set_title(f"fan-out, {int(members)} members: throughput")
        b.set_xlabel("delivered/s"); b.set_ylabel("send → deliver ms (p99 solid, p50 dashed)"); b.set_yscale("log")
        b.set_title(f"fan-out, {int(members)} members: latency")
        a.legend(fontsize=8); b.legend(fontsize=8); fig.suptitle(sub, fontsize=9); fig.tight_layout()
        name = f"fanout-{int(members)}.png"; fig.savefig(os.path.join(out, name), dpi=110); plt.close(fig); written.append(name)

    hist = [r for r in rows if r["scenario"] == "history"]
    if hist:
        fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
        for target in sorted({r["target"] for r in hist}):
            pts = sorted((r for r in hist if r["target"] == target), key=lambda r: r["parameters"]["concurrency"])
            c = [r["parameters"]["concurrency"] for r in pts]
            a.plot(c, [r["throughput"] for r in pts], "o-", color=COLORS.get(target), label=target)
            b.plot(c, [r["latency"]["p99Ms"] for r in pts], "o-", color=COLORS.get(target), label=f"{target} p99")
            b.plot(c, [r["latency"]["p50Ms"] for r in pts], "x--", color=COLORS.get(target), alpha=0.6)
        a.set_xlabel("concurrent clients"); a.set_ylabel("requests/s"); a.set_title("history page (50 messages + sender, reactions, receipts)")
        b.set_xlabel("concurrent clients"); b.set_ylabel("ms (p99 solid, p50 dashed)"); b.set_title("history latency")
        a.legend(fontsize=8); b.legend(fontsize=8); fig.suptitle(sub, fontsize=9); fig.tight_layout()
        fig.savefig(os.path.join(out, "history.png"), dpi=110); plt.close(fig); written.append("history.png")

    pairs = [r for r in rows if r["scenario"] == "pairs"]
    if pairs:
        fig, a = plt.subplots(figsize=(7, 4.5))
        for target in sorted({r["target"] for r in pairs}):
            pts = sorted((r for r in pairs if r["target"] == target), key=lambda r: r["parameters"]["offered"])
            a.plot([r["throughput"] for r in pts], [r["latency"]["p99Ms"] for r in pts], "o-", color=COLORS.get(target), label=f"{target} deliver p99")
            a.plot([r["throughput"] for r in pts], [r["receiptLatency"]["p99Ms"] for r in pts], "s--", color=COLORS.get(target), alpha=0.6, label=f"{target} receipt p99")
        a.axhline(100, color="grey", lw=0.8, ls=":"); a.set_yscale("log")
        a.set_xlabel("messages/s (delivered and receipted)"); a.set_ylabel("ms"); a.set_title("pairs: direct messages with delivery receipts")
        a.legend(fontsize=8); fig.suptitle(sub, fontsize=9); fig.tight_layout()
        fig.savefig(os.path.join(out, "pairs.png"), dpi=110); plt.close(fig); written.append("pairs.png")

    idle = [r for r in rows if r["scenario"] == "idle" and r.get("bytesPerConnection") is not None]
    if idle:
        fig, a = plt.subplots(figsize=(7, 4.5))
        names = [r["target"] for r in idle]
        kib = [r["bytesPerConnection"] / 1024 for r in idle]
        later = [(r.get("bytesPerConnectionAfterDelivery") or 0) / 1024 for r in idle]
        xs = range(len(names))
        a.bar([x - 0.2 for x in xs], kib, width=0.4, color=[COLORS.get(n) for n in names], label="at rest")
        a.bar([x + 0.2 for x in xs], later, width=0.4, color=[COLORS.get(n) for n in names], alpha=0.45, hatch="//",
              label="after one message each")
        a.set_xticks(list(xs)); a.set_xticklabels(names)
        a.axhline(16, color="grey", lw=0.8, ls=":")
        for i, (v, w) in enumerate(zip(kib, later)):
            a.text(i - 0.2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
            if w:
                a.text(i + 0.2, w, f"{w:.1f}", ha="center", va="bottom", fontsize=7)
        a.legend(fontsize=8)
        sizes = sorted({int(r["parameters"]["connections"]) for r in idle})
        conns = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"
        a.set_ylabel("server RSS growth per connection, KiB"); a.set_title(f"idle: {conns} connections, one subscription each")
        plt.xticks(rotation=15, fontsize=8); fig.suptitle(sub, fontsize=9); fig.tight_layout()
        fig.savefig(os.path.join(out, "idle.png"), dpi=110); plt.close(fig); written.append("idle.png")

    print("charts:", ", ".join(written))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
