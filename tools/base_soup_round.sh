#!/usr/bin/env bash
# One round of the base stage's two-core continuation (reports/default-cascade-lineage.md, session 7): two one-thread
# runs continue models/wip/base side by side on two fresh data streams, one with object weight 5 and
# one with object weight 20, each for BUDGET minutes; their exports are then averaged (a model soup,
# `deno task average-cascades`) back into models/wip/base and measured with eval/class_signal.ts.
#
#   bash tools/base_soup_round.sh SEED1 SEED2 [BUDGET_MIN=40] [LR=5e-4] [EMA_DECAY]
#
# SEED1 and SEED2: EmojiScenes stream seeds below 2^24 that no earlier round used (the card lists the
# used ones). Repeatable: a round whose runs already exist resumes them (--resume) for BUDGET more
# minutes before averaging. Everything goes to runs/soup_rounds/<SEED1>_<SEED2>/. LR is the Adam
# learning rate of both runs (session 10's cool-down rounds use 1e-4). EMA_DECAY (e.g. 0.999): both runs
# keep a weight average (`pretrain --ema-decay`) and the soup averages the runs' averages; the soup of
# their raw weights is written to ROUND/raw_soup and measured beside it, for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  sed -n 2,14p "$0" >&2
  exit 2
fi
S1=$1 S2=$2 BUDGET=${3:-40} LR=${4:-5e-4} EMA=${5:-}
EMA_ARGS=()
[ -n "$EMA" ] && EMA_ARGS=(--ema-decay "$EMA")
DENO="npx -y deno@2.9.6"
ROUND=runs/soup_rounds/${S1}_${S2}
INIT=models/wip/base/cascade.safetensors
export DREAMBOOTH_BLAS_THREADS=1
mkdir -p "$ROUND"
pids=()
for spec in "l1 5 $S1" "l2 20 $S2"; do
  set -- $spec
  mkdir -p "$ROUND/$1"
  $DENO task pretrain --stage base --run "$ROUND/$1/base" --init-from "$INIT" --object-weight "$2" \
    --data-seed "$3" --lr "$LR" "${EMA_ARGS[@]}" --steps 20000 --time-budget-min "$BUDGET" --resume >> "$ROUND/$1/base.log" 2>&1 &
  pids+=($!)
done
echo "round $ROUND: two runs started ($(date -u +%H:%M) UTC, $BUDGET min, lr $LR${EMA:+, weight average $EMA}); logs in $ROUND/l{1,2}/base.log"
wait "${pids[@]}"
for l in l1 l2; do
  $DENO run -A training/export_cli.ts --runs "$ROUND/$l" --stages base --out "$ROUND/export_$l"
  if [ -n "$EMA" ]; then
    $DENO run -A training/export_cli.ts --runs "$ROUND/$l" --stages base --out "$ROUND/export_${l}_raw" --raw-weights
  fi
done
if [ -n "$EMA" ]; then
  $DENO task average-cascades --inputs "$ROUND/export_l1_raw,$ROUND/export_l2_raw" --out "$ROUND/raw_soup"
  $DENO run -A eval/class_signal.ts --model "$ROUND/raw_soup" | tee "$ROUND/class_signal_raw.txt"
fi
# average-cascades writes a fresh model.json: carry the start's lineage over and add this round
PREV=$(mktemp)
cp models/wip/base/model.json "$PREV"
$DENO task average-cascades --inputs "$ROUND/export_l1,$ROUND/export_l2" --out models/wip/base
$DENO eval "
const prev = JSON.parse(Deno.readTextFileSync('$PREV'));
const path = 'models/wip/base/model.json';
const out = JSON.parse(Deno.readTextFileSync(path));
const steps = out.soup.map((s) => JSON.parse(s.steps)[0][1]);
out.lineage = [...(prev.lineage ?? []), 'round $ROUND: + ' + steps[0] + ' steps weight 5 (seed $S1) and + ' + steps[1] + ' steps weight 20 (seed $S2), $BUDGET min each' + ('$LR' === '5e-4' ? '' : ' at lr $LR') + ('$EMA' ? ', weight average decay $EMA' : '') + ', averaged'];
Deno.writeTextFileSync(path, JSON.stringify(out, null, 2) + '\\n');
"
rm -f "$PREV"
$DENO run -A eval/class_signal.ts --model models/wip/base | tee "$ROUND/class_signal.txt"
